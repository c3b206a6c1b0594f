import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError, describeValue } from '../errors';

/** migration-templates/ at the package root (dist/lib/cli -> ../../..). */
export const TEMPLATES = path.resolve(__dirname, '..', '..', '..', 'migration-templates');

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Writes `YYYYMMDDHHMMSS-<name>.js` (or `.ts`) from migration-templates/ into
 * the migrations folder, creating the folder. The timestamp is UTC, as
 * sequelize-cli's; it moves on a second when the folder already has that version.
 * `content`, when given, is written instead of the template.
 * @returns the absolute path of the new file
 */
export function generateMigration(folder: string, name: unknown, ts: boolean, now = new Date(), content?: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ConfigurationError(
      `Expected \`--name\` to be a file-name-safe migration name (letters, digits, ".", "_", "-"), got ${describeValue(name)}. Example: --name create-widgets`,
    );
  }
  fs.mkdirSync(folder, { recursive: true });
  const taken = new Set(fs.readdirSync(folder).map((file) => /^(\d+)/.exec(file)?.[1]).filter(Boolean));
  let time = now.getTime();
  while (taken.has(stamp(new Date(time)))) time += 1000;
  const file = path.join(folder, `${stamp(new Date(time))}-${name}.${ts ? 'ts' : 'js'}`);
  if (content !== undefined) fs.writeFileSync(file, content, { flag: 'wx' });
  else fs.copyFileSync(path.join(TEMPLATES, ts ? 'migration.ts' : 'migration.js'), file, fs.constants.COPYFILE_EXCL);
  return file;
}

function stamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}`;
}
