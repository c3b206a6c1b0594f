import type { Sequelize, Transaction } from 'sequelize';
import type { TenantRef } from '../tenant';
import type { SchemaShape } from './catalog';
import type { AuditCheck, AuditInput } from './audit';

/** The slice of Sequelize's dialect `Query` object that routing uses. */
export interface DialectQuery {
  connection: any;
  options: { transaction?: Transaction | null; [key: string]: unknown };
}

/**
 * Runs the query as Sequelize would have (optionally with adjusted SQL text;
 * `parameters: null` sends it without bind parameters, as the driver's plain
 * text query).
 */
export type RunQuery = (sql?: string, parameters?: unknown[] | null) => Promise<unknown>;

/**
 * Everything that differs between PostgreSQL (schema per tenant) and
 * MySQL/MariaDB (database per tenant). The core never asks which dialect it
 * is on; it asks the adapter.
 */
/**
 * `'role'`: the database refuses what routing gets wrong (a tenant role per
 * tenant, statements under `SET LOCAL ROLE`); `'none'`: routing alone.
 */
export type Isolation = 'none' | 'role';

/**
 * Whether a tenant serves requests: `'active'`, or suspended: `'read-only'`
 * (reads are served, writes refused) or `'closed'` (nothing is served).
 */
export type SuspendState = 'active' | 'read-only' | 'closed';

export interface DialectAdapter {
  readonly dialect: 'postgres' | 'mysql';
  /** @default 'none' */
  readonly isolation: Isolation;
  /** Longest schema/database name the server accepts, in bytes. */
  readonly maxNameBytes: number;
  /** Where shared models and tenant-less queries live: `public`, or the connection's database. */
  readonly defaultSchema: string;
  /** True when a tenant may not take this name (the default database, say). */
  isReservedName(name: string): boolean;

  /** CREATE SCHEMA / CREATE DATABASE. Throws `TenantExistsError` when it exists. */
  create(tenant: TenantRef, options?: { transaction?: Transaction }): Promise<void>;
  /** DROP SCHEMA ... CASCADE / DROP DATABASE. Throws `TenantNotFoundError` when missing. */
  drop(tenant: TenantRef, options?: { transaction?: Transaction }): Promise<void>;
  /** Whether the schema/database exists (read inside `transaction` when one is given). */
  exists(tenant: TenantRef, transaction?: Transaction): Promise<boolean>;
  /**
   * Rethrows the error of a query that ran in `tenant`: as `TenantNotFoundError`
   * when the driver says the tenant's schema/database is missing (confirmed in
   * the catalog where the driver's error leaves a doubt), else unchanged.
   */
  translateQueryError(error: unknown, tenant: TenantRef, transaction?: Transaction): Promise<never>;
  /** Names of schemas/databases that start with `prefix`. */
  list(prefix: string): Promise<string[]>;
  /**
   * The tenant's state, or undefined when it does not exist: one catalog
   * lookup, as `exists`. The state lives with the tenant, as a comment on its
   * schema (PostgreSQL) or database (MariaDB) that `setState` writes.
   */
  state(tenant: TenantRef, transaction?: Transaction): Promise<SuspendState | undefined>;
  /** The state of every schema/database that starts with `prefix`, by name. */
  states(prefix: string): Promise<Map<string, SuspendState>>;
  /**
   * Records the tenant's state with it (the schema/database comment). With
   * `isolation: 'role'` a suspended tenant's role also loses its write
   * privileges on the tenant's tables, so the database itself refuses writes.
   */
  setState(tenant: TenantRef, state: SuspendState): Promise<void>;
  /**
   * Whether `list` reads every schema/database of the server, whatever the
   * prefix: true on MySQL/MariaDB (`information_schema.SCHEMATA` by prefix
   * scans the data directory, 27 ms at 10,000 databases), false on
   * PostgreSQL (a name range on `pg_namespace`'s index). Where it does,
   * `createTenant` looks for warm spares only while the spares flag exists
   * (lib/migrations/warm.ts).
   */
  readonly listScansAll: boolean;
  /** Renames a schema/database (warm tenants). */
  rename(from: string, to: string, options?: { transaction?: Transaction }): Promise<void>;
  /** Renames a tenant's schema/database. Throws `TenantExistsError` when `to` exists (also when it appears meanwhile). */
  renameTenant(from: TenantRef, to: TenantRef, options?: { transaction?: Transaction }): Promise<void>;

