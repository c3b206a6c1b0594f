import type { Sequelize, Transaction } from 'sequelize';
import { TenantExistsError, TenantNotFoundError } from '../errors';
import { queryGeneratorOf } from '../seam/sequelize';
import type { TenantRef } from '../tenant';
import type { AdapterContext, ArchiveOperations, ClusterOperations, DialectAdapter, DialectQuery, Isolation, LockOptions, QueryOptions, RoleOperations, RunQuery, SuspendState } from './contract';

/**
 * How a suspended tenant's state is written in its schema/database comment:
 * `sequelize-apartment:read-only` or `sequelize-apartment:closed`. Any other
 * comment (or none) means active; resuming clears the comment.
 */
export const STATE_MARK = 'sequelize-apartment:';

/** The state a schema/database comment records. */
export function stateOf(note: unknown): SuspendState {
  if (typeof note === 'string' && note.startsWith(STATE_MARK)) {
    const mode = note.slice(STATE_MARK.length);
    if (mode === 'read-only' || mode === 'closed') return mode;
  }
  return 'active';
}

/** The catalog SQL and driver error codes a dialect supplies to the shared flow. */
export interface CatalogSql {
  /** How a message names the object: `schema "x"` / `database \`x\``. */
  describe(name: string): string;
  create(quoted: string): string;
  drop(quoted: string): string;
  /** One `?`: the name. Returns rows when it exists. */
  exists: string;
  /** The query (and its replacements) for the names that start with `prefix`. Returns `name`, ordered. */
  list(prefix: string): [sql: string, replacements: unknown[]];
  /** Three `?`: table, prefix length, prefix. Returns `name`. */
  withTable: string;
  /**
   * Two `?`: schema, table. Returns a row when the table (or view) exists. A
   * direct catalog lookup by name, so its cost does not grow with the number
   * of tenants (information_schema's plan on PostgreSQL does).
   */
  tableExists: string;
  /** One `?`: schema. Returns `name` of its base tables, ordered. */
  tables: string;
  /** One `?`: the name. Returns `name` and `note` (the schema/database comment) when it exists. */
  state: string;
  /** As `list`, returning `name` and `note`. */
  states(prefix: string): [sql: string, replacements: unknown[]];
  /** Sets (escaped literal) or, with null, clears the schema/database comment. */
  note(quoted: string, escaped: string | null): string;
  /** The driver error of CREATE when the object exists. */
  isDuplicate(driverError: any): boolean;
  /** The driver error of DROP when the object is missing. */
  isMissing(driverError: any): boolean;
  /**
   * A query's driver error saying a schema/database, or a table, does not
   * exist: by error code only (the message is in the server's language), so
   * which one is missing is asked of the catalog.
   */
  isMissingObject(driverError: any): boolean;
}

/**
 * The flow every dialect shares (Apartment's abstract adapter): admin
 * statements, create/drop with driver errors translated into domain errors,
 * and catalog look-ups. Dialects override only the steps that differ.
 */
/** PostgreSQL's and MySQL/MariaDB's own schemas and databases (and PostgreSQL's `pg_` prefix, checked beside them). */
const SERVER_NAMES: ReadonlySet<string> = new Set(['public', 'information_schema', 'pg_catalog', 'pg_toast', 'mysql', 'sys', 'performance_schema']);

export abstract class BaseAdapter implements DialectAdapter {
  abstract readonly dialect: 'postgres' | 'mysql';
  abstract readonly maxNameBytes: number;
  abstract readonly lockHoldsConnection: boolean;
  abstract readonly transactionalDdl: boolean;
  abstract audits(input: import('./audit').AuditInput): import('./audit').AuditCheck[];
  abstract readCatalog(schemas: readonly string[]): Promise<Map<string, import('./catalog').SchemaShape>>;
  abstract readonly routesQualifiedQueries: boolean;
  abstract readonly listScansAll: boolean;
  readonly defaultSchema: string;
  readonly isolation: Isolation;
  protected readonly sequelize: Sequelize;
  protected readonly ctx: AdapterContext;
  protected readonly queryGenerator: any;
  protected abstract readonly sql: CatalogSql;
  readonly cluster: ClusterOperations | undefined = undefined;
  readonly roles: RoleOperations | undefined = undefined;
  #archive: ArchiveOperations | undefined;

