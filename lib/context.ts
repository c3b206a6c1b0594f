import { AsyncLocalStorage } from 'node:async_hooks';
import type { TenantRef } from './tenant';

/** What is in context during an operation: the tenant it belongs to. */
export interface ContextStore {
  readonly tenant: TenantRef | undefined;
  /**
   * A fleet read's lane (no tenant): with tenant-affine connections, the
   * lane's statements go to the connection that ran the lane last, so the
   * tables it opened stay cached in one backend (lib/migrations/storage.ts).
   */
  readonly lane?: number;
}

const NO_TENANT: ContextStore = Object.freeze({ tenant: undefined });

/**
 * The one AsyncLocalStorage of an `Apartment`. The tenant enters through
 * `run` and leaves with it: there is no module-level "current tenant".
 *
 * `during` is the explicit `{ tenant }` option's way in: the tenant is in
 * context for the synchronous part of one call only (SQL generation, building
 * instances from rows), restored in `finally`, so no `await` can carry it
 * anywhere. It never enters AsyncLocalStorage, whose `run` switches on
 * Node 20's async hooks for every promise of the process from then on.
 */
export class TenantContext {
  readonly #als = new AsyncLocalStorage<ContextStore>();
  readonly #stores = new WeakMap<TenantRef, ContextStore>();
  /** The tenant of the synchronous call `during` is running, which wins over the store. */
  #during: TenantRef | undefined = undefined;

  /** Runs `fn` with `tenant` in context (nested runs replace it until they return). */
  run<T>(tenant: TenantRef, fn: () => T): T {
    let store = this.#stores.get(tenant);
    if (!store) {
      store = Object.freeze({ tenant });
      this.#stores.set(tenant, store);
    }
    return this.#enter(store, fn);
  }

  /** Runs `fn` with no tenant in context, even inside a `run`. */
  runWithout<T>(fn: () => T): T {
    // Already none (PostgreSQL's type refresh on every new connection, say): no AsyncLocalStorage.run.
    if (this.#during === undefined && this.#als.getStore()?.tenant === undefined) return fn();
    return this.#enter(NO_TENANT, fn);
  }

  readonly #lanes = new Map<number, ContextStore>();

  /** Runs `fn` with no tenant in context, as lane `lane` of a fleet read (see `ContextStore.lane`). */
  runOnLane<T>(lane: number, fn: () => T): T {
    let store = this.#lanes.get(lane);
    if (!store) {
      store = Object.freeze({ tenant: undefined, lane });
      this.#lanes.set(lane, store);
    }
    return this.#enter(store, fn);
  }

  #enter<T>(store: ContextStore, fn: () => T): T {
    // An inner run replaces a `during` tenant for its own synchronous part too. (Its own tenant is not held
    // there: `fn` is the app's code, which may switch contexts by other means, AsyncResource.bind say.)
    const during = this.#during;
    this.#during = undefined;
    try {
      return this.#als.run(store, fn);
    } finally {
      this.#during = during;
    }
  }

  /**
   * Calls `fn` synchronously with `tenant` in context until it returns (not
   * across its `await`s: what runs later must carry the tenant itself, in
   * the options Sequelize passes down).
   */
  during<T>(tenant: TenantRef, fn: () => T): T {
    const previous = this.#during;
    this.#during = tenant;
    try {
      return fn();
    } finally {
      this.#during = previous;
    }
  }

  /**
   * `fn(a, b, c)` with `tenant` (the tenant in context right now, as
   * `tenant()` answered) held for its synchronous part, the way `during`
   * holds an explicit one: `tenant()` answers from a field instead of asking
   * AsyncLocalStorage (a native call each time), which the synchronous
   * stretches of one model call ask many times (Sequelize's nested statics,
   * table names while SQL is generated, the query wrapper). What runs after
   * an `await` asks AsyncLocalStorage again, as does an inner `run`.
   */
  hold<A, B, C, T>(tenant: TenantRef | undefined, fn: (a: A, b: B, c: C) => T, a: A, b: B, c: C): T {
    if (tenant === undefined || this.#during !== undefined) return fn(a, b, c);
    this.#during = tenant;
    try {
      return fn(a, b, c);
    } finally {
      this.#during = undefined;
    }
  }

  /** The tenant in context, if any. */
  tenant(): TenantRef | undefined {
    return this.#during ?? this.#als.getStore()?.tenant;
  }

  store(): ContextStore | undefined {
    const during = this.#during;
    return during ? { tenant: during } : this.#als.getStore();
  }
}