  /**
   * Runs `fn` while holding the per-tenant migration lock (advisory lock on
   * PostgreSQL, GET_LOCK on MySQL). On PostgreSQL `fn` receives the
   * transaction that holds the lock (`pg_advisory_xact_lock`), so it works
   * behind a transaction-pooling PgBouncer.
   */
  withLock<T>(name: string, fn: (transaction: Transaction | undefined) => Promise<T>, options?: LockOptions): Promise<T>;
  /**
   * True when `withLock` holds a pooled connection of its own besides the
   * connection(s) `fn` uses (MySQL's GET_LOCK); false when the lock lives in
   * the transaction it passes to `fn` (PostgreSQL).
   */
  readonly lockHoldsConnection: boolean;
  /**
   * Whether DDL takes part in transactions (PostgreSQL), so a failed
   * migration is undone entirely; false where DDL commits at once
   * (MySQL/MariaDB): a failure leaves what ran before it, and a tenant being
   * created is dropped again instead of rolled back.
   */
  readonly transactionalDdl: boolean;
  /**
   * Whether `schema` has a table or view named `table`: one catalog lookup by
   * name whose cost does not depend on the number of tenants.
   */
  tableExists(schema: string, table: string, options?: QueryOptions): Promise<boolean>;
  /** The base tables of `schema`, sorted (one catalog lookup by name). */
  tables(schema: string, options?: QueryOptions): Promise<string[]>;
  /**
   * Empties every base table of the tenant except those named in `keep`, and
   * restarts their identities/auto-increments (the test kit's `reset()`).
   * No connection setting outlives it.
   * @throws TenantNotFoundError when the schema/database does not exist
   */
  emptyTables(tenant: TenantRef, keep: readonly string[]): Promise<void>;
  /**
   * The tables of these schemas/databases with their columns (type,
   * nullability, default), indexes and constraints, read in a few
   * statements for all of them (drift, doctor).
   */
  readCatalog(schemas: readonly string[]): Promise<Map<string, SchemaShape>>;
  /** The statement that drops a schema/database by hand, for a message (`DROP SCHEMA "x" CASCADE;`). */
  dropSql(name: string): string;
  /**
   * The dialect's own doctor checks (roles, search_path, poolers, held
   * migration locks), each a few statements whatever the number of tenants.
   */
  audits(input: AuditInput): AuditCheck[];
  /** Names of the schemas/databases starting with `prefix` that contain a table named `table` (one catalog query). */
  schemasWithTable(prefix: string, table: string): Promise<string[]>;

  /**
   * Runs a raw query (one Sequelize did not qualify) so that unqualified
   * names resolve in `tenant`, or in the default schema/database when
   * `tenant` is undefined. No connection setting may outlive what needs it.
   */
  route(query: DialectQuery, sql: string, parameters: unknown[] | undefined, tenant: TenantRef | undefined, run: RunQuery, qualified?: boolean): Promise<unknown>;

  /**
   * True when `route` would send the statement as it is, at once: the
   * caller then sends it itself, with no frames of `route` on the stack of
   * the driver call (Sequelize captures that stack with `new Error()` for
   * every statement).
   */
  sendsAsIs(query: DialectQuery, sql: string, parameters: unknown[] | undefined, tenant: TenantRef | undefined): boolean;

  /**
   * Tenant roles (`isolation: 'role'` on PostgreSQL), an optional capability
   * like `cluster`: undefined where tenants have no roles of their own.
   */
  readonly roles: RoleOperations | undefined;

  /**
   * Whether model queries, whose tables Sequelize has already qualified, still
   * go through `route`. False on PostgreSQL (an unqualified name in a literal
   * resolves in the default schema, never in another tenant) unless
   * `isolation: 'role'` (the tenant role must be set for them); true on MySQL,
   * where it would resolve in whatever database the connection has selected.
   */
  readonly routesQualifiedQueries: boolean;

