import type { Sequelize, Transaction } from 'sequelize';
import { TenantExistsError, TenantNotFoundError } from '../errors';
import type { TenantRef } from '../tenant';
import {
  type AdapterContext,
  type DialectAdapter,
  type DialectQuery,
  type RunQuery,
  driverError,
  TRANSACTION_CONTROL,
} from './contract';

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
export class PostgresAdapter implements DialectAdapter {
  readonly dialect = 'postgres' as const;
  readonly maxNameBytes = 63;
  readonly defaultSchema: string;
  readonly #sequelize: Sequelize;
  readonly #ctx: AdapterContext;
  readonly #paths = new Map<string, string>();
  readonly #qg: any;

  constructor(ctx: AdapterContext, defaultSchema = 'public') {
    this.#ctx = ctx;
    this.#sequelize = ctx.sequelize;
    this.defaultSchema = defaultSchema;
    this.#qg = (ctx.sequelize.getQueryInterface() as any).queryGenerator;
  }

  isReservedName(name: string): boolean {
    return name === this.defaultSchema;
  }

  #quote(name: string): string {
    return this.#qg.quoteIdentifier(name, true);
  }

  async #admin(sql: string, options: { transaction?: Transaction; replacements?: unknown[] } = {}): Promise<any> {
    return this.#ctx.unrouted(() =>
      this.#sequelize.query(sql, { raw: true, type: 'RAW', ...options } as any),
    );
  }

  async create(tenant: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    try {
      await this.#admin(`CREATE SCHEMA ${this.#quote(tenant.name)}`, options);
    } catch (error) {
      const code = driverError(error)?.code;
      // 42P06 duplicate_schema; 23505 when two CREATE SCHEMA race on pg_namespace.
      if (code === '42P06' || code === '23505') {
        throw new TenantExistsError(
          `Tenant '${tenant.key}' already exists (schema "${tenant.name}"). Use another key, or drop it first with dropTenant('${tenant.key}').`,
          { tenant: tenant.key, cause: error },
        );
      }
      throw error;
    }
  }

  async drop(tenant: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    try {
      await this.#admin(`DROP SCHEMA ${this.#quote(tenant.name)} CASCADE`, options);
    } catch (error) {
      if (driverError(error)?.code === '3F000') {
        throw new TenantNotFoundError(
          `Tenant '${tenant.key}' does not exist (no schema "${tenant.name}"). Check the key, or list tenants with apartment.tenants().`,
          { tenant: tenant.key, cause: error },
        );
      }
      throw error;
    }
  }

  async exists(tenant: TenantRef): Promise<boolean> {
    const rows = await this.#admin('SELECT 1 AS found FROM pg_catalog.pg_namespace WHERE nspname = ?', {
      replacements: [tenant.name],
    });
    return rows[0].length > 0;
  }

  async list(prefix: string): Promise<string[]> {
    const [rows] = await this.#admin(
      'SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE left(nspname, ?) = ? ORDER BY nspname',
      { replacements: [prefix.length, prefix] },
    );
    return (rows as Array<{ name: string }>).map((r) => r.name);
  }

  async rename(from: string, to: string, options: { transaction?: Transaction } = {}): Promise<void> {
    await this.#admin(`ALTER SCHEMA ${this.#quote(from)} RENAME TO ${this.#quote(to)}`, options);
  }

  readonly lockHoldsConnection = false;

  async schemasWithTable(prefix: string, table: string): Promise<string[]> {
    const [rows] = await this.#admin(
      "SELECT n.nspname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = ? AND c.relkind IN ('r', 'p') AND left(n.nspname, ?) = ?",
      { replacements: [table, prefix.length, prefix] },
    );
    return (rows as Array<{ name: string }>).map((r) => r.name);
  }

  async withLock<T>(name: string, fn: (transaction: Transaction | undefined) => Promise<T>): Promise<T> {
    return this.#ctx.unrouted(() =>
      this.#sequelize.transaction(async (transaction) => {
        await this.#admin("SELECT pg_advisory_xact_lock(hashtext('sequelize-apartment'), hashtext(?))", {
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
      path = `${this.#quote(tenant.name)}, ${this.#quote(this.defaultSchema)}`;
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
