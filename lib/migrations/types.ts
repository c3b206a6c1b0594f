import type { Transaction } from 'sequelize';
import type { TenantRef } from '../tenant';
import type { MigrationResult } from '../types';

/** Runs more steps in a tenant being created, in createTenant's lock and transaction (seeders after migrations). */
export type AfterCreate = (tenant: TenantRef, transaction: Transaction | undefined) => Promise<string[]>;

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

/** Options of `createTenant`. */
export interface CreateTenantOptions {
  /**
   * Run the tenant seeders after the migrations, in the same lock (and
   * transaction on PostgreSQL).
   * @default the `seedAfterCreate` option (false)
   */
  seed?: boolean;
}

/** Options of `seedTenant`. */
export interface SeedOptions {
  /**
   * `up` runs pending seeders; `down` reverts seeded ones (the last one,
   * the `only` ones, or with `all` every one).
   * @default 'up'
   */
  direction?: 'up' | 'down';
  /** Only these seeder files (names with or without the extension). @default every seeder */
  only?: string | string[];
  /** `down`: revert every seeded one (db:seed:undo:all). @default false */
  all?: boolean;
}

/** Options of `seedAll`. */
export interface SeedAllOptions extends SeedOptions {
  /** How many tenants seed at once. @default as many as the connection pool allows */
  concurrency?: number;
  /** Called once per tenant as soon as its result is known. */
  onProgress?(result: MigrationResult): void;
}

/**
 * What a migrate run with the same options would do in one tenant, read from
 * the catalog without changing anything (`migrationPlan`, `migrationPlanAll`).
 */
export interface TenantMigrationPlan {
  /** The tenant key. */
  tenant: string;
  /** Its schema/database name. */
  schema: string;
  /** The direction of the run this plan is for. */
  direction: 'up' | 'down';
  /** Migrations the run would apply (in order) or revert (newest first); empty when there is nothing to do. */
  versions: string[];
  /** The tenant's last applied migration (the newest file name in its SequelizeMeta), or `null` when none is. */
  last: string | null;
}