  /**
   * Installs what the dialect changes in Sequelize (the query generator where
   * it renders tenant tables wrongly, ...). Called once, after every check
   * passed: constructing an adapter changes nothing.
   */
  install(): void;

  /**
   * `sql` with `comment` (a complete block comment) appended where it cannot
   * change the statement under any mode the session may be in, or undefined
   * when the statement ends inside a literal or comment (then nothing may be
   * appended: it could close what the statement left open).
   */
  appendComment(sql: string, comment: string): string | undefined;

  /**
   * The driver's result as Sequelize's dialect `Query#formatResults`
   * expects it: where a driver version changed its shape, it is adapted
   * here, before Sequelize reads it. Undefined where no driver needs it:
   * then results reach Sequelize untouched, with no call per statement.
   */
  readonly driverResults: ((data: unknown) => unknown) | undefined;

  /**
   * The statements to send one at a time, in one transaction, instead of
   * `sql` (which holds several), or undefined to send `sql` as it is. Citus
   * forwards tenant DDL to its workers over a protocol that takes one
   * statement, so multi-statement query-generator output is split there.
   */
  splitStatements(sql: string, tenant: TenantRef | undefined): string[] | undefined;

  /** Scale-out operations, on an adapter that distributes tenants over nodes (Citus); undefined elsewhere. */
  readonly cluster: ClusterOperations | undefined;

  /**
   * Tenant scoping of the QueryInterface's methods for the dialect's own
   * schema-level types (PostgreSQL's ENUM types), beside the table methods
   * every dialect shares; undefined where the dialect has none.
   */
  readonly typeScoping?: TypeScoping;

  /** How this dialect reads and writes a tenant's rows for `exportTenant`/`importTenant` (loaded on first use). */
  readonly archive: ArchiveOperations;
}

/** What a dialect with schema-level types (PostgreSQL's ENUMs) scopes to the tenant. */
export interface TypeScoping {
  /** QueryInterface methods whose table argument, when missing, means every type of the tenant's schema. */
  readonly listMethods: readonly string[];
  /** The statement dropping the type `name` in the tenant's schema, for a bare (unqualified) name. */
  dropTypeSql(tenant: TenantRef, name: string): string;
  /** The QueryInterface method that drops a type by its bare name. */
  readonly dropMethod: string;
}

/** A table of a tenant archive: its name and columns (lib/archive/format.ts). */
export interface ArchiveTableShape {
  readonly name: string;
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>;
}

/**
 * Tenant export/import (lib/archive): what differs by dialect. Rows travel
 * as text lines in the dialect's `encoding`, as bytes (chunks of many rows,
 * never a string or a promise per row); everything else (the archive
 * format, checksums, the flow) is shared.
 */
export interface ArchiveOperations {
  /** How rows are written: `'pg-copy-text'` / `'mysql-json'`. */
  readonly encoding: string;
  /**
   * True when an import runs in one transaction (PostgreSQL: DDL is
   * transactional); false when it is built under a temporary name and
   * renamed at the end (MySQL/MariaDB).
   */
  readonly transactional: boolean;
  /**
   * Runs `fn` in one consistent, read-only snapshot (PostgreSQL
   * `REPEATABLE READ, READ ONLY`; MySQL/MariaDB a consistent-snapshot
   * transaction) on a connection of its own.
   */
  snapshot<T>(tenant: TenantRef, fn: (transaction: Transaction) => Promise<T>): Promise<T>;
  /** The server's version string. */
  serverVersion(transaction?: Transaction): Promise<string>;
  /** The tenant's tables but `skip`, with their columns, parents before the tables that reference them. */
  tables(tenant: TenantRef, skip: readonly string[], transaction?: Transaction): Promise<ArchiveTableShape[]>;
  /** A table's rows, one encoded line each ending in `\n`, streamed (flat memory) in chunks cut anywhere. */
  rows(tenant: TenantRef, table: ArchiveTableShape, transaction?: Transaction): AsyncIterable<Buffer>;
  /** Loads encoded rows into a table of a tenant being imported: chunks of whole lines, each ending in `\n`. */
  load(tenant: TenantRef, table: ArchiveTableShape, rows: AsyncIterable<Buffer>, transaction?: Transaction): Promise<void>;
  /** Sets sequences / AUTO_INCREMENT past the highest ids. */
  resetCounters(tenant: TenantRef, transaction?: Transaction): Promise<void>;
}

