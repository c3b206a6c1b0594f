import type { MigrationResult } from '../types';

/** Options of `migrateTenant`. */
export interface MigrateOptions {
  /**
   * `up` applies pending migrations; `down` reverts applied ones.
   * @default 'up'
   */
  direction?: 'up' | 'down';
  /**
   * `up`: apply up to and including this version (default: all pending).
   * `down`: revert back to and including this version (default: only the last applied).
   * The version is the migration file name's leading number, e.g. `20260101120000`.
   */
  to?: string | number;
}

/** Options of `migrateAll`. */
export interface MigrateAllOptions extends MigrateOptions {
  /**
   * How many tenants migrate at once.
   * @default as many as the connection pool allows
   */
  concurrency?: number;
  /** Called once per tenant as soon as its result is known. */
  onProgress?(result: MigrationResult): void;
}

/** What `migrationStatus` reports for one tenant. */
export interface MigrationStatus {
  /** Versions applied in this tenant, oldest first (file names as stored in SequelizeMeta). */
  executed: string[];
  /** Migration files not applied yet, in the order they would run. */
  pending: string[];
}

/** `MigrationStatus` of one tenant, as `migrationStatusAll` lists it. */
export interface TenantMigrationStatus extends MigrationStatus {
  /** The tenant key. */
  tenant: string;
  /** Its schema/database name. */
  schema: string;
}
