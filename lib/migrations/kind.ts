import { DATA_TABLE, META_TABLE } from './storage';

/**
 * What tenant migrations and tenant seeders differ in. Both are sequelize-cli
 * files run by the same umzug runner (migrator.ts) under the tenant's lock;
 * only the folder, the table that records them, and a few words differ.
 */
export interface StepKind {
  /** `'migration'` or `'seeder'`, for messages. */
  readonly noun: 'migration' | 'seeder';
  /** The Apartment option that names the folder, for messages. */
  readonly option: 'migrationsPath' | 'seedersPath';
  /** The table in each tenant that records what ran: sequelize-cli's `SequelizeMeta` / `SequelizeData`. */
  readonly table: string;
  /**
   * Absolute path of the folder, or `false`: the app has none. A folder that
   * does not exist is a `ConfigurationError` wherever its files are needed,
   * default or configured: a relative path depends on where the app was
   * started, and running nothing there would go unnoticed.
   */
  readonly folder: string | false;
  /** How to point at the folder, for messages. */
  readonly how: string;
  /** A failure undoes the whole run (seeders); else only the failing step (migrations). */
  readonly wholeRun: boolean;
}

/** Tenant migrations: `migrationsPath`, recorded in `SequelizeMeta`. */
export function migrationsKind(folder: string | false): StepKind {
  return {
    noun: 'migration',
    option: 'migrationsPath',
    table: META_TABLE,
    folder,
    how: "pass an absolute `migrationsPath` (e.g. path.join(__dirname, 'tenant-migrations')), or `migrationsPath: false` if this app has no tenant migrations (CLI: --migrations-path, or 'tenant-migrations-path' in .sequelizerc)",
    wholeRun: false,
  };
}

/** Tenant seeders: `seedersPath`, recorded in `SequelizeData`. */
export function seedersKind(folder: string | false): StepKind {
  return {
    noun: 'seeder',
    option: 'seedersPath',
    table: DATA_TABLE,
    folder,
    how: "pass an absolute `seedersPath` (e.g. path.join(__dirname, 'tenant-seeders')), or `seedersPath: false` if this app has no tenant seeders (CLI: --seeders-path, or 'tenant-seeders-path' in .sequelizerc)",
    wholeRun: true,
  };
}
