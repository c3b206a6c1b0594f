import type { Transaction } from 'sequelize';
import { ApartmentError, ConfigurationError, CrossTenantError, NoTenantError } from '../errors';
import type { TenantRef } from '../tenant';
import { driverError } from './base';
import type { RolesResult } from './contract';

/** How the roles module sends SQL: the adapter's unrouted admin statement. */
export type AdminQuery = (sql: string, options?: { transaction?: Transaction; replacements?: unknown[] }) => Promise<any>;

export interface RolesContext {
  admin: AdminQuery;
  quote(name: string): string;
  escape(value: string): string;
  /** The tenant prefix (the group role is named from it). */
  prefix(): string;
  /** Tenant key of a schema name, or undefined when it is not one. */
  keyOf(name: string): string | undefined;
  /** `schema.table` of the shared models' tables, quoted. */
  sharedTables(): string[];
  /** Runs `fn` in one transaction of its own (routing off). */
  transaction<T>(fn: (transaction: Transaction) => Promise<T>): Promise<T>;
}


/** Privileges of the group role on shared tables and on their sequences. */
const SHARED_TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER';
const SHARED_SEQUENCE_PRIVILEGES = 'USAGE, SELECT, UPDATE';
/** What a suspended tenant's role loses on its own tables. */
const WRITE_PRIVILEGES = 'INSERT, UPDATE, DELETE, TRUNCATE';

/**
 * `isolation: 'role'` on PostgreSQL: the database itself refuses what routing
 * gets wrong.
 *
 * - Each tenant has a NOLOGIN role named like its schema. The schema is owned
 *   by the app's login role (so it can rename and drop it) and granted to the
 *   tenant role (USAGE, CREATE); everything in it is created, and so owned,
 *   by the tenant role, because every statement for a tenant (migrations
 *   included) runs under `SET LOCAL ROLE <tenant role>`. No other tenant role
 *   has USAGE on the schema, so `"tenant_b".x` inside tenant a is refused.
 * - The login role is a member of every tenant role (to `SET ROLE`) but must
 *   be NOINHERIT: tenant-less statements run as the login role and must not
 *   reach tenant tables through the memberships.
 * - A group role (`<prefix>_shared`: never a valid key) that every tenant
 *   role is in holds the privileges on the shared models' tables.
 */
export class PostgresRoles {
  readonly #ctx: RolesContext;
  readonly #names = new Map<string, string>();
  #checked: Promise<void> | undefined;

  constructor(ctx: RolesContext) {
    this.#ctx = ctx;
  }

  /** The group role's name. */
  get group(): string {
    return `${this.#ctx.prefix()}_shared`;
  }

