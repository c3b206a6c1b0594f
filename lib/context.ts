import { AsyncLocalStorage } from 'node:async_hooks';
import type { TenantRef } from './tenant';

/**
 * What is in context during an operation. `tenant` is the tenant the
 * operation belongs to; `qualified` marks queries that Sequelize built from a
 * model, whose table names are already qualified, so raw-SQL routing can skip
 * them.
 */
export interface ContextStore {
  readonly tenant: TenantRef | undefined;
  readonly qualified: boolean;
}

/**
 * The one AsyncLocalStorage of an `Apartment`. The tenant enters through
 * `run` and leaves with it: there is no module-level "current tenant".
 */
export class TenantContext {
  readonly #als = new AsyncLocalStorage<ContextStore>();
  readonly #stores = new WeakMap<TenantRef, ContextStore>();
  readonly #qualifiedStores = new WeakMap<TenantRef, ContextStore>();
  readonly #qualifiedNoTenant: ContextStore = Object.freeze({ tenant: undefined, qualified: true });

  /** Runs `fn` with `tenant` in context (nested runs replace it until they return). */
  run<T>(tenant: TenantRef, fn: () => T): T {
    let store = this.#stores.get(tenant);
    if (!store) {
      store = Object.freeze({ tenant, qualified: false });
      this.#stores.set(tenant, store);
    }
    return this.#als.run(store, fn);
  }

  /** Runs `fn` with no tenant in context, even inside a `run`. */
  runWithout<T>(fn: () => T): T {
    return this.#als.run(Object.freeze({ tenant: undefined, qualified: false }), fn);
  }

  /** Runs `fn` marked as a model query (already qualified), keeping the tenant. */
  runQualified<T>(fn: () => T): T {
    const tenant = this.#als.getStore()?.tenant;
    let store = this.#qualifiedNoTenant;
    if (tenant) {
      let cached = this.#qualifiedStores.get(tenant);
      if (!cached) {
        cached = Object.freeze({ tenant, qualified: true });
        this.#qualifiedStores.set(tenant, cached);
      }
      store = cached;
    }
    return this.#als.run(store, fn);
  }

  /** The tenant in context, if any. */
  tenant(): TenantRef | undefined {
    return this.#als.getStore()?.tenant;
  }

  store(): ContextStore | undefined {
    return this.#als.getStore();
  }
}
