import type { Transaction } from 'sequelize';
import type { TenantRef } from '../tenant';
import { BaseAdapter, type CatalogSql } from './base';
import { ConfigurationError } from '../errors';
import { type AdapterContext, type ArchiveOperations, type DialectQuery, type LockOptions, type RoleOperations, type RunQuery, type SuspendState, TRANSACTION_CONTROL, type TypeScoping } from './contract';
import { PostgresRoles } from './postgres-roles';
import { appendComment, inlineParameters, POSTGRES_LEXICONS } from './statements';
import { clientQuery, clientRows, pgLiteral, prefixNext, type Prefix } from '../seam/pg';
import { closeConnection, openConnection, wrapTypeRefresh } from '../seam/sequelize';
import type { SchemaShape } from './catalog';
import { readPostgresCatalog } from './postgres-catalog';
import type { AuditCheck, AuditInput } from './audit';
import { postgresChecks } from './postgres-audit';

/** The search_path set with SET LOCAL in the connection's open transaction (undefined: the default). */
const LOCAL_PATH = Symbol('apartment.localPath');
/** The SET LOCAL ROLE sent in the connection's open transaction (undefined: none, the login role). */
const LOCAL_ROLE = Symbol('apartment.localRole');
const UNKNOWN = '\0unknown';

/** Statements that set one thing for the rest of the transaction; prefixes are composed from them. */
interface Step {
  readonly sql: string;
  readonly statements: number;
}

/** How statements enter a tenant, with the prefixes of the two common cases composed once. */
interface TenantRoute {
  readonly path: string;
  /** Sets the search_path and fails when the schema is gone. */
  readonly enter: Step;
  /** isolation: 'role': SET LOCAL ROLE to the tenant role. */
  readonly role: Step | undefined;
  /** What a raw statement outside a transaction needs. */
  readonly prefix: Prefix;
  /** What a model query (qualified) outside a transaction needs: the role alone (undefined without roles). */
  readonly qualified: Prefix | undefined;
}

const TO_DEFAULT: Step = { sql: 'SET LOCAL search_path TO DEFAULT', statements: 1 };
const ROLE_NONE: Step = { sql: 'SET LOCAL ROLE NONE', statements: 1 };
/** A setting the statement does not care about (model queries name every table: any search_path will do). */
const KEEP = Symbol('apartment.keep');

/** One prefix for the steps, in order. */
function compose(steps: readonly Step[]): Prefix {
  let text = '';
  let statements = 0;
  for (const step of steps) {
    text += `${step.sql}; `;
    statements += step.statements;
  }
  return { text, statements };
}

/**
 * PostgreSQL: one schema per tenant.
 *
 * Raw SQL is routed with the search_path set for the transaction (one
 * `set_config(..., true)` statement that also checks the schema exists), sent
 * in the same message as the statement (simple protocol), so the setting
 * lives exactly as long as the statement's implicit transaction: nothing
 * stays on the connection, and it is
 * correct behind a transaction-pooling PgBouncer. Statements with bind
 * parameters (extended protocol, one statement per message) run in a
 * `BEGIN; SET LOCAL ...` / `COMMIT` bracket; inside a Sequelize transaction the
 * SET LOCAL is issued once and tracked until the transaction ends.
 *
 * With `isolation: 'role'` (postgres-roles.ts) the prefix also carries
 * `SET LOCAL ROLE <tenant role>`, and model queries are routed too (for the
 * role alone: they name every table). INSERT/UPDATE are rendered without
 * bind parameters then, so they take the one-message path as well.
 */
