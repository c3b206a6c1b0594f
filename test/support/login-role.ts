import { randomBytes } from 'node:crypto';
import { connect, URLS } from './servers';

export interface LoginRole {
  /** The role's name (`apartment_app_3fa2c1`). */
  readonly name: string;
  /** `PG_URL` with this role as the user. */
  readonly url: string;
  /**
   * Drops every schema and role starting with `prefix` (tenant roles and the
   * group role), then what the login role owns, then the login role.
   */
  drop(prefix: string): Promise<void>;
}

/**
 * A non-superuser login role on the PostgreSQL test server, as `isolation:
 * 'role'` needs it (superusers bypass every privilege check): LOGIN,
 * NOINHERIT, CREATEROLE, allowed to create schemas in the test database and
 * tables in `public` (shared models). Created with the harness's superuser.
 */
export async function createLoginRole(): Promise<LoginRole> {
  const name = `apartment_app_${randomBytes(3).toString('hex')}`;
  const admin = connect('postgres', { pool: { max: 1 } });
  const database = new URL(URLS.postgres).pathname.slice(1) || 'postgres';
  try {
    await admin.query(`CREATE ROLE "${name}" LOGIN NOINHERIT CREATEROLE`);
    await admin.query(`GRANT CREATE ON DATABASE "${database}" TO "${name}"`);
    await admin.query(`GRANT CREATE ON SCHEMA public TO "${name}"`);
  } finally {
    await admin.close();
  }
  const url = new URL(URLS.postgres);
  url.username = name;
  url.password = '';
  return {
    name,
    url: url.toString(),
    async drop(prefix: string) {
      const s = connect('postgres', { pool: { max: 1 } });
      try {
        const [schemas] = await s.query('SELECT nspname AS n FROM pg_namespace WHERE left(nspname, ?) = ?', { replacements: [prefix.length, prefix] });
        for (const { n } of schemas as Array<{ n: string }>) await s.query(`DROP SCHEMA IF EXISTS "${n}" CASCADE`);
        const [roles] = await s.query('SELECT rolname AS n FROM pg_roles WHERE left(rolname, ?) = ?', { replacements: [prefix.length, prefix] });
        for (const { n } of roles as Array<{ n: string }>) {
          await s.query(`DROP OWNED BY "${n}"`);
          await s.query(`DROP ROLE IF EXISTS "${n}"`);
        }
        const [login] = await s.query('SELECT 1 FROM pg_roles WHERE rolname = ?', { replacements: [name] });
        if ((login as unknown[]).length) {
          await s.query(`DROP OWNED BY "${name}"`);
          await s.query(`DROP ROLE "${name}"`);
        }
      } finally {
        await s.close();
      }
    },
  };
}

/** Roles whose name starts with `prefix`, from the catalog. */
export async function rolesWithPrefix(prefix: string): Promise<string[]> {
  const s = connect('postgres', { pool: { max: 1 } });
  try {
    const [rows] = await s.query('SELECT rolname AS n FROM pg_roles WHERE left(rolname, ?) = ? ORDER BY 1', { replacements: [prefix.length, prefix] });
    return (rows as Array<{ n: string }>).map((r) => r.n);
  } finally {
    await s.close();
  }
}
