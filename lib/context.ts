import { AsyncLocalStorage } from 'node:async_hooks';
import type { TenantRef } from './tenant';

/** What is in context during an operation: the tenant it belongs to. */
export interface ContextStore {
  readonly tenant: TenantRef | undefined;
}

/**
 * The one AsyncLocalStorage of an `Apartment`. The tenant enters through
 * `run` and leaves with it: there is no module-level "current tenant".
 */
export class TenantContext {
  readonly #als = new AsyncLocalStorage<ContextStore>();
  readonly #stores = new WeakMap<TenantRef, ContextStore>();
  readonly #noTenant: ContextStore = Object.freeze({ tenant: undefined });

  /** Runs `fn` with `tenant` in context (nested runs replace it until they return). */
  run<T>(tenant: TenantRef, fn: () => T): T {
    let store = this.#stores.get(tenant);
    if (!store) {
      store = Object.freeze({ tenant });
      this.#stores.set(tenant, store);
    }
    return this.#als.run(store, fn);
  }

  /** Runs `fn` with no tenant in context, even inside a `run`. */
  runWithout<T>(fn: () => T): T {
    return this.#als.run(this.#noTenant, fn);
  }

  /** The tenant in context, if any. */
  tenant(): TenantRef | undefined {
    return this.#als.getStore()?.tenant;
  }

  store(): ContextStore | undefined {
    return this.#als.getStore();
  }
}
