import { createHash } from 'node:crypto';
import { listed, type AuditCheck, type AuditInput } from './audit';

/** GET_LOCK's name for a tenant's migration lock (MysqlAdapter.withLock). */
export function mysqlLockName(name: string): string {
  return `apartment:${createHash('sha1').update(name).digest('hex')}`;
}

/** Lock names per statement (IS_USED_LOCK is one function call per name). */
const LOCK_CHUNK = 500;

/**
 * MySQL/MariaDB's doctor checks: held migration locks (IS_USED_LOCK, 500
 * names per statement). Roles, search_path and transaction poolers do not
 * apply: there are no tenant roles, a database is selected per statement,
 * and the package keeps no session state a pooler could lose.
 */
export function mysqlChecks(select: (sql: string, replacements: unknown[]) => Promise<any[]>, input: AuditInput): AuditCheck[] {
  return [{
    name: 'migration locks',
    async run() {
      const held: Array<{ name: string; holder: number }> = [];
      const names = [...input.tenants.map((t) => t.name), ...input.spares];
      for (let start = 0; start < names.length; start += LOCK_CHUNK) {
        const chunk = names.slice(start, start + LOCK_CHUNK);
        const [row] = await select(`SELECT ${chunk.map((_, i) => `IS_USED_LOCK(?) AS l${i}`).join(', ')}`, chunk.map(mysqlLockName));
        chunk.forEach((name, i) => {
          const holder: unknown = row?.[`l${i}`];
          if (holder !== null && holder !== undefined) held.push({ name, holder: Number(holder) });
        });
      }
      if (!held.length) return [];
      const keyOf = (name: string) => input.keyOf(name) ?? name;
      return [{
        level: 'warning',
        code: 'held-lock',
        message: `The migration lock of ${held.length} tenant(s) is held: ${listed(held.map((h) => `${keyOf(h.name)} by connection ${h.holder}`))}. Migrations, renames and drops of these tenants wait for it. A migration in progress holds it while it runs; one held for long by an idle connection is stuck.`,
        fix: `Wait for the migration to finish, or end the stuck connection: ${[...new Set(held.map((h) => `KILL ${h.holder};`))].slice(0, 5).join(' ')}`,
        tenants: held.map((h) => keyOf(h.name)),
      }];
    },
  }];
}
