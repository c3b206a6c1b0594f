import type { Transaction } from 'sequelize';
import type { TenantRef } from '../tenant';
import { BaseAdapter, type CatalogSql } from './base';
import { type AdapterContext, type DialectQuery, type RunQuery, TRANSACTION_CONTROL } from './contract';

/** Text to put in front of the next statement on this connection (consumed by the wrapped `query`). */
const PREFIX = Symbol('apartment.prefix');
/** The search_path set with SET LOCAL in the connection's open transaction (undefined: the default). */
const LOCAL_PATH = Symbol('apartment.localPath');
const WRAPPED = Symbol('apartment.wrapped');
const UNKNOWN = '\0unknown';

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
  readonly #paths = new Map<string, string>();
  protected readonly sql: CatalogSql = {
    describe: (name) => `schema "${name}"`,
    create: (quoted) => `CREATE SCHEMA ${quoted}`,
    drop: (quoted) => `DROP SCHEMA ${quoted} CASCADE`,
    exists: 'SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname = ?',
    list: 'SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE left(nspname, ?) = ? ORDER BY nspname',
    withTable:
      "SELECT n.nspname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = ? AND c.relkind IN ('r', 'p') AND left(n.nspname, ?) = ?",
    // 42P06 duplicate_schema; 23505 when two CREATE SCHEMA race on pg_namespace.
    isDuplicate: (e) => e?.code === '42P06' || e?.code === '23505',
    isMissing: (e) => e?.code === '3F000',
  };

  constructor(ctx: AdapterContext, defaultSchema = 'public') {
    super(ctx, defaultSchema);
  }

  async rename(from: string, to: string, options: { transaction?: Transaction } = {}): Promise<void> {
    await this.admin(`ALTER SCHEMA ${this.quote(from)} RENAME TO ${this.quote(to)}`, options);
  }

  async withLock<T>(name: string, fn: (transaction: Transaction | undefined) => Promise<T>): Promise<T> {
    return this.ctx.unrouted(() =>
      this.sequelize.transaction(async (transaction) => {
        await this.admin("SELECT pg_advisory_xact_lock(hashtext('sequelize-apartment'), hashtext(?))", {
          replacements: [name],
          transaction,
        });
        return fn(transaction);
      }),
    );
  }

  /** `"tenant_acme", "public"`: the tenant first, then the default schema (extensions live there). */
  #pathFor(tenant: TenantRef): string {
    let path = this.#paths.get(tenant.name);
    if (!path) {
      path = `${this.quote(tenant.name)}, ${this.quote(this.defaultSchema)}`;
      if (this.#paths.size > 10_000) this.#paths.clear();
      this.#paths.set(tenant.name, path);
    }
    return path;
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
    const want = tenant ? this.#pathFor(tenant) : undefined;
    const bind = Boolean(parameters && parameters.length);

    if (!inTransaction) {
      if (!want) return run();
      if (!bind) {
        connection[PREFIX] = `SET LOCAL search_path TO ${want}; `;
        return run();
      }
      await clientQuery(connection, `BEGIN; SET LOCAL search_path TO ${want}`);
      try {
        return await run();
      } finally {
        // After an error the transaction is aborted and COMMIT just ends it.
        await clientQuery(connection, 'COMMIT');
      }
    }

    if ((connection[LOCAL_PATH] ?? undefined) === want) return run();
    const set = want ? `SET LOCAL search_path TO ${want}` : 'SET LOCAL search_path TO DEFAULT';
    connection[LOCAL_PATH] = UNKNOWN;
    if (bind) {
      await clientQuery(connection, set);
      connection[LOCAL_PATH] = want;
      return run();
    }
    connection[PREFIX] = `${set}; `;
    const result = await run();
    connection[LOCAL_PATH] = want;
    return result;
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
    const prefix = this[PREFIX];
    if (prefix === undefined || typeof text !== 'string') return original.apply(this, arguments);
    this[PREFIX] = undefined;
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    const done = callback as (error: unknown, result?: unknown) => void;
    return original.call(this, prefix + text, (error: unknown, result: unknown) => {
      if (error) return done(error);
      if (Array.isArray(result)) return done(null, result.length === 2 ? result[1] : result.slice(1));
      return done(null, result);
    });
  };
}
