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


/**
 * How a fleet run (`migrateAll`, `seedAll`) picks and orders its tenants: a
 * canary first, then waves, each wave's failures checked before the next
 * starts. Without `canary`, `waves` and `waveSize` the run is one wave that
 * continues past failures, as before.
 */
export interface FleetOptions {
  /**
   * Only these tenant keys. Every key must exist (a TenantNotFoundError
   * before anything runs names the missing ones).
   * @default every tenant
   */
  tenants?: string[];
  /** Leave these tenant keys out (keys that do not exist are ignored). */
  skipTenants?: string[];
  /**
   * Tenants that run first, alone: a number (the first n tenants with work,
   * in key order) or tenant keys. If any canary tenant fails, nothing else
   * runs: the others get a `FleetStoppedError` result.
   * @example { canary: ['internal', 'demo'] }
   */
  canary?: number | string[];
  /** Split the tenants after the canary into this many waves of about equal size. */
  waves?: number;
  /** Or: waves of this many tenants (not both). */
  waveSize?: number;
  /**
   * Failures a wave may have before the run stops (the next wave does not
   * start): a number, or a percentage of the wave's tenants like `'5%'`.
   * @default 0 with `canary`, `waves` or `waveSize`; no limit without them
   */
  maxFailures?: number | string;
  /** Called after each wave (the canary is wave 0 when there is one). */
  onWave?(wave: WaveReport): void;
  /**
   * Record the run, per tenant, in the fleet ledger (tables
   * `apartment_fleet_runs` and `apartment_fleet_tenants` of the default
   * schema/database; docs/guides/running-a-fleet.md). The CLI always does.
   * @default false
   */
  ledger?: boolean;
  /**
   * Continue the last recorded run of this prefix that did not finish, or
   * finished with failures: only its failed tenants and those it did not
   * reach, in its direction and up to its `to`. Recorded in the ledger
   * (implies `ledger`). Returns no results when there is nothing to resume.
   * @default false
   */
  resume?: boolean;
}

/** What `onWave` receives after each wave. */
export interface WaveReport {
  /** 0, 1, ...: the canary is wave 0 when there is one. */
  index: number;
  /** How many waves the run has (canary included). */
  total: number;
  canary: boolean;
  /** The wave's tenant keys. */
  tenants: string[];
  /** Those that failed. */
  failed: string[];
  /** True when this wave's failures stop the run. */
  stopped: boolean;
}

/** Options of `migrateAll`. */
export interface MigrateAllOptions extends MigrateOptions, FleetOptions {
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
export interface SeedAllOptions extends SeedOptions, FleetOptions {
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
