import type { Transaction } from 'sequelize';
import { ApartmentError, ConfigurationError, UnsafeQueryError } from '../errors';
import type { TenantRef } from '../tenant';
import { BaseAdapter, driverError, type CatalogSql } from './base';
import { mariadbBackslashEscapes, mariadbEscape } from '../seam/mariadb';
import { closeConnection, destroyPooledConnection, openConnection, pooledConnection, poolMax, releasePooledConnection } from '../seam/sequelize';
import { type AdapterContext, type ArchiveOperations, type DialectQuery, type LockOptions, type RunQuery, TRANSACTION_CONTROL } from './contract';
import { appendComment, endState, inlineParameters, MYSQL_LEXICONS, MYSQL_NO_BACKSLASH_ESCAPES } from './statements';
import type { SchemaShape } from './catalog';
import { readMysqlCatalog } from './mysql-catalog';
import type { AuditCheck, AuditInput } from './audit';
import { mysqlChecks, mysqlLockName } from './mysql-audit';

/**
 * The database a connection has selected with USE, and the drop epoch it was
 * selected in. No entry: the configured database, epoch 0. `database`
 * undefined: unknown, while a USE is under way or after one failed (the
 * server then keeps the previous selection, which may be another tenant's),
 * so the next statement selects again. Kept beside the driver's connection
 * object, not on it: properties added to it would give it new shapes, and the
 * driver's own code that reads it on every packet would go megamorphic.
 */
const SELECTED = new WeakMap<object, { database: string | undefined; epoch: number }>();

const ER_DB_CREATE_EXISTS = 1007;
const ER_DB_DROP_EXISTS = 1008;
const ER_BAD_DB_ERROR = 1049;
const ER_NO_SUCH_TABLE = 1146;

/**
 * MySQL/MariaDB: one database per tenant, tables qualified `db`.`table`.
 *
 * Model queries are always fully qualified (shared models with the default
 * database), so they never depend on the connection's current database. Raw
 * SQL needs `USE`: before every raw statement the connection's selected
 * database is compared with the one the statement needs (the tenant's, or the
 * default) and switched when they differ, so no statement ever runs on
 * another tenant's selection. MySQL has no statement-scoped equivalent of
 * `SET LOCAL`, so the selection stays on the connection until the next raw
 * statement checks it.
 */
export class MysqlAdapter extends BaseAdapter {
  readonly dialect = 'mysql' as const;
  readonly maxNameBytes = 64;
  readonly lockHoldsConnection = true;
  readonly transactionalDdl = false;
  // The connection may have another tenant's database selected.
  readonly routesQualifiedQueries = true;
  readonly listScansAll = true;
  /** Bumped by every DROP DATABASE: connections that had a dropped database selected re-select. */
  #epoch = 0;
  /** Statements sent on a driver connection directly (USE, GET_LOCK): mysql2 and mariadb differ only here... */
  readonly #driverQuery: DriverQuery;
  /** ...and in how bind values travel: mysql2 executes prepared statements, the mariadb driver writes them into the text. */
  readonly #writesValues: boolean;
  readonly #marks = new Map<string, string>();
  protected readonly sql: CatalogSql = {
    describe: (name) => `database \`${name}\``,
    create: (quoted) => `CREATE DATABASE ${quoted}`,
    drop: (quoted) => `DROP DATABASE ${quoted}`,
    exists: 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    // Database comments: MariaDB 10.5+ (MySQL 8 has none, so suspendTenant needs MariaDB there).
    state: 'SELECT SCHEMA_NAME AS name, SCHEMA_COMMENT AS note FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    states: (prefix) => ['SELECT SCHEMA_NAME AS name, SCHEMA_COMMENT AS note FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ? ORDER BY SCHEMA_NAME', [prefix.length, prefix]],
    note: (quoted, escaped) => `ALTER DATABASE ${quoted} COMMENT = ${escaped ?? "''"}`,
    list: (prefix) => ['SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ? ORDER BY SCHEMA_NAME', [prefix.length, prefix]],
    withTable: 'SELECT TABLE_SCHEMA AS name FROM information_schema.TABLES WHERE TABLE_NAME = ? AND LEFT(TABLE_SCHEMA, ?) = ?',
    // Constant schema and table: the server opens that one database's directory, not every tenant's.
    tableExists: 'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    tables: "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    isDuplicate: (e) => e?.errno === ER_DB_CREATE_EXISTS,
    isMissing: (e) => e?.errno === ER_DB_DROP_EXISTS,
    // A qualified model query on a missing database reports the table, not the database.
    isMissingObject: (e) => e?.errno === ER_BAD_DB_ERROR || e?.errno === ER_NO_SUCH_TABLE,
  };

