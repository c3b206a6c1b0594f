import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Options } from 'sequelize';
import { ConfigurationError, describeValue, sentence } from '../errors';

/** Flags shared by every command (commander's camel-cased names). */
export interface GlobalFlags {
  url?: string;
  migrationsPath?: string;
  seedersPath?: string;
  prefix?: string;
  env?: string;
  config?: string;
  optionsPath?: string;
  json?: boolean;
  debug?: boolean;
  /** A module exporting the app's Apartment instance (`--apartment`). */
  apartment?: string;
  /** `--distribute citus`: the Apartment option `distribute`. */
  distribute?: string;
}

/** Where the database comes from, ready for `new Sequelize(...)`. */
export type Connection =
  | { url: string; options: Options; source: string }
  | { database: string; username?: string; password?: string; options: Options; source: string };

/** The `.sequelizerc` keys this CLI reads (sequelize-cli's, plus two of its own). */
interface RcFile {
  config?: string;
  url?: string;
  env?: string;
  'tenant-migrations-path'?: string;
  'tenant-seeders-path'?: string;
  'tenant-prefix'?: string;
  /** The Apartment option `distribute` (as `--distribute`): 'citus'. */
  'tenant-distribute'?: string;
  /** The module exporting the app's Apartment instance (as `--apartment`). */
  apartment?: string;
}

/** Keys of a config section that are sequelize-cli's own, not Sequelize options. */
const CLI_ONLY_KEYS = [
  'username', 'password', 'database', 'url', 'use_env_variable', 'logging',
  'migrationStorage', 'migrationStoragePath', 'migrationStorageTableName', 'migrationStorageTableSchema',
  'seederStorage', 'seederStoragePath', 'seederStorageTableName',
];

const NO_DATABASE = 'No database configured. Pass --url <url>, set `url` or `config` in .sequelizerc, add a section for the environment to config/config.json (as for sequelize-cli), or set DATABASE_URL.';

/** Reads `.sequelizerc` (or `--options-path`) from `cwd`; `{}` when there is none. */
export function loadRcFile(cwd: string, optionsPath?: string): RcFile {
  const file = path.resolve(cwd, optionsPath ?? '.sequelizerc');
  if (!fs.existsSync(file)) {
    if (optionsPath) throw new ConfigurationError(`The options file ${file} (--options-path) does not exist. Fix the path or drop the flag.`);
    return {};
  }
  let loaded: unknown;
  try {
    // .sequelizerc has no extension: load it as CommonJS, as sequelize-cli does.
    const Module = require('node:module') as { createRequire(file: string): NodeRequire };
    loaded = Module.createRequire(file)(file);
  } catch (error) {
    throw new ConfigurationError(`Could not load ${file}: ${sentence((error as Error).message)} It must be a CommonJS module (module.exports = { ... }).`, { cause: error });
  }
  if (!loaded || typeof loaded !== 'object') {
    throw new ConfigurationError(`Expected ${file} to export an object, got ${describeValue(loaded)}.`);
  }
  return loaded as RcFile;
}

/** The environment whose config section is used: `--env` > .sequelizerc `env` > NODE_ENV > development. */
export function environment(flags: GlobalFlags, rc: RcFile): string {
  return flags.env || rc.env || process.env.NODE_ENV || 'development';
}

/** Tenant prefix, migrations and seeders folders, `distribute`: flag > .sequelizerc > default. */
export function tenantSettings(cwd: string, flags: GlobalFlags, rc: RcFile): { prefix: string; migrationsPath: string; seedersPath: string; distribute?: 'citus' } {
  const distribute = flags.distribute ?? rc['tenant-distribute'];
  if (distribute !== undefined && distribute !== 'citus') {
    throw new ConfigurationError(`Expected ${flags.distribute !== undefined ? '`--distribute`' : "`tenant-distribute` in .sequelizerc"} to be 'citus' (or left out), got ${describeValue(distribute)}.`);
  }
  return {
    ...(distribute ? { distribute } : {}),
    prefix: flags.prefix ?? rc['tenant-prefix'] ?? 'tenant_',
    migrationsPath: path.resolve(cwd, flags.migrationsPath ?? rc['tenant-migrations-path'] ?? 'tenant-migrations'),
    seedersPath: path.resolve(cwd, flags.seedersPath ?? rc['tenant-seeders-path'] ?? 'tenant-seeders'),
  };
}

/**
 * The database, first found wins: `--url`, `--config`, .sequelizerc `url`,
 * .sequelizerc `config` (or config/config.js, config/config.json), DATABASE_URL.
 */