  constructor(ctx: AdapterContext, defaultSchema: string) {
    this.ctx = ctx;
    this.sequelize = ctx.sequelize;
    this.defaultSchema = defaultSchema;
    this.isolation = ctx.isolation ?? 'none';
    this.queryGenerator = queryGeneratorOf(ctx.sequelize);
  }

  /** Tenant export/import: built on first use, so apps that never export do not load it. */
  get archive(): ArchiveOperations {
    this.#archive ??= this.createArchive();
    return this.#archive;
  }

  protected abstract createArchive(): ArchiveOperations;

  /** A statement sent with `tenant` in context (routed: search_path and, with roles, the tenant role). */
  protected inTenant(tenant: TenantRef, sql: string, options: { transaction?: Transaction; replacements?: unknown[]; type?: string } = {}): Promise<any> {
    const run = () => this.sequelize.query(sql, { raw: true, type: 'RAW', ...options } as any);
    return this.ctx.routed ? this.ctx.routed(tenant, run) : run();
  }

  /**
   * The default schema/database, and the servers' own schemas and databases
   * (the prefix-less case). The names of both supported servers are refused
   * on either, so a tenant key stays valid when an app moves between them.
   */
  isReservedName(name: string): boolean {
    return name === this.defaultSchema || SERVER_NAMES.has(name) || name.startsWith('pg_');
  }

  protected quote(name: string): string {
    return this.queryGenerator.quoteIdentifier(name, true);
  }

  /** Runs an administrative statement (already qualified: never routed). */
  protected async admin(sql: string, options: { transaction?: Transaction | null; replacements?: unknown[]; [option: string]: unknown } = {}): Promise<any> {
    return this.ctx.unrouted(() => this.sequelize.query(sql, { raw: true, type: 'RAW', ...options } as any));
  }

  protected async names(sql: string, replacements: unknown[], options: QueryOptions = {}): Promise<string[]> {
    // Only the options that do not change the result's shape.
    const passed = { transaction: options.transaction ?? undefined, ...(options.logging !== undefined ? { logging: options.logging } : {}) };
    const [rows] = await this.admin(sql, { ...passed, replacements });
    return (rows as Array<{ name: string }>).map((r) => r.name);
  }

  async create(tenant: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    try {
      await this.admin(this.sql.create(this.quote(tenant.name)), options);
    } catch (error) {
      if (this.sql.isDuplicate(driverError(error))) {
        throw new TenantExistsError(
          `Tenant '${tenant.key}' already exists (${this.sql.describe(tenant.name)}). Use another key, or drop it first with dropTenant('${tenant.key}').`,
          { tenant: tenant.key, cause: error },
        );
      }
      throw error;
    }
  }

  dropSql(name: string): string {
    return `${this.sql.drop(this.quote(name))};`;
  }

  async drop(tenant: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    try {
      await this.admin(this.sql.drop(this.quote(tenant.name)), options);
    } catch (error) {
      if (this.sql.isMissing(driverError(error))) {
        throw new TenantNotFoundError(
          `Tenant '${tenant.key}' does not exist (no ${this.sql.describe(tenant.name)}). Check the key, or list tenants with apartment.tenants().`,
          { tenant: tenant.key, cause: error },
        );
      }
      throw error;
    }
  }

  async exists(tenant: TenantRef, transaction?: Transaction): Promise<boolean> {
    return (await this.names(this.sql.exists, [tenant.name], { transaction })).length > 0;
  }

  async state(tenant: TenantRef, transaction?: Transaction): Promise<SuspendState | undefined> {
    const [rows] = await this.admin(this.sql.state, { replacements: [tenant.name], transaction });
    const row = (rows as Array<{ name: string; note: unknown }>)[0];
    return row ? stateOf(row.note) : undefined;
  }

  async states(prefix: string): Promise<Map<string, SuspendState>> {
    const [sql, replacements] = this.sql.states(prefix);
    const [rows] = await this.admin(sql, { replacements });
    return new Map((rows as Array<{ name: string; note: unknown }>).map((r) => [r.name, stateOf(r.note)]));
  }