  constructor(ctx: AdapterContext, defaultSchema?: string) {
    super(ctx, defaultSchema ?? (ctx.sequelize.config.database as string));
    this.#writesValues = ctx.sequelize.getDialect() === 'mariadb';
    this.driverResults = this.#writesValues ? mariadbResults : undefined;
    this.#driverQuery = this.#writesValues ? mariadbQuery : mysql2Query;
    if (this.isolation === 'role') {
      // MariaDB's SET ROLE (and MySQL 8's) lasts for the session, with no
      // transaction-scoped form: on a shared pool a role would outlive the
      // statement that needed it (README: Defense in depth).
      throw new ConfigurationError(
        "isolation: 'role' needs PostgreSQL: MySQL/MariaDB roles are set per session, not per statement or transaction, so they cannot be correct on a shared pool. Remove the `isolation` option, or give each tenant its own database user and connection pool.",
      );
    }
  }

  protected createArchive(): ArchiveOperations {
    const { MysqlArchive } = require('./mysql-archive') as typeof import('./mysql-archive');
    return new MysqlArchive({
      sequelize: this.sequelize,
      quote: (name) => this.quote(name),
      admin: (sql, options) => this.admin(sql, options),
      unrouted: (fn) => this.ctx.unrouted(fn),
    });
  }

  override async drop(tenant: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    this.#epoch += 1;
    try {
      await super.drop(tenant, options);
    } finally {
      this.#epoch += 1;
    }
  }

  /** MySQL cannot rename a database: create the new one and move every table into it. */
  async rename(from: string, to: string): Promise<void> {
    await this.admin(`CREATE DATABASE ${this.quote(to)}`);
    const tables = await this.tables(from);
    if (tables.length > 0) {
      const moves = tables.map((t) => `${this.quote(from)}.${this.quote(t)} TO ${this.quote(to)}.${this.quote(t)}`);
      try {
        // One statement: MySQL moves all the tables or none.
        await this.admin(`RENAME TABLE ${moves.join(', ')}`);
      } catch (error) {
        await this.admin(`DROP DATABASE ${this.quote(to)}`).catch(() => undefined);
        throw error;
      }
    }
    this.#epoch += 1;
    await this.admin(`DROP DATABASE ${this.quote(from)}`);
  }

