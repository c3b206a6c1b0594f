import type { Transaction } from 'sequelize';
import type { TenantRef } from '../tenant';
import { BaseAdapter, type CatalogSql } from './base';
import { type AdapterContext, type DialectQuery, type LockOptions, type RunQuery, TRANSACTION_CONTROL } from './contract';

/** Statements to send in front of the next statement on this connection (consumed by the wrapped `query`). */
const PREFIX = Symbol('apartment.prefix');
/** The search_path set with SET LOCAL in the connection's open transaction (undefined: the default). */
const LOCAL_PATH = Symbol('apartment.localPath');
const WRAPPED = Symbol('apartment.wrapped');
const UNKNOWN = '\0unknown';

/** SQL put in front of a statement, and how many results it adds (removed again before Sequelize sees them). */
interface Prefix {
  readonly text: string;
  readonly statements: number;
}

/** How statements enter a tenant: its search_path, and the SQL that sets it and fails when the schema is gone. */
interface TenantRoute {
  readonly path: string;
  readonly enter: string;
  readonly prefix: Prefix;
}

const TO_DEFAULT: Prefix = { text: 'SET LOCAL search_path TO DEFAULT; ', statements: 1 };

/**
 * PostgreSQL: one schema per tenant.
 *
 * Raw SQL is routed with `SET LOCAL search_path`, sent in the same message as
 * the statement (simple protocol), so the setting lives exactly as long as the
 * statement's implicit transaction: nothing stays on the connection, and it is
 * correct behind a transaction-pooling PgBouncer. Statements with bind
 * parameters (extended protocol, one statement per message) run in a
 * `BEGIN; SET LOCAL ...` / `COMMIT` bracket; inside a Sequelize transaction the
 * SET LOCAL is issued once and tracked until the transaction ends.
 */
export class PostgresAdapter extends BaseAdapter {
  readonly dialect = 'postgres' as const;
  readonly maxNameBytes = 63;
  readonly lockHoldsConnection = false;
  // Model queries skip routing: the SET LOCAL prefix costs ~20% on a findByPk,
  // and a bind statement would need a BEGIN/COMMIT round trip.
  readonly routesQualifiedQueries = false;
  readonly #routes = new Map<string, TenantRoute>();
  protected readonly sql: CatalogSql = {
    describe: (name) => `schema "${name}"`,
    create: (quoted) => `CREATE SCHEMA ${quoted}`,
    drop: (quoted) => `DROP SCHEMA ${quoted} CASCADE`,
    exists: 'SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname = ?',
    list: 'SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE left(nspname, ?) = ? ORDER BY nspname',
    withTable:
      "SELECT n.nspname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = ? AND c.relkind IN ('r', 'p') AND left(n.nspname, ?) = ?",
    // pg_class_relname_nsp_index and pg_namespace_nspname_index: two index probes, whatever the catalog size.
    tableExists:
      "SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p', 'v', 'f')",
    tables:
      "SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind IN ('r', 'p') ORDER BY c.relname",
    // 42P06 duplicate_schema; 23505 when two CREATE SCHEMA race on pg_namespace.
    isDuplicate: (e) => e?.code === '42P06' || e?.code === '23505',
    isMissing: (e) => e?.code === '3F000',
    isMissingSchemaOf: (e, name) => e?.code === '3F000' && e.message === `schema "${name}" does not exist`,
    isMissingTableIn: (e, name) => e?.code === '42P01' && typeof e.message === 'string' && e.message.startsWith(`relation "${name}.`),
  };

  constructor(ctx: AdapterContext, defaultSchema = 'public') {
    super(ctx, defaultSchema);
    // Sequelize refreshes its type OIDs (after CREATE TYPE) with a catalog query
    // outside any transaction. Routed, it would check a tenant schema that
    // createTenant's open transaction has not committed yet, and fail.
    const manager = (ctx.sequelize as any).connectionManager;
    const refresh = manager._refreshDynamicOIDs;
    if (typeof refresh === 'function') {
      manager._refreshDynamicOIDs = function refreshUnrouted(this: unknown, ...args: unknown[]) {
        return ctx.unrouted(() => refresh.apply(this, args));
      };
    }
  }

  async rename(from: string, to: string, options: { transaction?: Transaction } = {}): Promise<void> {
    await this.admin(`ALTER SCHEMA ${this.quote(from)} RENAME TO ${this.quote(to)}`, options);
  }

  async withLock<T>(name: string, fn: (transaction: Transaction | undefined) => Promise<T>, options: LockOptions = {}): Promise<T> {
    return this.ctx.unrouted(() =>
      this.sequelize.transaction(async (transaction) => {
        const [rows] = await this.admin(`SELECT ${options.busy ? 'pg_try_advisory_xact_lock' : 'pg_advisory_xact_lock'}(hashtext('sequelize-apartment'), hashtext(?)) AS locked`, {
          replacements: [name],
          transaction,
        });
        if (options.busy && (rows as Array<{ locked: boolean }>)[0]?.locked !== true) throw options.busy();
        return fn(transaction);
      }),
    );
  }