  async setState(tenant: TenantRef, state: SuspendState, options: { transaction?: Transaction } = {}): Promise<void> {
    const text = state === 'active' ? null : this.queryGenerator.escape(`${STATE_MARK}${state}`);
    await this.admin(this.sql.note(this.quote(tenant.name), text), options);
  }

  /** The error of a query routed to a tenant that does not exist. */
  protected notFound(tenant: TenantRef, cause: unknown): TenantNotFoundError {
    return new TenantNotFoundError(
      `Tenant '${tenant.key}' does not exist (no ${this.sql.describe(tenant.name)}). Create it with createTenant('${tenant.key}') first, or check the key (apartment.tenants() lists them).`,
      { tenant: tenant.key, cause },
    );
  }

  async translateQueryError(error: unknown, tenant: TenantRef, transaction?: Transaction): Promise<never> {
    // "No such schema/database/table" also happens in a tenant that exists (a table it lacks, another
    // schema named in the statement), and the message is in the server's language: only the catalog
    // can tell (this runs on the error path only).
    if (this.sql.isMissingObject(driverError(error)) && !(await this.existsAfterError(tenant, transaction).catch(() => true))) {
      throw this.notFound(tenant, error);
    }
    throw error;
  }

  /** `exists` for the error path of a query that ran in `transaction` (if any). */
  protected existsAfterError(tenant: TenantRef, transaction: Transaction | undefined): Promise<boolean> {
    return this.exists(tenant, transaction);
  }

  async list(prefix: string): Promise<string[]> {
    const [sql, replacements] = this.sql.list(prefix);
    return this.names(sql, replacements);
  }

  async tableExists(schema: string, table: string, options: QueryOptions = {}): Promise<boolean> {
    return (await this.names(this.sql.tableExists, [schema, table], options)).length > 0;
  }

  async tables(schema: string, options: QueryOptions = {}): Promise<string[]> {
    return this.names(this.sql.tables, [schema], options);
  }

  async schemasWithTable(prefix: string, table: string): Promise<string[]> {
    return this.names(this.sql.withTable, [table, prefix.length, prefix]);
  }

  abstract emptyTables(tenant: TenantRef, keep: readonly string[]): Promise<void>;
  abstract rename(from: string, to: string, options?: { transaction?: Transaction }): Promise<void>;
  abstract appendComment(sql: string, comment: string): string | undefined;

  readonly driverResults: ((data: unknown) => unknown) | undefined = undefined;
  abstract withLock<T>(name: string, fn: (transaction: Transaction | undefined) => Promise<T>, options?: LockOptions): Promise<T>;

  async renameTenant(from: TenantRef, to: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    try {
      await this.rename(from.name, to.name, options);
    } catch (error) {
      if (this.sql.isDuplicate(driverError(error))) {
        throw new TenantExistsError(
          `Tenant '${to.key}' already exists (${this.sql.describe(to.name)}), so '${from.key}' was not renamed. Use another key, or drop it first with dropTenant('${to.key}').`,
          { tenant: to.key, cause: error },
        );
      }
      throw error;
    }
  }
  abstract route(query: DialectQuery, sql: string, parameters: unknown[] | undefined, tenant: TenantRef | undefined, run: RunQuery, qualified?: boolean): Promise<unknown>;
  /** Adjusts the instance's query generator where Sequelize renders tenant tables wrongly. */
  protected abstract patchQueryGenerator(queryGenerator: any): void;

  install(): void {
    this.patchQueryGenerator(this.queryGenerator);
  }

  sendsAsIs(_query: DialectQuery, _sql: string, _parameters: unknown[] | undefined, _tenant: TenantRef | undefined): boolean {
    return false;
  }

  splitStatements(_sql: string, _tenant: TenantRef | undefined): string[] | undefined {
    return undefined;
  }
}

/** The driver error under a Sequelize error. */
export function driverError(error: unknown): any {
  const e = error as any;
  return e?.original ?? e?.parent ?? e;
}
