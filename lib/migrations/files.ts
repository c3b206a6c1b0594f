import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError } from '../errors';

/** One tenant migration file. */
export interface MigrationFile {
  /** The file name, as stored in SequelizeMeta (sequelize-cli's convention). */
  readonly name: string;
  /** Absolute path. */
  readonly path: string;
  /** The file name's leading number, e.g. `'20260101120000'`. */
  readonly version: string;
}

/** What a migration file exports (sequelize-cli's shape). */
export interface MigrationModule {
  up(queryInterface: unknown, Sequelize: unknown): unknown;
  down?(queryInterface: unknown, Sequelize: unknown): unknown;
}

const JS_EXTENSIONS = ['.js', '.cjs', '.mjs'];
const NAME_PATTERN = /^(\d+)[-_.].*\.(?:c?js|mjs|ts)$/;

/** Whether this process can `require` TypeScript (ts-node, tsx, ...). */
export function canLoadTypeScript(): boolean {
  // require.extensions is deprecated but is still where loaders (ts-node, tsx) register.
  return Boolean((require as any).extensions?.['.ts']);
}

/**
 * The migration files in `folder`, ordered by file name. A missing folder is
 * `undefined` (the caller decides whether that is an error). `.ts` files are
 * listed when this process can load TypeScript, or when no JavaScript file of
 * the same name sits beside them (so a TypeScript migration is never silently
 * skipped: loading it fails with a message that says what to do).
 */
export function listMigrationFiles(folder: string): MigrationFile[] | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new ConfigurationError(`The tenant migrations path ${folder} is a file, not a folder. Point \`migrationsPath\` at the folder of migration files.`, { cause: error });
    }
    throw error;
  }
  const ts = canLoadTypeScript();
  const names = new Set(entries);
  const files: MigrationFile[] = [];
  for (const name of entries.sort()) {
    const match = NAME_PATTERN.exec(name);
    if (!match || name.endsWith('.d.ts')) continue;
    if (name.endsWith('.ts') && !ts) {
      const base = name.slice(0, -3);
      if (JS_EXTENSIONS.some((ext) => names.has(base + ext))) continue;
    }
    files.push({ name, path: path.join(folder, name), version: match[1]! });
  }
  return files;
}

// TypeScript compiles `import()` to `require()` under CommonJS; keep a real dynamic import.
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<any>;

/** Loads a migration file: `require` for .js/.cjs/.ts, dynamic `import()` for .mjs and ESM .js. */
export async function loadMigration(file: MigrationFile): Promise<MigrationModule> {
  const ext = path.extname(file.name);
  let loaded: any;
  if (ext === '.ts' && !canLoadTypeScript()) {
    throw new ConfigurationError(
      `Cannot load the TypeScript migration ${file.name}: this process cannot require .ts files. Run it with a TypeScript loader (node -r ts-node/register, tsx) or compile the migrations to JavaScript.`,
    );
  }
  if (ext === '.mjs') {
    loaded = await importModule(pathToFileURL(file.path).href);
  } else {
    try {
      loaded = require(file.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw error;
      loaded = await importModule(pathToFileURL(file.path).href);
    }
  }
  const candidate = typeof loaded?.up === 'function' ? loaded : loaded?.default;
  if (!candidate || typeof candidate.up !== 'function') {
    throw new ConfigurationError(
      `Migration ${file.name} does not export an \`up\` function. Export \`module.exports = { async up(queryInterface, Sequelize) {}, async down(queryInterface, Sequelize) {} }\` (or ESM \`export async function up\`).`,
    );
  }
  return candidate as MigrationModule;
}

/** The version of `to` (a number, a version string or a file name), normalised for comparison. */
export function versionOf(to: string | number): string | undefined {
  const text = String(to);
  const match = /^(\d+)/.exec(text);
  return match ? BigInt(match[1]!).toString() : undefined;
}

/** Index of the file whose version equals `to`, or -1. */
export function indexOfVersion(files: readonly MigrationFile[], to: string | number): number {
  const wanted = versionOf(to);
  if (wanted === undefined) return -1;
  const byName = files.findIndex((f) => f.name === String(to));
  if (byName !== -1) return byName;
  return files.findIndex((f) => BigInt(f.version).toString() === wanted);
}