export class PostgresAdapter extends BaseAdapter {
  readonly dialect = 'postgres' as const;
  readonly maxNameBytes = 63;
  readonly listScansAll = false;
  readonly lockHoldsConnection = false;
  readonly transactionalDdl = true;
  // Model queries skip routing: the SET LOCAL prefix costs ~20% on a findByPk,
  // and a bind statement would need a BEGIN/COMMIT round trip.
  // With isolation: 'role' they are routed for the role alone.
  readonly routesQualifiedQueries: boolean;
  /** Tenant roles, with `isolation: 'role'`: syncing them, shared grants, readable bookkeeping. */
  override readonly roles: RoleOperations | undefined;
  readonly #routes = new Map<string, TenantRoute>();
  /** Tenant roles, with `isolation: 'role'`. */
  readonly #roles: PostgresRoles | undefined;
  protected readonly sql: CatalogSql = {
    describe: (name) => `schema "${name}"`,
    create: (quoted) => `CREATE SCHEMA ${quoted}`,
    drop: (quoted) => `DROP SCHEMA ${quoted} CASCADE`,
    exists: 'SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname = ?',
    state: "SELECT nspname AS name, pg_catalog.obj_description(oid, 'pg_namespace') AS note FROM pg_catalog.pg_namespace WHERE nspname = ?",
    states: (prefix) =>
      prefix === ''
        ? ["SELECT nspname AS name, pg_catalog.obj_description(oid, 'pg_namespace') AS note FROM pg_catalog.pg_namespace ORDER BY nspname", []]
        : [
            "SELECT nspname AS name, pg_catalog.obj_description(oid, 'pg_namespace') AS note FROM pg_catalog.pg_namespace WHERE nspname >= ? AND nspname < ? ORDER BY nspname",
            [prefix, prefixEnd(prefix)],
          ],
    note: (quoted, escaped) => `COMMENT ON SCHEMA ${quoted} IS ${escaped ?? 'NULL'}`,
    // A range scan of pg_namespace_nspname_index (a `name` sorts bytewise: collation "C"), so listing
    // the spares (every createTenant does) or one prefix reads those names, not all 10,000 schemas.
    list: (prefix) =>
      prefix === ''
        ? ['SELECT nspname AS name FROM pg_catalog.pg_namespace ORDER BY nspname', []]
        : ['SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname >= ? AND nspname < ? ORDER BY nspname', [prefix, prefixEnd(prefix)]],
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
    // 3F000 invalid_schema_name, 42P01 undefined_table.
    isMissingObject: (e) => e?.code === '3F000' || e?.code === '42P01',
  };

  /** ENUM types live in a schema: list a tenant's, and drop a bare name in the tenant rather than through the search_path. */
  readonly typeScoping: TypeScoping = {
    listMethods: ['pgListEnums'],
    dropMethod: 'dropEnum',
    dropTypeSql: (tenant, name) => this.queryGenerator.pgEnumDrop(null, null, `${this.quote(tenant.name)}.${this.quote(name)}`),
  };

  constructor(ctx: AdapterContext, defaultSchema = 'public') {
    super(ctx, defaultSchema);
    this.routesQualifiedQueries = this.isolation === 'role';
    this.#roles = this.isolation === 'role'
      ? new PostgresRoles({
          admin: (sql, options) => this.admin(sql, options),
          quote: (name) => this.quote(name),
          escape: (value) => (this.sequelize as any).escape(value),
          prefix: () => ctx.prefix?.() ?? '',
          keyOf: (name) => ctx.keyOf?.(name),
          sharedTables: () => (ctx.sharedTables?.() ?? []).map((t) => this.queryGenerator.quoteTable(t)),
          transaction: (fn) => this.ctx.unrouted(() => this.sequelize.transaction(fn)),
        })
      : undefined;
    const roles = this.#roles;
    this.roles = roles && {
      sync: (tenants) => roles.sync(tenants),
      grantShared: () => roles.ensureShared(),
      readableByApp: (tenant, table, options = {}) => roles.readableByApp(tenant, table, options.transaction),
    };
  }

  override install(): void {
    super.install();
    // Sequelize refreshes its type OIDs (after CREATE TYPE) with a catalog query
    // outside any transaction. Routed, it would check a tenant schema that
    // createTenant's open transaction has not committed yet, and fail.
    wrapTypeRefresh(this.sequelize, this.ctx.unrouted);
  }

