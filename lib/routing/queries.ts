import { clsTransaction, queryClass, replaceMethod, setQueryClass } from '../seam/sequelize';
import type { TenantRef } from '../tenant';
import type { Router } from './router';

/**
 * Set in the options of model DML whose tables Sequelize qualified
 * (query-interface.ts), on adapters whose `routesQualifiedQueries` is false:
 * the statement skips routing. It travels with the options Sequelize copies
 * down to its `Query`, so marking costs no context switch and no copy per query.
 */
export const QUALIFIED = Symbol('apartment.qualified');

/**
 * Raw SQL routing. Every statement goes through the instance's dialect
 * `Query` class; a subclass asks the dialect adapter to make unqualified names
 * resolve in the tenant in context (or in the default schema when there is
 * none) for exactly that statement.
 *
 * `sequelize.query` itself is wrapped to refuse, before a connection is even
 * taken, SQL that strict mode rendered without a tenant, to accept
 * `{ tenant }` like model calls do, and to turn the driver's "no such
 * schema/database" of a query in a tenant (model or raw) into
 * `TenantNotFoundError`. It does that after the query released its
 * connection, so the catalog check the error may need can take one.
 */
export function installQueryRouting(router: Router): void {
  const sequelize = router.sequelize as any;
  const { context, adapter, noTenantMarker, affinity } = router;

  const query = sequelize.query;
  // Statements the adapter wants one at a time: sent in order in one transaction
  // (a savepoint inside the caller's), answering with the last one's result.
  const sendEach = (self: any, parts: string[], options: any) =>
    self.transaction({ transaction: options?.transaction ?? undefined }, async (transaction: unknown) => {
      let result: unknown;
      for (const part of parts) result = await query.call(self, part, { ...options, transaction });
      return result;
    });
  replaceMethod(sequelize, 'query', function routedQuery(this: any, sql: any, options?: any) {
    const text: unknown = typeof sql === 'string' ? sql : sql?.query;
    if (typeof text === 'string' && text.includes(noTenantMarker)) {
      const model = options?.model?.name ?? options?.instance?.constructor?.name;
      return Promise.reject(router.noTenant(model ? `A query on ${model} (or one of its includes)` : 'This query'));
    }
    if (router.qualifiedPending) {
      // Sent by a query-interface method on a table Sequelize qualified (query-interface.ts), with
      // the options object it just copied for itself: marking it touches no caller's object.
      router.qualifiedPending = false;
      if (options !== null && typeof options === 'object') options[QUALIFIED] = true;
    }
    let explicit;
    try {
      explicit = router.explicit(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const tenant = explicit ?? context.tenant();
    const parts = typeof sql === 'string' ? adapter.splitStatements(sql, tenant) : undefined;
    // An explicit tenant travels in the options down to the Query (RoutedQuery reads it there).
    const pending: Promise<unknown> = parts ? sendEach(this, parts, options) : query.call(this, sql, options);
    if (!tenant) return pending;
    return pending.catch((error: unknown) =>
      adapter.translateQueryError(error, tenant, options?.transaction ?? clsTransaction(sequelize)),
    );
  });

  const Base = queryClass(sequelize);
  const handleSelect = (query: any, results: unknown): unknown => Base.prototype.handleSelectQuery.call(query, results);
  class RoutedQuery extends Base {
    /** The tenant `run` sent the statement in (the context's, or the explicit one). */
    #tenant: TenantRef | undefined = undefined;

    run(sql: string, parameters?: unknown[]): Promise<unknown> {
      const options = (this as any).options;
      const tenant = router.queryTenant(options);
      this.#tenant = tenant;
      // The backend now caches this tenant's catalog: tenant-affine connections prefer it for the tenant.
      if (affinity) {
        if (tenant) affinity.served((this as any).connection, tenant);
        else {
          // A fleet read's lane: its next statements prefer this connection, which has its tables cached.
          const lane = context.store()?.lane;
          if (lane !== undefined) affinity.servedLane((this as any).connection, lane);
        }
      }
      // Model DML is marked (query-interface.ts): it skips routing, or with isolation: 'role' is routed for the role alone.
      const qualified = options[QUALIFIED] === true;
      const sent =
        (qualified && !adapter.routesQualifiedQueries) || adapter.sendsAsIs(this as any, sql, parameters, tenant)
          ? super.run(sql, parameters)
          : adapter.route(this as any, sql, parameters, tenant, (text = sql, bindings = parameters) => super.run(text, bindings ?? undefined), qualified);
      const observers = router.observers;
      if (observers !== undefined) for (const observer of observers) observer({ sql, parameters, tenant, result: sent });
      return sent;
    }

    // Rows become instances here, synchronously: an explicit tenant binds them as a context would. Otherwise
    // this runs in the context `run` did (its continuation): the tenant `run` read is held, so building instances asks no AsyncLocalStorage.
    handleSelectQuery(results: unknown): unknown {
      const explicit = router.explicit((this as any).options);
      if (explicit) return context.during(explicit, () => super.handleSelectQuery(results));
      return context.hold(this.#tenant, handleSelect, this, results, undefined);
    }
  }
  // Only where a driver's results need adapting (the mariadb driver): no extra call per statement elsewhere.
  const driverResults = adapter.driverResults;
  const Routed = driverResults
    ? class AdaptedQuery extends RoutedQuery {
        formatResults(data: unknown, ...rest: unknown[]): unknown {
          return super.formatResults(driverResults(data), ...rest);
        }
      }
    : RoutedQuery;
  setQueryClass(sequelize, router.sqlComment ? (require('./sql-comment') as typeof import('./sql-comment')).withTenantComment(Routed, router) : Routed);
}