  /**
   * `SET LOCAL search_path TO "tenant_acme", "public"` (the tenant first, then
   * the default schema, where extensions live) and the existence check.
   */
  #routeFor(tenant: TenantRef): TenantRoute {
    let route = this.#routes.get(tenant.name);
    if (!route) {
      const path = `${this.quote(tenant.name)}, ${this.quote(this.defaultSchema)}`;
      const enter = `SET LOCAL search_path TO ${path}; SELECT ${this.queryGenerator.escape(this.quote(tenant.name))}::regnamespace`;
      route = { path, enter, prefix: { text: `${enter}; `, statements: 2 } };
      if (this.#routes.size > 100_000) this.#routes.clear();
      this.#routes.set(tenant.name, route);
    }
    return route;
  }

  async route(query: DialectQuery, sql: string, parameters: unknown[] | undefined, tenant: TenantRef | undefined, run: RunQuery): Promise<unknown> {
    const connection = query.connection;
    if (!connection[WRAPPED]) wrapConnection(connection);
    const inTransaction = Boolean(query.options.transaction);
    const control = TRANSACTION_CONTROL.exec(sql);
    if (control) {
      const result = await run();
      // A transaction boundary ends (or, for ROLLBACK TO, may undo) any SET LOCAL.
      connection[LOCAL_PATH] = /^\s*ROLLBACK\s+TO\b/i.test(sql) ? UNKNOWN : undefined;
      return result;
    }
    const route = tenant ? this.#routeFor(tenant) : undefined;
    // Bind statements (extended protocol) and what the server must receive alone take no prefix.
    const bind = Boolean(parameters && parameters.length) || this.sendsAlone(sql);

    if (!inTransaction) {
      if (!route) return run();
      if (!bind) {
        connection[PREFIX] = route.prefix;
        return run();
      }
      try {
        await clientQuery(connection, `BEGIN; ${route.enter}`);
      } catch (error) {
        await clientQuery(connection, 'ROLLBACK');
        throw error;
      }
      try {
        return await run();
      } finally {
        // After an error the transaction is aborted and COMMIT just ends it.
        await clientQuery(connection, 'COMMIT');
      }
    }

    const want = route?.path;
    if ((connection[LOCAL_PATH] ?? undefined) === want) return run();
    connection[LOCAL_PATH] = UNKNOWN;
    if (bind) {
      await clientQuery(connection, route ? route.enter : TO_DEFAULT.text);
      connection[LOCAL_PATH] = want;
      return run();
    }
    connection[PREFIX] = route ? route.prefix : TO_DEFAULT;
    const result = await run();
    connection[LOCAL_PATH] = want;
    return result;
  }

  /** In a transaction the failed statement aborted it: ask on a connection of its own. */
  protected override async existsAfterError(tenant: TenantRef, transaction: Transaction | undefined): Promise<boolean> {
    if (!transaction) return this.exists(tenant);
    const manager = (this.sequelize as any).connectionManager;
    const connection = await manager.connect(manager.config);
    try {
      const result: any = await new Promise((resolve, reject) =>
        connection.query(this.sql.exists.replace('?', '$1'), [tenant.name], (error: unknown, rows: unknown) => (error ? reject(error) : resolve(rows))),
      );
      return result.rows.length > 0;
    } finally {
      await manager.disconnect(connection).catch(() => undefined);
    }
  }

  /**
   * Whether `sql` must reach the server as the only statement of its message
   * (no `SET LOCAL` prefix): the search_path is then set by a statement of
   * its own. Plain PostgreSQL accepts any prefix; Citus overrides this.
   */
  protected sendsAlone(_sql: string): boolean {
    return false;
  }

  /**
   * PostgreSQL qualifies schema.table correctly, but `removeIndexQuery`
   * drops the index by its bare name (whatever schema the search_path finds
   * first) and names array-indexes after `[object Object]`: qualify the index
   * with the table's schema.
   */
  patchQueryGenerator(queryGenerator: any): void {
    const removeIndexQuery = queryGenerator.removeIndexQuery;
    queryGenerator.removeIndexQuery = function (this: any, table: any, indexNameOrAttributes: unknown, options?: unknown) {
      if (table === null || typeof table !== 'object' || !table.schema) return removeIndexQuery.call(this, table, indexNameOrAttributes, options);
      const sql: string = removeIndexQuery.call(this, table.tableName, indexNameOrAttributes, options);
      return sql.replace('IF EXISTS ', `IF EXISTS ${this.quoteIdentifier(table.schema)}.`);
    };
  }
}

/** Runs a statement on the pg client directly, outside Sequelize (routing bookkeeping only). */
function clientQuery(connection: any, text: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    connection[PREFIX] = undefined;
    connection.query(text, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * Wraps the pg client's `query` once: when a prefix is pending, it is sent in
 * the same message as the statement and its result is removed again, so
 * Sequelize sees exactly the result it would have seen without it.
 */
function wrapConnection(connection: any): void {
  const original = connection.query;
  connection[WRAPPED] = true;
  connection.query = function query(this: any, text: unknown, values?: unknown, callback?: unknown) {
    const prefix: Prefix | undefined = this[PREFIX];
    if (prefix === undefined || typeof text !== 'string') return original.apply(this, arguments);
    this[PREFIX] = undefined;
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    const done = callback as (error: unknown, result?: unknown) => void;
    const skip = prefix.statements;
    return original.call(this, prefix.text + text, (error: unknown, result: unknown) => {
      if (error) return done(error);
      if (Array.isArray(result)) return done(null, result.length === skip + 1 ? result[skip] : result.slice(skip));
      return done(null, result);
    });
  };
}
