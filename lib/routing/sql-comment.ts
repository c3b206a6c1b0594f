import type { TenantRef } from '../tenant';

/** The comment `sqlComment` adds: `/* tenant='acme' *\/` (ros-apartment's `sql_query_tags` shape). */
export function tenantComment(key: string): string {
  // Keys are validated (letters, digits, `_`, `-`), so this never ends the comment early; stay safe anyway.
  return `/* tenant='${key.replace(/\*\/|'/g, '')}' */`;
}

/**
 * The `sqlComment` option: a subclass of the routed dialect `Query` that
 * appends the tenant's comment to every statement sent in a tenant context
 * (model and raw), and puts the tenant key into the options Sequelize hands
 * to a `logging` function. Installed only when the option is on, so the
 * routing hot path is unchanged when it is off.
 *
 * The comment goes at the end of the text, after the statement's own `;`:
 * Sequelize recognises some untyped raw statements by how their text starts
 * (`INSERT INTO ...`), routing recognises transaction control the same way,
 * and PostgreSQL's bind parameters and multi-statement text are unaffected
 * by a trailing comment. The adapter places it (`appendComment`): after a
 * newline when the text may end in a line comment, and not at all when,
 * under some mode the session may be in, the text ends inside a literal or
 * a block comment: the comment's `*\/` could then close a comment the
 * statement opened and make a broken statement a different valid one. Such a
 * statement goes as written (the server refuses it), untagged. The comment
 * is tenant-specific, as mysql2's prepared-statement cache key already is
 * (see dialects/mysql.ts).
 */
export function withTenantComment<Q extends new (...args: any[]) => { run(sql: string, ...rest: unknown[]): Promise<unknown> }>(
  Routed: Q,
  router: { queryTenant(options: unknown): TenantRef | undefined; adapter: { appendComment(sql: string, comment: string): string | undefined } },
): Q {
  const comments = new Map<string, string>();
  class TenantTaggedQuery extends Routed {
    override run(sql: string, ...rest: unknown[]): Promise<unknown> {
      const options = (this as unknown as { options: { tenant?: unknown } }).options;
      const tenant = router.queryTenant(options);
      if (!tenant || typeof sql !== 'string') return super.run(sql, ...rest);
      // What a logging function receives as its second argument.
      if (options && options.tenant === undefined) options.tenant = tenant.key;
      let comment = comments.get(tenant.key);
      if (comment === undefined) {
        comment = tenantComment(tenant.key);
        if (comments.size > 10_000) comments.clear();
        comments.set(tenant.key, comment);
      }
      return super.run(router.adapter.appendComment(sql, comment) ?? sql, ...rest);
    }
  }
  return TenantTaggedQuery;
}
