import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Sequelize } from 'sequelize';
import { ConfigurationError } from '../errors';

/** The app's own Sequelize: its constructor, version and where it was found. */
export interface AppSequelize {
  readonly Sequelize: typeof Sequelize;
  readonly version: string;
  /** The resolved package folder (node_modules/sequelize, or what a link there points to). */
  readonly dir: string;
}

/**
 * Loads `sequelize` as the app in `cwd` would (`require('sequelize')` from a
 * file in `cwd`), like sequelize-cli does, never this package's own copy: the
 * app's models, migrations and association classes come from that copy, and
 * a second copy would build instances the app's code does not recognise.
 * @throws ConfigurationError when the project has no `sequelize`
 */
export function loadAppSequelize(cwd: string): AppSequelize {
  const from = createRequire(path.join(cwd, 'noop.js'));
  let entry: string;
  try {
    entry = from.resolve('sequelize');
  } catch (error) {
    throw new ConfigurationError(
      `Cannot find the package \`sequelize\` from ${cwd}. The CLI uses your app's own Sequelize: run it from your app's folder, or install it there (npm install sequelize, plus the driver: pg pg-hstore, or mysql2).`,
      { cause: error },
    );
  }
  const loaded = from(entry) as { Sequelize?: typeof Sequelize } & typeof Sequelize;
  const ctor = (loaded.Sequelize ?? loaded) as typeof Sequelize;
  if (typeof ctor !== 'function' || typeof (ctor.prototype as any)?.getQueryInterface !== 'function') {
    throw new ConfigurationError(`The \`sequelize\` found at ${entry} does not export Sequelize. Reinstall it (npm install sequelize@6).`);
  }
  let dir = path.dirname(entry);
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const version = (ctor as unknown as { version?: string }).version ?? readVersion(dir);
  return { Sequelize: ctor, version, dir };
}

function readVersion(dir: string): string {
  try {
    return String(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}