  /**
   * On one connection, with `foreign_key_checks` off for that session only
   * and back on before the connection returns to the pool (it is destroyed
   * when that fails): `TRUNCATE` (which restarts AUTO_INCREMENT) for tables
   * whose counter moved, `DELETE` for tables without a counter that hold a
   * row, nothing for the rest. Which tables hold a row is one `UNION ALL`
   * lookup: InnoDB's TRUNCATE recreates the table (tens of ms on MariaDB),
   * and a test touches a few tables. MySQL 8 caches information_schema's
   * AUTO_INCREMENT, so there every table with a counter is truncated.
   */
  async emptyTables(tenant: TenantRef, keep: readonly string[]): Promise<void> {
    const [rows] = await this.admin(
      "SELECT TABLE_NAME AS name, AUTO_INCREMENT AS counter, (SELECT VERSION()) AS version FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
      { replacements: [tenant.name] },
    );
    const tables = (rows as Array<{ name: string; counter: number | string | null; version: string }>).filter((row) => !keep.includes(row.name));
    if (tables.length === 0) {
      if (!(await this.exists(tenant))) throw this.notFound(tenant, undefined);
      return;
    }
    const liveCounters = /mariadb/i.test(String(tables[0]!.version));
    const qualified = (name: string) => `${this.quote(tenant.name)}.${this.quote(name)}`;
    const connection = await pooledConnection(this.sequelize);
    let session = false;
    try {
      // Table indexes, not names, come back: no value to escape under any sql_mode.
      const lookup = tables.map(({ name }, index) => `(SELECT ${index} AS i FROM ${qualified(name)} LIMIT 1)`).join(' UNION ALL ');
      const filled = new Set(Array.from((await this.#driverQuery(connection, lookup)) as Iterable<{ i: unknown }>, (row) => tables[Number(row.i)]?.name));
      const statements: string[] = [];
      for (const { name, counter } of tables) {
        // A counter still at 1 (MariaDB reads it live): none was handed out since the last reset.
        const moved = counter !== null && (!liveCounters || Number(counter) > 1);
        if (moved) statements.push(`TRUNCATE TABLE ${qualified(name)}`);
        else if (filled.has(name)) statements.push(`DELETE FROM ${qualified(name)}`);
      }
      if (statements.length === 0) return;
      session = true;
      await this.#driverQuery(connection, 'SET SESSION foreign_key_checks = 0');
      for (const statement of statements) await this.#driverQuery(connection, statement);
    } finally {
      const clean = !session || (await this.#driverQuery(connection, 'SET SESSION foreign_key_checks = 1').then(
        () => true,
        () => false,
      ));
      if (clean) releasePooledConnection(this.sequelize, connection);
      else await Promise.resolve().then(() => destroyPooledConnection(this.sequelize, connection)).catch(() => undefined);
    }
  }

  audits(input: AuditInput): AuditCheck[] {
    return mysqlChecks(async (sql, replacements) => (await this.admin(sql, { replacements, type: 'SELECT' })) as any[], input);
  }

  readCatalog(schemas: readonly string[]): Promise<Map<string, SchemaShape>> {
    return readMysqlCatalog(async (sql, replacements) => (await this.admin(sql, { replacements, type: 'SELECT' })) as any[], schemas);
  }

  async withLock<T>(name: string, fn: (transaction: Transaction | undefined) => Promise<T>, options: LockOptions = {}): Promise<T> {
    // GET_LOCK belongs to a session: hold one connection for the lock's lifetime.
    const lockName = mysqlLockName(name);
    // With a pool of one, holding its only connection for the lock would starve
    // the migration itself: the lock then gets a connection of its own.
    let dedicated = poolMax(this.sequelize) < 2;
    let connection = dedicated ? await openConnection(this.sequelize) : await pooledConnection(this.sequelize);
    try {
      let rows: any = await this.#driverQuery(connection, 'SELECT GET_LOCK(?, 0) AS locked', [lockName]);
      if (Number(rows[0]?.locked) !== 1) {
        if (options.busy) throw options.busy();
        // Wait on a connection outside the pool: waiters holding pooled connections
        // would starve the holder (six concurrent createTenants on a pool of five).
        if (!dedicated) {
          releasePooledConnection(this.sequelize, connection);
          connection = undefined;
          connection = await openConnection(this.sequelize);
          dedicated = true;
        }
        rows = await this.#driverQuery(connection, 'SELECT GET_LOCK(?, 300) AS locked', [lockName]);
      }
      if (!rows[0] || Number(rows[0].locked) !== 1) {
        throw new ApartmentError(
          `Timed out after 300 s waiting for the migration lock of '${name}': another process is migrating it. Wait for it to finish and retry.`,
        );
      }
      try {
        return await fn(undefined);
      } finally {
        await this.#driverQuery(connection, 'SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined);
      }
    } finally {
      if (connection) {
        if (dedicated) await closeConnection(this.sequelize, connection).catch(() => undefined);
        else releasePooledConnection(this.sequelize, connection);
      }
    }
  }

  route(query: DialectQuery, sql: string, parameters: unknown[] | undefined, tenant: TenantRef | undefined, run: RunQuery): Promise<unknown> {
    if (TRANSACTION_CONTROL.test(sql)) return run();
    const connection = query.connection;
    const want = tenant ? tenant.name : this.defaultSchema;
    // The common case (already selected) stays synchronous: no extra await per statement.
    if (this.#selected(connection, want)) {
      return this.#run(connection, sql, parameters, want, run, tenant);
    }
    return this.#select(connection, want, tenant).then(() => this.#run(connection, sql, parameters, want, run, tenant));
  }

  /** The database is selected and there are no bind values (or it is transaction control): `route` would only call `run()`. */
  override sendsAsIs(query: DialectQuery, sql: string, parameters: unknown[] | undefined, tenant: TenantRef | undefined): boolean {
    const connection = query.connection;
    if ((!parameters || !parameters.length) && this.#selected(connection, tenant ? tenant.name : this.defaultSchema)) return true;
    return TRANSACTION_CONTROL.test(sql);
  }

  /** Whether `connection` has database `want` selected, since the last drop or rename. */
  #selected(connection: any, want: string): boolean {
    const selected = SELECTED.get(connection);
    if (selected === undefined) return this.defaultSchema === want && this.#epoch === 0;
    return selected.database === want && selected.epoch === this.#epoch;
  }

  #run(connection: any, sql: string, parameters: unknown[] | undefined, want: string, run: RunQuery, tenant: TenantRef | undefined): Promise<unknown> {
    if (!parameters || !parameters.length) return run();
    if (this.#writesValues) {
      // The mariadb driver writes the values into the text, escaped for the default sql_mode only.
      const inlined = inlineForSession(connection, sql, parameters, tenant);
      return inlined === undefined ? run() : run(inlined, null);
    }
    // mysql2 caches prepared statements per connection by SQL text, and the
    // server resolves unqualified names when it prepares them: the same text
    // prepared under tenant A must not be reused under tenant B.
    const marked = appendComment(sql, this.#markFor(want), MYSQL_LEXICONS);
    if (marked !== undefined) return run(marked);
    // Broken under every sql_mode: the server refuses to prepare it, so nothing is cached.
    if (MYSQL_LEXICONS.every((lx) => endState(sql, lx) === 'open')) return run();
    return Promise.reject(
      new UnsafeQueryError(
        `${tenant ? `In tenant '${tenant.key}', this` : 'This'} statement ends inside a string or comment under one sql_mode and not under another (a backslash before a quote), so the tenant mark that keeps mysql2's prepared statements apart cannot be placed safely. Write the literal as a bind value (\`bind\`) instead.`,
        { tenant: tenant?.key },
      ),
    );
  }

  /** `/* tenant_acme *\/`, once per database name. */
  #markFor(want: string): string {
    let mark = this.#marks.get(want);
    if (mark === undefined) {
      mark = `/* ${want.replace(/\*\//g, '')} */`;
      if (this.#marks.size > 10_000) this.#marks.clear();
      this.#marks.set(want, mark);
    }
    return mark;
  }

  /** Read as the session may read it: under every sql_mode that changes quoting (NO_BACKSLASH_ESCAPES, ANSI_QUOTES). */
  /**
   * mariadb 3.1+ defines `meta` on a result array as a non-configurable
   * property, and Sequelize 6's mariadb Query deletes it from raw results
   * (`delete data.meta`): a TypeError for every raw query (sequelize#15701,
   * open upstream). The rows are handed on as a plain array with a
   * deletable `meta`, as mariadb 3.0 and earlier gave them. (mysql2's
   * results need nothing: undefined there.)
   */
  override readonly driverResults: ((data: unknown) => unknown) | undefined;

  appendComment(sql: string, comment: string): string | undefined {
    return appendComment(sql, comment, MYSQL_LEXICONS);
  }

  async #select(connection: any, want: string, tenant: TenantRef | undefined): Promise<void> {
    const epoch = this.#epoch;
    let selected = SELECTED.get(connection);
    if (selected === undefined) SELECTED.set(connection, (selected = { database: undefined, epoch: 0 }));
    selected.database = undefined;
    try {
      await this.#driverQuery(connection, `USE ${this.quote(want)}`);
    } catch (error) {
      if (tenant && driverError(error)?.errno === ER_BAD_DB_ERROR) throw this.notFound(tenant, error);
      throw error;
    }
    selected.database = want;
    selected.epoch = epoch;
  }

  /**
   * Sequelize's `mysql` dialect renders a schema as part of a dotted table
   * *name* (`tenant_acme.widgets` in the current database). Quote the
   * database and the table separately instead.
   */
  protected patchQueryGenerator(queryGenerator: any): void {
    // The foreign-key lookup of Model.sync({ alter }) reads the configured
    // database; a qualified (tenant) table knows better.
    const getForeignKeysQuery = queryGenerator.getForeignKeysQuery;
    queryGenerator.getForeignKeysQuery = function (this: any, table: any, schemaName?: unknown) {
      return getForeignKeysQuery.call(this, table, table && typeof table === 'object' && table.schema ? table.schema : schemaName);
    };
    // removeColumn/changeColumn look foreign keys up with an OR that has no
    // constant TABLE_SCHEMA, so the server opens every table of every
    // database (seconds at 10,000 tenants). For a qualified (tenant) table,
    // keys that matter live in its own database: say so, and the server scans
    // that one database.
    const getForeignKeyQuery = queryGenerator.getForeignKeyQuery;
    if (typeof getForeignKeyQuery === 'function') {
      queryGenerator.getForeignKeyQuery = function (this: any, table: any, columnName: unknown) {
        const sql: string = getForeignKeyQuery.call(this, table, columnName);
        if (table === null || typeof table !== 'object' || !table.schema) return sql;
        return sql.replace(/\bWHERE \(/, `WHERE TABLE_SCHEMA = ${this.escape(table.schema)} AND ((`).replace(/;?\s*$/, ')');
      };
    }
    if (queryGenerator._dialect.supports.schemas) return; // mariadb dialect already does
    const original = queryGenerator.quoteTable;
    queryGenerator.quoteTable = function quoteTable(this: any, param: any, alias?: unknown) {
      if (param === null || typeof param !== 'object' || !param.schema) return original.call(this, param, alias);
      if (alias === true) alias = param.as || param.name || param;
      let table = `${this.quoteIdentifier(param.schema)}.${this.quoteIdentifier(param.tableName)}`;
      if (alias) table += ` AS ${this.quoteIdentifier(alias)}`;
      return table;
    };
  }
}

type DriverQuery = (connection: any, sql: string, values?: unknown[]) => Promise<any>;

/** mysql2, as Sequelize's `mysql` dialect loads it: the callback API. */
function mysql2Query(connection: any, sql: string, values?: unknown[]): Promise<any> {
  return new Promise((resolve, reject) => {
    connection.query({ sql, values }, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)));
  });
}

