import { listed, type AuditCheck, type AuditInput, type DoctorFinding } from './audit';

/** A client connection of its own (outside the pool) that runs SQL and returns rows. */
export interface AuditConnection {
  rows(sql: string): Promise<any[]>;
  close(): Promise<void>;
}

/** How the audit sends SQL (unrouted admin statements), quotes names and opens connections. */
export interface AuditContext {
  select(sql: string, replacements?: unknown[]): Promise<any[]>;
  quote(name: string): string;
  readonly isolation: 'none' | 'role';
  /** A new connection like the app's (through whatever pooler the app goes through). */
  connect(): Promise<AuditConnection>;
}

/** How long the pooler probe may take before it is given up (a pooler that makes clients wait). */
const POOLER_PROBE_MS = 5_000;

/**
 * PostgreSQL's doctor checks, each one or two catalog statements whatever the
 * number of tenants: the login role and the tenant roles under `isolation:
 * 'role'`, role- and database-level search_path defaults, held migration
 * locks, and a pooler in transaction mode in front of the app.
 */
export function postgresChecks(ctx: AuditContext, input: AuditInput): AuditCheck[] {
  const group = `${input.prefix}_shared`;
  // isolation: 'role' is on when the Apartment says so, or (a CLI run without the
  // app's Apartment) when the tenant roles' group exists.
  let roles: Promise<boolean> | undefined;
  const rolesInUse = () =>
    (roles ??= ctx.isolation === 'role'
      ? Promise.resolve(true)
      : ctx.select('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ?', [group]).then((rows) => rows.length > 0));
  return [
    { name: 'login role', run: async () => ((await rolesInUse()) ? loginRole(ctx) : []) },
    { name: 'tenant roles', run: async () => ((await rolesInUse()) ? tenantRoles(ctx, input, group) : []) },
    { name: 'search_path', run: () => searchPath(ctx, input) },
    { name: 'migration locks', run: () => heldLocks(ctx, input) },
    { name: 'pooler', run: () => pooler(ctx) },
  ];
}

async function loginRole(ctx: AuditContext): Promise<DoctorFinding[]> {
  const [login] = await ctx.select('SELECT rolname, rolsuper, rolinherit FROM pg_catalog.pg_roles WHERE rolname = session_user');
  if (!login || !(login.rolsuper || login.rolinherit)) return [];
  const role = ctx.quote(login.rolname);
  return [{
    level: 'error',
    code: 'unfit-login-role',
    message: login.rolsuper
      ? `The login role '${login.rolname}' is a superuser, and isolation: 'role' is on: a superuser bypasses every privilege check, so the database refuses nothing that routing gets wrong.`
      : `The login role '${login.rolname}' is INHERIT, and isolation: 'role' is on: it has the privileges of every tenant role it is a member of, so a statement without a tenant can read every tenant's tables.`,
    fix: login.rolsuper
      ? 'Connect as an ordinary login role (as a superuser: CREATE ROLE app LOGIN NOINHERIT CREATEROLE; GRANT CREATE ON DATABASE <database> TO app;), then point the app at it'
      : `ALTER ROLE ${role} NOINHERIT; (as a superuser)`,
  }];
}

async function tenantRoles(ctx: AuditContext, input: AuditInput, group: string): Promise<DoctorFinding[]> {
  const findings: DoctorFinding[] = [];
  const rows = await ctx.select(
    `SELECT r.rolname AS name, EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid AND g.rolname = ?) AS grouped
       FROM pg_catalog.pg_roles r
      WHERE left(r.rolname::text, ?) = ? AND r.rolname <> ? AND NOT r.rolcanlogin`,
    [group, input.prefix.length, input.prefix, group],
  );
  const grouped = new Set(rows.filter((row) => row.grouped).map((row) => row.name as string));
  const existing = new Set(rows.map((row) => row.name as string));
  const schemas = [...input.tenants.map((t) => t.name), ...input.spares];
  const without = schemas.filter((name) => !grouped.has(name)).sort();
  if (without.length) {
    const keys = without.map((name) => input.keyOf(name) ?? name);
    findings.push({
      level: 'warning',
      code: 'tenant-without-role',
      message: `${without.length} tenant(s) or spare(s) have no tenant role in the group '${group}' (${listed(keys)}): under isolation: 'role' every statement for them fails until it exists.`,
      fix: 'apartment.syncRoles()',
      tenants: without.map((name) => input.keyOf(name)).filter((key): key is string => key !== undefined),
    });
  }
  const known = new Set([...schemas, ...input.scratch]);
  const orphans = [...existing].filter((name) => !known.has(name)).sort();
  if (orphans.length) {
    findings.push({
      level: 'warning',
      code: 'orphan-role',
      message: `${orphans.length} role(s) under the prefix have no tenant or spare (${listed(orphans)}): left over from tenants dropped outside the package; a tenant created later under that name would get what the role still owns and is granted.`,
      fix: `As a superuser: ${orphans.slice(0, 5).map((name) => `DROP OWNED BY ${ctx.quote(name)}; DROP ROLE ${ctx.quote(name)};`).join(' ')}${orphans.length > 5 ? ` (and the same for the other ${orphans.length - 5})` : ''}`,
    });
  }
  return findings;
}