export async function resolveConnection(cwd: string, flags: GlobalFlags, rc: RcFile): Promise<Connection> {
  if (flags.url) return { url: flags.url, options: {}, source: '--url' };
  const env = environment(flags, rc);
  if (flags.config) {
    const found = await fromConfigFile(path.resolve(cwd, flags.config), env, '--config');
    if (found) return found;
  } else if (rc.url) {
    return { url: rc.url, options: {}, source: '.sequelizerc url' };
  } else {
    const file = rc.config ? path.resolve(cwd, rc.config) : defaultConfigFile(cwd);
    const found = file ? await fromConfigFile(file, env, rc.config ? '.sequelizerc config' : undefined) : undefined;
    if (found) return found;
  }
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, options: {}, source: 'DATABASE_URL' };
  throw new ConfigurationError(NO_DATABASE);
}

/** sequelize-cli's default: config/config.js when it exists, else config/config.json. */
function defaultConfigFile(cwd: string): string | undefined {
  for (const name of ['config.js', 'config.cjs', 'config.json']) {
    const file = path.join(cwd, 'config', name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

async function fromConfigFile(file: string, env: string, named: string | undefined): Promise<Connection | undefined> {
  if (!fs.existsSync(file)) {
    throw new ConfigurationError(`The config file ${file}${named ? ` (${named})` : ''} does not exist. Fix the path or create the file (sequelize-cli's config/config.json shape).`);
  }
  const whole = await loadModule(file);
  if (!whole || typeof whole !== 'object') {
    throw new ConfigurationError(`Expected ${file} to export an object with one section per environment, got ${describeValue(whole)}.`);
  }
  const sections = whole as Record<string, unknown>;
  // A file without environment sections is one flat config (sequelize-cli accepts both).
  const flat = 'dialect' in sections || 'url' in sections || 'use_env_variable' in sections;
  const section = flat ? sections : sections[env];
  const label = `${path.relative(process.cwd(), file) || file} (${flat ? 'flat' : env})`;
  if (section === undefined) {
    if (process.env.DATABASE_URL) return undefined;
    throw new ConfigurationError(`${file} has no "${env}" section. Add one (as for sequelize-cli), choose another environment with --env or NODE_ENV, or set DATABASE_URL.`);
  }
  if (!section || typeof section !== 'object') {
    throw new ConfigurationError(`Expected the "${env}" section of ${file} to be an object, got ${describeValue(section)}.`);
  }
  return fromSection(section as Record<string, unknown>, label);
}

function fromSection(section: Record<string, unknown>, source: string): Connection {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) if (!CLI_ONLY_KEYS.includes(key)) options[key] = value;
  if (typeof section.url === 'string') return { url: section.url, options: options as Options, source };
  if (typeof section.use_env_variable === 'string') {
    const url = process.env[section.use_env_variable];
    if (!url) {
      throw new ConfigurationError(`${source} reads the database URL from $${section.use_env_variable} (use_env_variable), which is not set. Set it, or pass --url.`);
    }
    return { url, options: options as Options, source: `${source} via $${section.use_env_variable}` };
  }
  if (typeof section.dialect !== 'string') {
    throw new ConfigurationError(`${source} has no \`dialect\` (postgres, mysql or mariadb). Add it, or use \`url\` / \`use_env_variable\`.`);
  }
  return {
    database: String(section.database ?? ''),
    username: section.username == null ? undefined : String(section.username),
    password: section.password == null ? undefined : String(section.password),
    options: options as Options,
    source,
  };
}

async function loadModule(file: string): Promise<unknown> {
  let loaded = await importFile(file, 'the config file');
  // sequelize-cli accepts a function returning (a promise of) the config.
  if (typeof loaded === 'function') loaded = await (loaded as () => unknown)();
  return loaded;
}

/**
 * Loads a .js/.cjs/.mjs/.json file as the app's code would, its ESM `default`
 * unwrapped. `what` names the file in the error when it cannot be loaded.
 * @throws ConfigurationError when loading throws
 */
export async function importFile(file: string, what: string): Promise<unknown> {
  let loaded: unknown;
  try {
    if (file.endsWith('.json')) {
      loaded = JSON.parse(fs.readFileSync(file, 'utf8'));
    } else if (file.endsWith('.mjs')) {
      // A real dynamic import (TypeScript's CommonJS output would turn `import()` into `require`).
      const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;
      loaded = await importEsm(pathToFileURL(file).href);
    } else {
      loaded = require(file);
    }
  } catch (error) {
    throw new ConfigurationError(`Could not load ${what} ${file}: ${sentence((error as Error).message)}`, { cause: error });
  }
  const esm = loaded && typeof loaded === 'object' && ((loaded as any)[Symbol.toStringTag] === 'Module' || (loaded as any).__esModule);
  if (esm && 'default' in (loaded as object)) {
    loaded = (loaded as { default: unknown }).default;
  }
  return loaded;
}