/** The `mariadb` driver: its connections are promise-based and never call a callback back. */
function mariadbQuery(connection: any, sql: string, values?: unknown[]): Promise<any> {
  return connection.query({ sql }, values);
}

const SETS_SQL_MODE = /sql_mode\s*:?=/i;

/**
 * The mariadb driver writes bind values into the statement's text, escaping
 * quotes with a backslash: right under the default sql_mode, wrong under
 * NO_BACKSLASH_ESCAPES, where `x'/* y` then ends its literal early and opens
 * a comment. With that mode on (as the driver's connection reports it), the
 * statement is returned with its values written as literals for the mode
 * (quotes doubled, bytes in hex); undefined when the driver's own escaping is
 * right for the session. Refuses (UnsafeQueryError) what no mode-correct
 * literal exists for, and a statement that sets sql_mode itself (its mode
 * cannot be known before it runs).
 */
function inlineForSession(connection: any, sql: string, parameters: unknown[], tenant: TenantRef | undefined): string | undefined {
  const where = tenant ? `In tenant '${tenant.key}', a` : 'A';
  const refuse = (why: string) => new UnsafeQueryError(`${where} statement with bind values was not sent: ${why}`, { tenant: tenant?.key });
  if (!parameters.every(finite)) {
    // The driver writes NaN or Infinity unquoted, where the server reads a column name.
    throw refuse('a bind value is NaN or Infinity, which MySQL/MariaDB have no literal for (the driver would write a column name). Pass null or a finite number.');
  }
  if (SETS_SQL_MODE.test(sql)) throw refuse('it sets sql_mode itself, so how the server will read its values cannot be known. Set sql_mode in a statement of its own.');
  const backslashEscapes = mariadbBackslashEscapes(connection);
  if (backslashEscapes === undefined) {
    throw refuse("the mariadb driver's connection does not report the session's sql_mode (connection.info.status), so its values cannot be escaped for it. Use a mariadb driver version in the peer range.");
  }
  if (backslashEscapes) return undefined;
  const text = inlineParameters(sql, parameters, (value) => literalWithoutBackslashes(connection, value), [MYSQL_NO_BACKSLASH_ESCAPES]);
  if (text === undefined) {
    throw refuse(
      "under sql_mode NO_BACKSLASH_ESCAPES the mariadb driver's escaping is wrong, and the package could not write these values itself (a stream or other value it has no literal for, or placeholders that do not match the values). Pass strings, numbers, dates, Buffers, arrays or plain objects.",
    );
  }
  return text;
}