  /** The tenant role, quoted (cached: this is on the hot path). */
  role(tenant: TenantRef): string {
    let quoted = this.#names.get(tenant.name);
    if (!quoted) {
      quoted = this.#ctx.quote(tenant.name);
      if (this.#names.size > 10_000) this.#names.clear();
      this.#names.set(tenant.name, quoted);
    }
    return quoted;
  }

  /**
   * The login role must be able to create roles and must not be a superuser
   * (a superuser ignores every privilege for tenant-less statements) nor
   * INHERIT (it would have every tenant role's privileges without SET ROLE).
   * Checked once per process, before the first role is made.
   */
  checkLogin(): Promise<void> {
    this.#checked ??= (async () => {
      const [rows] = await this.#ctx.admin('SELECT rolname, rolsuper, rolinherit, rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = session_user');
      const login = (rows as Array<{ rolname: string; rolsuper: boolean; rolinherit: boolean; rolcreaterole: boolean }>)[0];
      const what = login
        ? login.rolsuper
          ? 'is a superuser, which bypasses every privilege check for statements without a tenant. Connect as an ordinary role'
          : login.rolinherit
            ? `inherits the privileges of the roles it is a member of, so statements without a tenant could read every tenant. Run ALTER ROLE ${this.#ctx.quote(login.rolname)} NOINHERIT as a superuser`
            : !login.rolcreaterole
              ? `cannot create roles. Run ALTER ROLE ${this.#ctx.quote(login.rolname)} CREATEROLE as a superuser`
              : undefined
        : 'could not be read from pg_roles. Check the connection user';
      if (what) {
        this.#checked = undefined;
        throw new ConfigurationError(
          `isolation: 'role' needs a login role that can create roles, is not a superuser and is NOINHERIT; the role ${login ? `'${login.rolname}'` : 'of this connection'} ${what}, then retry (or turn isolation off).`,
        );
      }
    })();
    return this.#checked;
  }

  /** Statements that create (if missing) and grant the tenant's role; run before CREATE SCHEMA, in its transaction. */
  async prepare(tenant: TenantRef, transaction: Transaction | undefined): Promise<void> {
    await this.checkLogin();
    await this.#ensureGroup(transaction);
    await this.#ctx.admin(this.#roleSql(tenant), { transaction });
  }

  /** Grants the new schema to the tenant role (after CREATE SCHEMA, same transaction). */
  async grantSchema(tenant: TenantRef, transaction: Transaction | undefined): Promise<void> {
    await this.#ctx.admin(`GRANT USAGE, CREATE ON SCHEMA ${this.#ctx.quote(tenant.name)} TO ${this.role(tenant)}`, { transaction });
  }

  /** After DROP SCHEMA (same transaction): drops what the role still owns or was granted, then the role. */
  async dropRole(tenant: TenantRef, transaction: Transaction | undefined): Promise<void> {
    if (!(await this.#exists(tenant.name, transaction))) return;
    const role = this.role(tenant);
    // DROP OWNED needs the role's privileges, which a NOINHERIT login only has under SET ROLE.
    await this.#ctx.admin(`SET LOCAL ROLE ${role}; DROP OWNED BY ${role}; SET LOCAL ROLE NONE; DROP ROLE ${role}`, { transaction });
  }

  /** Renames the role with its schema (ownership and grants follow the role's oid). */
  async renameRole(from: string, to: string, transaction: Transaction | undefined): Promise<void> {
    if (!(await this.#exists(from, transaction))) return;
    await this.#ctx.admin(`ALTER ROLE ${this.#ctx.quote(from)} RENAME TO ${this.#ctx.quote(to)}`, { transaction });
    this.#names.delete(from);
  }

  /** The group role (created when missing) with the shared models' tables granted to it (after a shared sync()). */
  async ensureShared(): Promise<void> {
    await this.checkLogin();
    await this.#ensureGroup(undefined, true);
  }

  /** Grants the shared models' tables (and their sequences) to the group role; returns the tables granted. */
  async grantShared(transaction?: Transaction): Promise<string[]> {
    const tables = this.#ctx.sharedTables();
    if (tables.length === 0) return [];
    const list = tables.map((t) => this.#ctx.escape(t)).join(', ');
    // Only tables that exist now; sequences owned by their columns (serial, identity) too.
    const [rows] = await this.#ctx.admin(
      `SELECT c.oid::regclass::text AS name, c.relkind AS kind FROM pg_catalog.pg_class c WHERE c.oid IN (SELECT to_regclass(t) FROM unnest(ARRAY[${list}]::text[]) t)
       UNION ALL
       SELECT d.objid::regclass::text, 'S' FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
       WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
         AND d.refobjid IN (SELECT to_regclass(t) FROM unnest(ARRAY[${list}]::text[]) t)`,
      { transaction },
    );
    const group = this.#ctx.quote(this.group);
    const grants = (rows as Array<{ name: string; kind: string }>).map((r) =>
      r.kind === 'S' ? `GRANT ${SHARED_SEQUENCE_PRIVILEGES} ON SEQUENCE ${r.name} TO ${group}` : `GRANT ${SHARED_TABLE_PRIVILEGES} ON TABLE ${r.name} TO ${group}`,
    );
    if (grants.length) await this.#ctx.admin(grants.join('; '), { transaction });
    return (rows as Array<{ name: string; kind: string }>).filter((r) => r.kind !== 'S').map((r) => r.name);
  }

  /**
   * Creates and grants the roles of existing tenants (turning isolation on
   * for a deployment that ran without it): the role, its memberships, the
   * schema grant, and ownership of everything in the schema moved to the
   * role. Idempotent: a second run changes nothing.
   */
  async sync(tenants: readonly TenantRef[]): Promise<RolesResult> {
    await this.checkLogin();
    const shared = await this.#ctx.transaction((transaction) => this.#ensureGroup(transaction, true));
    let created = 0;
    for (const tenant of tenants) {
      await this.#ctx.transaction(async (transaction) => {
        if (!(await this.#exists(tenant.name, transaction))) created += 1;
        await this.#ctx.admin(this.#roleSql(tenant), { transaction });
        await this.grantSchema(tenant, transaction);
        await this.#adopt(tenant, transaction);
      });
    }
    return { tenants: tenants.length, created, group: this.group, shared };
  }

  /**
   * A suspended tenant's role loses (and a resumed one gets back) its write
   * privileges on every table of its schema, so PostgreSQL itself refuses
   * writes (SQLSTATE 42501). The role owns the tables, so it revokes from
   * itself under SET LOCAL ROLE; DDL (migrations) stays allowed.
   */
  async writable(tenant: TenantRef, writable: boolean, transaction: Transaction | undefined): Promise<void> {
    const role = this.role(tenant);
    const change = writable ? `GRANT ${WRITE_PRIVILEGES} ON ALL TABLES IN SCHEMA ${this.#ctx.quote(tenant.name)} TO ${role}` : `REVOKE ${WRITE_PRIVILEGES} ON ALL TABLES IN SCHEMA ${this.#ctx.quote(tenant.name)} FROM ${role}`;
    await this.#ctx.admin(`SET LOCAL ROLE ${role}; ${change}; SET LOCAL ROLE NONE`, { transaction });
  }

  /**
   * Makes a tenant's bookkeeping table (SequelizeMeta) readable by the login
   * role, so migration status reads every tenant in one statement. Runs as
   * the tenant role, which owns the table.
   */
  async readableByApp(tenant: TenantRef, table: string, transaction: Transaction | undefined): Promise<void> {
    await this.#ctx.admin(`SET LOCAL ROLE ${this.role(tenant)}; GRANT SELECT ON ${table} TO SESSION_USER; SET LOCAL ROLE NONE`, { transaction });
  }

  /**
   * A driver error under `SET LOCAL ROLE` as a domain error: another
   * tenant's schema refused (CrossTenantError), a tenant table refused to a
   * statement without a tenant (NoTenantError), a tenant without its role
   * yet (ConfigurationError). Anything else is returned unchanged.
   *
   * Read from the SQLSTATE, the statement and the catalog, never from the
   * message, whose language is the server's `lc_messages`: 42501
   * (insufficient_privilege) with another tenant's schema named in the
   * statement is a cross-tenant reach; 42501 with no tenant and a tenant's
   * schema named is a tenant-less reach; 42501, 22023 or 42704 (SET ROLE's
   * check) with the tenant's role missing or not the login's is a missing role.
   */
  async translate(error: unknown, tenant: TenantRef | undefined, sql: string, roleUsable: () => Promise<boolean>): Promise<unknown> {
    const e = driverError(error);
    const code: unknown = e?.code;
    if (code === '42501') {
      const reached = this.#reached(sql, tenant);
      if (tenant && reached) {
        return new CrossTenantError(
          `A statement in tenant '${tenant.key}' reached tenant '${reached.key}' (schema "${reached.name}"), and the database refused it (isolation: 'role'). Find the hand-written schema, literal or Model.schema() that names "${reached.name}" and use apartment.run('${reached.key}', ...) for that tenant's data instead.`,
          { tenant: tenant.key, instanceTenant: reached.key, cause: error },
        );
      }
      if (!tenant && reached) {
        return new NoTenantError(
          `A statement without a tenant reached a tenant's table (tenant '${reached.key}') and the database refused it (isolation: 'role': ${typeof e?.message === 'string' ? e.message : code}). Run it inside apartment.run(tenant, fn) or pass { tenant } in its options.`,
          { tenant: reached.key, cause: error },
        );
      }
    }
    // SET ROLE to a role that does not exist fails in its check hook (22023, or 42704), one the login is not in with 42501.
    if (tenant && (code === '42501' || code === '22023' || code === '42704') && !(await roleUsable().catch(() => true))) return this.#missingRole(tenant, error);
    return error;
  }

  /** The query that tells whether the login can `SET ROLE` to a tenant's role (one `?`: the role's name; a row when it can). */
  readonly roleUsableSql = "SELECT 1 AS usable FROM pg_catalog.pg_roles WHERE rolname = ? AND pg_catalog.pg_has_role(session_user, oid, 'MEMBER')";

  #missingRole(tenant: TenantRef, cause: unknown): ApartmentError {
    return new ConfigurationError(
      `Tenant '${tenant.key}' has no usable role "${tenant.name}" yet (isolation: 'role' was turned on after it was created). Create and grant the roles of existing tenants with apartment.syncRoles() (CLI: npx apartment tenant:roles), then retry.`,
      { tenant: tenant.key, cause },
    );
  }

  /**
   * The first tenant other than `current` whose schema the statement names
   * as a qualifier (`"tenant_b".widgets`, `tenant_b.widgets`), or undefined.
   */
  #reached(sql: string, current?: TenantRef): TenantRef | undefined {
    for (const match of sql.matchAll(/(?:"((?:[^"]|"")+)"|\b([A-Za-z_][A-Za-z0-9_$-]*))\s*\./g)) {
      const name = match[1] !== undefined ? match[1].replace(/""/g, '"') : match[2]!;
      if (name === current?.name) continue;
      const key = this.#ctx.keyOf(name);
      if (key !== undefined) return Object.freeze({ key, name });
    }
    return undefined;
  }

  async #exists(role: string, transaction: Transaction | undefined): Promise<boolean> {
    const [rows] = await this.#ctx.admin('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ?', { replacements: [role], transaction });
    return (rows as unknown[]).length > 0;
  }

  #groupReady = false;

  /** The group role, once per process (or again with `force`), with the shared tables granted to it. */
  async #ensureGroup(transaction: Transaction | undefined, force = false): Promise<string[]> {
    if (this.#groupReady && !force) return [];
    const group = this.#ctx.quote(this.group);
    await this.#ctx.admin(createRoleSql(group), { transaction });
    const shared = await this.grantShared(transaction);
    // Only once it is committed: a rolled-back createTenant takes the group role with it.
    if (transaction) transaction.afterCommit(() => void (this.#groupReady = true));
    else this.#groupReady = true;
    return shared;
  }

  /** Creates the role when missing; the login may SET ROLE to it; it is in the group. */
  #roleSql(tenant: TenantRef): string {
    const role = this.role(tenant);
    return `${createRoleSql(role)}; GRANT ${role} TO SESSION_USER; GRANT ${this.#ctx.quote(this.group)} TO ${role}`;
  }

  /** Moves ownership of everything in the tenant's schema to its role (tables take their indexes and owned sequences along). */
  async #adopt(tenant: TenantRef, transaction: Transaction): Promise<void> {
    const role = this.#ctx.escape(tenant.name);
    const schema = this.#ctx.escape(tenant.name);
    const [rows] = await this.#ctx.admin(
      `SELECT CASE c.relkind WHEN 'S' THEN 'ALTER SEQUENCE ' WHEN 'v' THEN 'ALTER VIEW ' WHEN 'm' THEN 'ALTER MATERIALIZED VIEW ' WHEN 'f' THEN 'ALTER FOREIGN TABLE ' ELSE 'ALTER TABLE ' END
              || c.oid::regclass::text || ' OWNER TO ' || quote_ident(${role}) AS sql
         FROM pg_catalog.pg_class c
        WHERE c.relnamespace = to_regnamespace(${schema}) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND c.relowner <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ${role})
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')))
       UNION ALL
       SELECT 'ALTER TYPE ' || t.oid::regtype::text || ' OWNER TO ' || quote_ident(${role})
         FROM pg_catalog.pg_type t
        WHERE t.typnamespace = to_regnamespace(${schema}) AND t.typtype IN ('e', 'd')
          AND t.typowner <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ${role})
       UNION ALL
       SELECT 'ALTER ROUTINE ' || p.oid::regprocedure::text || ' OWNER TO ' || quote_ident(${role})
         FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = to_regnamespace(${schema})
          AND p.proowner <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ${role})`,
      { transaction },
    );
    const statements = (rows as Array<{ sql: string }>).map((r) => r.sql);
    if (statements.length) await this.#ctx.admin(statements.join('; '), { transaction });
    // The tenant role owns SequelizeMeta now; status reads keep working for the login role.
    const meta = await this.#ctx.admin(`SELECT to_regclass(${this.#ctx.escape(`${this.#ctx.quote(tenant.name)}."SequelizeMeta"`)})::text AS name`, { transaction });
    const metaName = (meta[0] as Array<{ name: string | null }>)[0]?.name;
    if (metaName) await this.readableByApp(tenant, metaName, transaction);
  }
}

/** CREATE ROLE when missing (two processes may race on it). */
function createRoleSql(quotedRole: string): string {
  return `DO $apartment$BEGIN CREATE ROLE ${quotedRole} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$apartment$`;
}