/** Role-level and database-level defaults (ALTER ROLE/DATABASE ... SET search_path) that name a tenant schema. */
async function searchPath(ctx: AuditContext, input: AuditInput): Promise<DoctorFinding[]> {
  const rows = await ctx.select(
    `SELECT r.rolname AS role, d.datname AS db, s.setconfig AS config
       FROM pg_catalog.pg_db_role_setting s
       LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
       LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
      WHERE (s.setrole = 0 OR r.rolcanlogin) AND (s.setdatabase = 0 OR d.datname = current_database())`,
  );
  const findings: DoctorFinding[] = [];
  for (const row of rows) {
    const config: string[] = Array.isArray(row.config) ? row.config : String(row.config ?? '').replace(/^\{|\}$/g, '').split(',');
    const entry = config.find((item) => /^search_path=/i.test(item));
    if (!entry) continue;
    const schemas = entry.slice('search_path='.length).split(',').map((s) => s.trim().replace(/^"|"$/g, ''));
    const tenants = schemas.filter((s) => s.startsWith(input.prefix));
    if (!tenants.length) continue;
    const who = row.role ? `login role '${row.role}'${row.db ? ` in database '${row.db}'` : ''}` : `database '${row.db}'`;
    findings.push({
      level: 'warning',
      code: 'search-path',
      message: `The ${who} has a default search_path with the tenant schema(s) ${listed(tenants)}: every session ${row.role ? 'of that role' : 'in that database'} resolves unqualified names there first, so a query that misses the tenant context reads that tenant's tables instead of failing.`,
      fix: row.role
        ? `ALTER ROLE ${ctx.quote(row.role)}${row.db ? ` IN DATABASE ${ctx.quote(row.db)}` : ''} RESET search_path;`
        : `ALTER DATABASE ${ctx.quote(row.db)} RESET search_path;`,
      tenants: tenants.map((s) => input.keyOf(s)).filter((key): key is string => key !== undefined),
    });
  }
  return findings;
}

/**
 * withLock's pg_advisory_xact_lock(hashtext('sequelize-apartment'), hashtext(name)):
 * pg_locks shows the two int4 keys as classid and objid (oids, so unsigned).
 */
async function heldLocks(ctx: AuditContext, input: AuditInput): Promise<DoctorFinding[]> {
  const rows = await ctx.select(
    `SELECT n.nspname AS name, a.pid AS pid, a.application_name AS app, a.state AS state, EXTRACT(EPOCH FROM now() - a.xact_start)::int AS seconds
       FROM pg_catalog.pg_locks l
       JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
       JOIN pg_catalog.pg_namespace n ON (hashtext(n.nspname::text)::bigint & 4294967295) = l.objid::bigint
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.pid <> pg_backend_pid()
        AND l.classid::bigint = (hashtext('sequelize-apartment')::bigint & 4294967295)
        AND left(n.nspname::text, ?) = ?
      ORDER BY n.nspname`,
    [input.prefix.length, input.prefix],
  );
  if (!rows.length) return [];
  const keyOf = (name: string) => input.keyOf(name) ?? name;
  return [{
    level: 'warning',
    code: 'held-lock',
    message: `The migration lock of ${rows.length} tenant(s) is held: ${rows.slice(0, 5).map((row) => `${keyOf(row.name)} by backend ${row.pid}${row.app ? ` (${row.app})` : ''}, ${row.state}, for ${row.seconds ?? 0} s`).join('; ')}${rows.length > 5 ? `; and ${rows.length - 5} more` : ''}. Migrations, renames and drops of these tenants wait for it. A migration in progress holds it while it runs; one held for long by an idle session is stuck.`,
    fix: `Wait for the migration to finish, or end the stuck session: ${[...new Set(rows.map((row) => `SELECT pg_terminate_backend(${Number(row.pid)});`))].slice(0, 5).join(' ')}`,
    tenants: rows.map((row) => keyOf(row.name)),
  }];
}

async function pooler(ctx: AuditContext): Promise<DoctorFinding[]> {
  if (!(await transactionPooling(ctx.connect))) return [];
  return [{
    level: 'warning',
    code: 'transaction-pooler',
    message: "A pooler in transaction mode (PgBouncer's pool_mode = transaction, or statement) sits between the app and PostgreSQL: one client connection's statements run on different server sessions. Tenant routing keeps working (the search_path, isolation: 'role' and migration locks live inside each statement or transaction), but session state does not survive between statements: SET without LOCAL, session advisory locks, LISTEN, temporary tables and your own prepared statements may land on another session.",
    fix: 'Keep session state inside transactions (SET LOCAL), or give the app (at least for migrations) a direct connection or a session-mode pool',
  }];
}

/**
 * Whether a pooler in transaction (or statement) mode sits between the app
 * and PostgreSQL. Client a asks for its server backend and goes idle; client
 * b opens a transaction and asks for its own: behind such a pooler b gets the
 * backend a just released (PgBouncer reuses the most recent one), or else a,
 * asking again while b holds its backend, gets another one. A direct
 * connection or a session-mode pooler keeps each client on one backend.
 * Given up (false) after a few seconds.
 */
export async function transactionPooling(connect: () => Promise<AuditConnection>): Promise<boolean> {
  const opened: AuditConnection[] = [];
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const open = async () => {
    const connection = await connect();
    if (finished) {
      await connection.close().catch(() => undefined);
      throw new Error('pooler probe given up');
    }
    opened.push(connection);
    return connection;
  };
  const pid = async (c: AuditConnection) => (await c.rows('SELECT pg_backend_pid() AS pid'))[0]?.pid as number | undefined;
  const probe = async () => {
    const a = await open();
    const b = await open();
    const first = await pid(a);
    await b.rows('BEGIN');
    if ((await pid(b)) === first) return true;
    return (await pid(a)) !== first;
  };
  try {
    return await Promise.race([probe().catch(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), POOLER_PROBE_MS)))]);
  } finally {
    finished = true;
    clearTimeout(timer);
    for (const connection of opened) await connection.close().catch(() => undefined);
  }
}