function finite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  return Array.isArray(value) ? value.every(finite) : true;
}

/**
 * `value` as the mariadb driver writes it, but as a literal that holds no
 * backslash escape (right under NO_BACKSLASH_ESCAPES, with or without
 * ANSI_QUOTES): what the driver writes without a backslash (numbers, dates,
 * NULL, booleans, geometry) as it is; strings with their quotes doubled;
 * bytes in hex; undefined for what has no such literal.
 */
function literalWithoutBackslashes(connection: any, value: unknown): string | undefined {
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`;
  if (typeof value === 'string') return quoted(value);
  if (value !== null && typeof value === 'object' && typeof (value as any).pipe === 'function') return undefined;
  if (Array.isArray(value)) {
    // As the driver lists an array (`IN (?)`), with its arrayParenthesis option.
    const parts = value.map((v) => literalWithoutBackslashes(connection, v));
    if (parts.some((p) => p === undefined)) return undefined;
    return mariadbEscape(connection, []) === '()' ? `(${parts.join(',')})` : parts.join(',');
  }
  const written = mariadbEscape(connection, value);
  if (!written.includes('\\')) return written;
  if (value !== null && typeof value === 'object') {
    if (typeof (value as any).toSqlString === 'function') return quoted(String((value as any).toSqlString()));
    if (Object.getPrototypeOf(value) === Object.prototype) return quoted(JSON.stringify(value));
  }
  return undefined;
}

function quoted(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** MysqlAdapter#driverResults with the mariadb driver: a result array whose `meta` Sequelize can delete. */
function mariadbResults(data: unknown): unknown {
  if (!Array.isArray(data)) return data;
  const meta = Object.getOwnPropertyDescriptor(data, 'meta');
  if (!meta || meta.configurable) return data;
  const rows = Array.prototype.slice.call(data);
  Object.defineProperty(rows, 'meta', { value: meta.value, writable: true, configurable: true, enumerable: false });
  return rows;
}
