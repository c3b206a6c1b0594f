import { DATA_TABLE, META_TABLE } from './storage';

/**
 * What tenant migrations and tenant seeders differ in. Both are sequelize-cli
 * files run by the same umzug runner (migrator.ts) under the tenant's lock;
 * only the folder, the table that records them, and a few words differ.
 */
export interface StepKind {
  /** `'migration'` or `'seeder'`, for messages. */
  readonly noun: 'migration' | 'seeder';
  /** The table in each tenant that records what ran: sequelize-cli's `SequelizeMeta` / `SequelizeData`. */
  readonly table: string;
  /** Absolute path of the folder, or `false`: there are none. */
  readonly folder: string | false;
  /** A missing folder is an error everywhere (it was configured), not only where files are needed. */
  readonly required: boolean;
  /** A missing (unconfigured) folder means "none" everywhere, not only for createTenant. */
  readonly missingIsEmpty: boolean;
  /** How to point at the folder, for messages. */
  readonly how: string;
  /** A failure undoes the whole run (seeders); else only the failing step (migrations). */
  readonly wholeRun: boolean;
}

/** Tenant migrations: `migrationsPath`, recorded in `SequelizeMeta`. */
export function migrationsKind(folder: string): StepKind {
  return {
    noun: 'migration',
    table: META_TABLE,
    folder,
    required: false,
    missingIsEmpty: false,
    how: "set `migrationsPath` (CLI: --migrations-path, or 'tenant-migrations-path' in .sequelizerc) to the folder that holds them",
    wholeRun: false,
  };
}

/** Tenant seeders: `seedersPath`, recorded in `SequelizeData`. `explicit`: the app configured the folder. */
export function seedersKind(folder: string | false, explicit: boolean): StepKind {
  return {
    noun: 'seeder',
    table: DATA_TABLE,
    folder,
    required: explicit,
    missingIsEmpty: !explicit,
    how: "set `seedersPath` (CLI: --seeders-path, or 'tenant-seeders-path' in .sequelizerc) to the folder that holds them, or `false` for none",
    wholeRun: true,
  };
}