/** A database node: where a tenant lives, or where to move it. */
export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** What a distributing adapter (Citus) adds: placement, moves, reference tables. */
export interface ClusterOperations {
  /** Resolves when the server is a usable cluster; ConfigurationError when it is not (no Citus 12+). */
  ready(): Promise<void>;
  /** The node holding the tenant's tables, or undefined while it has none. */
  placement(tenant: TenantRef): Promise<NodeAddress | undefined>;
  /** The placement of every distributed tenant schema starting with `prefix`, by schema name. */
  placements(prefix: string): Promise<Map<string, NodeAddress | undefined>>;
  /** Moves the tenant's tables to `target` online (`mode`: Citus's shard_transfer_mode); where they were. */
  move(tenant: TenantRef, target: NodeAddress, mode: string): Promise<{ from: NodeAddress; moved: boolean }>;
  /** Makes a shared table a reference table; false when it already is one. */
  reference(table: { tableName: string; schema: string }): Promise<boolean>;
  /** Distributes an existing tenant's schema; false when it already is distributed. */
  distribute(tenant: TenantRef): Promise<boolean>;
}

/** How `withLock` behaves when another process holds the lock. */
export interface LockOptions {
  /** Throw this instead of waiting for the lock (renameTenant refuses while a tenant migrates). */
  busy?: () => Error;
}

/** Query options a catalog look-up passes on (the caller's transaction, logging). */
export interface QueryOptions {
  transaction?: Transaction | null;
  [option: string]: unknown;
}

export interface AdapterContext {
  sequelize: Sequelize;
  /** Runs `fn` with raw-SQL routing off (admin statements are already qualified). */
  unrouted<T>(fn: () => Promise<T>): Promise<T>;
  /** @default 'none' */
  isolation?: Isolation;
  /** The tenant prefix (names the group role of `isolation: 'role'`). */
  prefix?(): string;
  /** The tenant key of a schema/database name, or undefined (error messages). */
  keyOf?(name: string): string | undefined;
  /** The shared models' tables, as `{ tableName, schema }` (granted to tenant roles). */
  sharedTables?(): Array<{ tableName: string; schema: string }>;
  /** Runs `fn` with `tenant` in context: its raw statements are routed (search_path, role). */
  routed?<T>(tenant: TenantRef, fn: () => Promise<T>): Promise<T>;
}

/** What an adapter whose tenants have roles of their own adds (PostgreSQL's `isolation: 'role'`). */
export interface RoleOperations {
  /** Creates and grants the roles of existing tenants (and warm spares), idempotent. */
  sync(tenants: readonly TenantRef[]): Promise<RolesResult>;
  /** Grants the shared models' tables to the group role every tenant role is in. */
  grantShared(): Promise<void>;
  /**
   * Makes a tenant's bookkeeping table (`table`, quoted and qualified)
   * readable by tenant-less statements (migration status reads every
   * tenant's SequelizeMeta in one statement).
   */
  readableByApp(tenant: TenantRef, table: string, options?: { transaction?: Transaction }): Promise<void>;
}

/** What `syncRoles` did. */
export interface RolesResult {
  /** Tenants (and warm spares) whose role exists and is granted now. */
  tenants: number;
  /** Roles this call created. */
  created: number;
  /** The group role every tenant role is in (undefined without roles). */
  group: string | undefined;
  /** The shared models' tables granted to the group role (`schema.table`); only the models the Apartment knows. */
  shared: string[];
}

/** Statements that start, end or shape a transaction: never routed. */
export const TRANSACTION_CONTROL =
  /^\s*(?:START\s+TRANSACTION|BEGIN|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|SET\s+(?:TRANSACTION|SESSION\s+CHARACTERISTICS|SESSION\s+TRANSACTION|CONSTRAINTS|LOCAL\s+TRANSACTION|autocommit))\b/i;