  /** With roles: the role is created and granted in the same transaction as the schema. */
  override async create(tenant: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    const roles = this.#roles;
    if (!roles) return super.create(tenant, options);
    await this.#inTransaction(options.transaction, async (transaction) => {
      await roles.prepare(tenant, transaction);
      await super.create(tenant, { transaction });
      await roles.grantSchema(tenant, transaction);
    });
  }

  /** With roles: DROP OWNED BY and DROP ROLE follow DROP SCHEMA in its transaction. */
  override async drop(tenant: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    const roles = this.#roles;
    if (!roles) return super.drop(tenant, options);
    await this.#inTransaction(options.transaction, async (transaction) => {
      await super.drop(tenant, { transaction });
      await roles.dropRole(tenant, transaction);
    });
  }

  /** Renames the schema and, with roles, its role (grants and ownership follow the role). */
  async rename(from: string, to: string, options: { transaction?: Transaction } = {}): Promise<void> {
    const roles = this.#roles;
    if (!roles) {
      await this.admin(`ALTER SCHEMA ${this.quote(from)} RENAME TO ${this.quote(to)}`, options);
      return;
    }
    await this.#inTransaction(options.transaction, async (transaction) => {
      await this.admin(`ALTER SCHEMA ${this.quote(from)} RENAME TO ${this.quote(to)}`, { transaction });
      await roles.renameRole(from, to, transaction);
    });
  }

  protected createArchive(): ArchiveOperations {
    const { PostgresArchive } = require('./postgres-archive') as typeof import('./postgres-archive');
    return new PostgresArchive({
      sequelize: this.sequelize,
      quote: (name) => this.quote(name),
      admin: (sql, options) => this.admin(sql, options),
      inTenant: (tenant, sql, options) => this.inTenant(tenant, sql, options),
      unrouted: (fn) => this.ctx.unrouted(fn),
    });
  }

  /** With roles: the comment and the tenant role's write privileges change in one transaction. */
  override async setState(tenant: TenantRef, state: SuspendState, options: { transaction?: Transaction } = {}): Promise<void> {
    const roles = this.#roles;
    if (!roles) return super.setState(tenant, state, options);
    await this.#inTransaction(options.transaction, async (transaction) => {
      await super.setState(tenant, state, { transaction });
      await roles.writable(tenant, state === 'active', transaction);
    });
  }

  /** `fn` in the given transaction, or in one of its own. */
  #inTransaction<T>(transaction: Transaction | undefined, fn: (transaction: Transaction) => Promise<T>): Promise<T> {
    if (transaction) return fn(transaction);
    return this.ctx.unrouted(() => this.sequelize.transaction(fn));
  }

  /**
   * One statement: a DO block that reads the tenant's tables from the
   * catalog, deletes their rows, and restarts the identity and serial
   * sequences that were used (`setval` to their start). A `DELETE` of a few
   * rows (or none) costs a fraction of a `TRUNCATE`, which creates new files
   * per table and index and syncs them at commit (~2 ms per table). The
   * tables are found through the schema's dependency records
   * (`pg_depend`, indexed), not by scanning `pg_class`, whose size is every
   * schema's in the database (and bloated where tests create and drop
   * tenants all day). Foreign keys: a `DELETE` that one refuses is retried
   * after the others (children go first); what still cannot go, and tables
   * with triggers of their own holding a row (a `DELETE` would fire them, a
   * reset must not), are truncated with `CASCADE`. The regnamespace cast
   * fails for a missing schema. `synchronous_commit` is off for this
   * transaction only (`set_config(…, true)`): it does not wait for the WAL
   * flush (a few ms, far more on a busy disk), and if the server crashed
   * right after, the tables would hold their rows again, which no test can see.
   */
  async emptyTables(tenant: TenantRef, keep: readonly string[]): Promise<void> {
    const escape = (value: string) => this.queryGenerator.escape(value) as string;
    const schema = escape(tenant.name);
    const kept = keep.length > 0 ? keep.map(escape).join(', ') : 'NULL';
    // The schema's tables (relkind r/p), through their dependency on the schema, as relation `c`.
    const tables = `(SELECT c.oid, c.relname, c.relispartition FROM pg_catalog.pg_depend n JOIN pg_catalog.pg_class c ON c.oid = n.objid
      WHERE n.refclassid = 'pg_catalog.pg_namespace'::regclass AND n.refobjid = ${escape(this.quote(tenant.name))}::regnamespace
        AND n.classid = 'pg_catalog.pg_class'::regclass AND n.deptype = 'n' AND c.relkind IN ('r', 'p') AND c.relname NOT IN (${kept})) c`;
    const sql = `DO $apartment$
DECLARE filled text[]; triggered text[]; wholesale text[] := '{}'; refused text[]; tname text; progress boolean; held boolean;
BEGIN
  -- Test data: this transaction need not wait for its commit record to reach the disk (for it alone, undone at its end).
  PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
  -- The tables; those with triggers of their own go to TRUNCATE.
  SELECT coalesce(array_agg(c.relname ORDER BY c.relname) FILTER (WHERE NOT t.triggers), '{}'), coalesce(array_agg(c.relname) FILTER (WHERE t.triggers), '{}')
    INTO filled, triggered
    FROM ${tables}
    CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal) AS triggers) t
    WHERE NOT c.relispartition;
  -- The tables' own sequences (serial: 'a', identity: 'i') that were used, back to their start.
  PERFORM CASE WHEN pg_catalog.pg_sequence_last_value(p.seqrelid) IS NOT NULL THEN pg_catalog.setval(p.seqrelid, p.seqstart, false) END
    FROM ${tables}
    JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = c.oid AND d.classid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_catalog.pg_sequence p ON p.seqrelid = d.objid;
  -- A DELETE that a foreign key refuses waits for the next pass (children go first).
  LOOP
    refused := '{}'; progress := false;
    FOREACH tname IN ARRAY filled LOOP
      BEGIN
        EXECUTE format('DELETE FROM %I.%I', ${schema}, tname);
        progress := true;
      EXCEPTION WHEN foreign_key_violation THEN
        refused := refused || tname;
      END;
    END LOOP;
    filled := refused;
    EXIT WHEN cardinality(refused) = 0 OR NOT progress;
  END LOOP;
  -- Tables with triggers: truncated only when they hold a row (a TRUNCATE costs new files).
  FOREACH tname IN ARRAY triggered LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', ${schema}, tname) INTO held;
    IF held THEN wholesale := wholesale || tname; END IF;
  END LOOP;
  wholesale := wholesale || filled;
  IF cardinality(wholesale) > 0 THEN
    EXECUTE 'TRUNCATE ' || (SELECT string_agg(format('%I.%I', ${schema}, n), ', ') FROM unnest(wholesale) AS n) || ' CASCADE';
  END IF;
END $apartment$`;
    await this.admin(sql).catch((error: unknown) => this.translateQueryError(error, tenant));
  }

  audits(input: AuditInput): AuditCheck[] {
    const select = async (sql: string, replacements: unknown[] = []) => (await this.admin(sql, { replacements, type: 'SELECT' })) as any[];
    const connect = async () => {
      // A connection of its own, outside the pool (which may have one connection).
      const connection: unknown = await openConnection(this.sequelize);
      return {
        rows: async (sql: string) => (await clientRows(connection, sql, [])) as any[],
        close: () => closeConnection(this.sequelize, connection),
      };
    };
    return postgresChecks({ select, quote: (name) => this.quote(name), isolation: this.isolation, connect }, input);
  }

  readCatalog(schemas: readonly string[]): Promise<Map<string, SchemaShape>> {
    return readPostgresCatalog(async (sql, replacements) => (await this.admin(sql, { replacements, type: 'SELECT' })) as any[], schemas);
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
   * The search_path `"tenant_acme", "public"` (the tenant first, then the
   * default schema, where extensions live) set for the transaction, with the
   * existence check, in one statement:
   * `SELECT set_config('search_path', '"tenant_acme"'::regnamespace::text || ', "public"', true)`.
   */
  #routeFor(tenant: TenantRef): TenantRoute {
    let route = this.#routes.get(tenant.name);
    if (!route) {
      const path = `${this.quote(tenant.name)}, ${this.quote(this.defaultSchema)}`;
      // One statement sets the search_path for the transaction and checks the schema: the regnamespace cast fails when it is gone.
      const escape = (value: string) => this.queryGenerator.escape(value);
      const enter: Step = { sql: `SELECT pg_catalog.set_config('search_path', ${escape(this.quote(tenant.name))}::regnamespace::text || ${escape(`, ${this.quote(this.defaultSchema)}`)}, true)`, statements: 1 };
      // The role after the existence check, so a missing tenant fails as one (not as a missing role).
      const role: Step | undefined = this.#roles ? { sql: `SET LOCAL ROLE ${this.#roles.role(tenant)}`, statements: 1 } : undefined;
      route = { path, enter, role, prefix: compose(role ? [enter, role] : [enter]), qualified: role ? compose([role]) : undefined };
      if (this.#routes.size > 100_000) this.#routes.clear();
      this.#routes.set(tenant.name, route);
    }
    return route;
  }

  route(query: DialectQuery, sql: string, parameters: unknown[] | undefined, tenant: TenantRef | undefined, run: RunQuery, qualified = false): Promise<unknown> {
    if (!this.#roles) return this.#send(query, sql, parameters, tenant, false, run);
    return this.#send(query, sql, parameters, tenant, qualified, run).catch((error: unknown) => this.#refused(error, tenant, sql, query));
  }

  /**
   * Sends `sql` with what it needs set (search_path unless `qualified`; the
   * role with isolation: 'role'): transaction control as it is, a statement
   * outside a transaction with its prefix, one inside with what the
   * transaction does not have set yet.
   */
  #send(query: DialectQuery, sql: string, parameters: unknown[] | undefined, tenant: TenantRef | undefined, qualified: boolean, run: RunQuery): Promise<unknown> {
    if (TRANSACTION_CONTROL.test(sql)) return this.#sendControl(query.connection, sql, run);
    // Bind statements (extended protocol) and what the server must receive alone take no prefix.
    const alone = this.sendsAlone(sql);
    const bind = Boolean(parameters && parameters.length) || alone;
    if (!query.options.transaction) return this.#sendOutside(query.connection, sql, parameters, tenant, qualified, bind && !alone, bind, run);
    return this.#sendInTransaction(query.connection, tenant, qualified, bind, run);
  }

  /** BEGIN, COMMIT, SAVEPOINT, ...: sent as they are; a boundary ends (or, for ROLLBACK TO, may undo) any SET LOCAL. */
  async #sendControl(connection: any, sql: string, run: RunQuery): Promise<unknown> {
    const result = await run();
    const after = /^\s*ROLLBACK\s+TO\b/i.test(sql) ? UNKNOWN : undefined;
    connection[LOCAL_PATH] = after;
    connection[LOCAL_ROLE] = after;
    return result;
  }

  /**
   * Outside a transaction nothing is set, so a tenant-less statement needs
   * nothing. A tenant's statement takes its prefix in its own message; with
   * bind parameters, either inlined (`inlinable`, isolation: 'role') or in a
   * BEGIN/COMMIT bracket.
   */
  async #sendOutside(connection: any, sql: string, parameters: unknown[] | undefined, tenant: TenantRef | undefined, qualified: boolean, inlinable: boolean, bind: boolean, run: RunQuery): Promise<unknown> {
    const route = tenant ? this.#routeFor(tenant) : undefined;
    const prefix = route && (qualified ? route.qualified : route.prefix);
    if (!prefix) return run();
    if (!bind) {
      prefixNext(connection, prefix);
      return run();
    }
    // isolation: 'role': bind values inlined as escaped literals, so the statement goes with its prefix in one message.
    const inlined = this.#roles && inlinable ? inlineBind(connection, sql, parameters!) : undefined;
    if (inlined !== undefined) {
      prefixNext(connection, prefix);
      return run(inlined, []);
    }
    return this.#bracket(connection, prefix, run);
  }

  /** `BEGIN; <prefix>`, the statement, `COMMIT`: for a bind statement, which cannot share its message. */
  async #bracket(connection: any, prefix: Prefix, run: RunQuery): Promise<unknown> {
    try {
      await clientQuery(connection, `BEGIN; ${prefix.text}`);
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

  /**
   * Inside a transaction SET LOCAL lasts until it ends: what the connection
   * has set is tracked, and only what differs is sent (in the statement's
   * message, or before a bind statement).
   */
  async #sendInTransaction(connection: any, tenant: TenantRef | undefined, qualified: boolean, bind: boolean, run: RunQuery): Promise<unknown> {
    const route = tenant ? this.#routeFor(tenant) : undefined;
    const path = qualified ? KEEP : route?.path;
    const role = this.#roles ? route?.role?.sql : KEEP;
    const setPath = path !== KEEP && (connection[LOCAL_PATH] ?? undefined) !== path;
    const setRole = role !== KEEP && (connection[LOCAL_ROLE] ?? undefined) !== role;
    if (!setPath && !setRole) return run();
    const steps: Step[] = [];
    if (setPath) {
      steps.push(route ? route.enter : TO_DEFAULT);
      connection[LOCAL_PATH] = UNKNOWN;
    }
    if (setRole) {
      steps.push(route?.role ?? ROLE_NONE);
      connection[LOCAL_ROLE] = UNKNOWN;
    }
    const prefix = compose(steps);
    const done = () => {
      if (setPath) connection[LOCAL_PATH] = path;
      if (setRole) connection[LOCAL_ROLE] = role;
    };
    if (bind) {
      await clientQuery(connection, prefix.text);
      done();
      return run();
    }
    prefixNext(connection, prefix);
    const result = await run();
    done();
    return result;
  }

  /** isolation: 'role': what the database refused, as a domain error. */
  async #refused(error: unknown, tenant: TenantRef | undefined, sql: string, query: DialectQuery): Promise<never> {
    const roles = this.#roles!;
    const transaction = query.options.transaction ?? undefined;
    const translated = await roles.translate(error, tenant, sql, async () => tenant !== undefined && (await this.#askAfterError(roles.roleUsableSql, [tenant.name], transaction)).length > 0);
    // A missing role is a missing tenant when its schema is gone too.
    if (tenant && translated instanceof ConfigurationError && !(await this.existsAfterError(tenant, transaction).catch(() => true))) {
      throw this.notFound(tenant, error);
    }
    throw translated;
  }

  protected override async existsAfterError(tenant: TenantRef, transaction: Transaction | undefined): Promise<boolean> {
    if (!transaction) return this.exists(tenant);
    return (await this.#askAfterError(this.sql.exists, [tenant.name], transaction)).length > 0;
  }

  /** A catalog query on the error path: in a transaction the failed statement aborted it, so on a connection of its own. */
  async #askAfterError(sql: string, values: unknown[], transaction: Transaction | undefined): Promise<unknown[]> {
    if (!transaction) return (await this.admin(sql, { replacements: values }))[0] as unknown[];
    const connection = await openConnection(this.sequelize);
    try {
      let n = 0;
      return await clientRows(connection, sql.replace(/\?/g, () => `$${++n}`), values);
    } finally {
      await closeConnection(this.sequelize, connection).catch(() => undefined);
    }
  }

  /** Read as the session may read it: with standard_conforming_strings on or off. */
  appendComment(sql: string, comment: string): string | undefined {
    return appendComment(sql, comment, POSTGRES_LEXICONS);
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
  protected patchQueryGenerator(queryGenerator: any): void {
    if (this.#roles) {
      // Sequelize's INSERT/UPDATE use bind parameters (extended protocol: one
      // statement per message), which would need a BEGIN/COMMIT bracket for
      // SET LOCAL ROLE. Rendered with escaped values (what Sequelize itself
      // does with `prependSearchPath`), they go in one message with the prefix.
      for (const name of ['insertQuery', 'updateQuery']) {
        const original = queryGenerator[name];
        queryGenerator[name] = function (this: any, ...args: any[]) {
          // insertQuery(table, values, attributes, options); updateQuery(table, values, where, options, attributes)
          const options = (args[3] ??= {});
          if (options.bindParam === undefined) options.bindParam = false;
          return original.apply(this, args);
        };
      }
    }
    const removeIndexQuery = queryGenerator.removeIndexQuery;
    queryGenerator.removeIndexQuery = function (this: any, table: any, indexNameOrAttributes: unknown, options?: unknown) {
      if (table === null || typeof table !== 'object' || !table.schema) return removeIndexQuery.call(this, table, indexNameOrAttributes, options);
      const sql: string = removeIndexQuery.call(this, table.tableName, indexNameOrAttributes, options);
      return sql.replace('IF EXISTS ', `IF EXISTS ${this.quoteIdentifier(table.schema)}.`);
    };
  }
}

/**
 * `sql` with its bind values as escaped literals: the text node-postgres
 * would send as each parameter, quoted with its `escapeLiteral`; an untyped
 * literal is resolved by the server from its context as an untyped
 * parameter is. `escapeLiteral` writes a backslash as E'\\', right whatever
 * `standard_conforming_strings` says; the statement is read both ways, and
 * when they disagree on where its placeholders are (a backslash in a ''
 * string) it keeps its bind parameters. Undefined (keep bind parameters) then,
 * for binary values (Buffers), or when the driver's helpers are not found.
 */
function inlineBind(connection: any, sql: string, parameters: unknown[]): string | undefined {
  const literal = pgLiteral(connection);
  return literal && inlineParameters(sql, parameters, literal, POSTGRES_LEXICONS);
}

/**
 * The first name after every name that starts with `prefix`: its last
 * character plus one (prefixes are ASCII, `[a-z0-9_-]`, so this stays ASCII
 * and sorts bytewise right after them).
 */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
