import type { Apartment } from '../apartment';
import type { TenantRef } from '../tenant';

interface Entry {
  readonly exists: boolean;
  readonly at: number;
}

/**
 * Which tenants exist, as last seen by this process, so a request does not
 * pay a catalog query each time. One per Apartment, shared by its
 * middlewares (each applies its own TTL). `createTenant`/`dropTenant` in this
 * process update it at once through the Apartment's events; changes made by
 * other processes are seen when the entry is older than its TTL: `ttl` for
 * tenants that exist (long: a request pays no query), `negativeTtl` for keys
 * that do not (short: a tenant created elsewhere is served soon, while a
 * flood of made-up subdomains still costs one query per key per
 * `negativeTtl`). The whole map is bounded.
 */
export class ExistenceCache {
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<boolean>>();
  readonly #max: number;
  readonly #lookup: (ref: TenantRef) => Promise<boolean>;
  /** Bumped by every create/drop, so a lookup that started before one does not store a stale answer. */
  #epoch = 0;

  constructor(lookup: (ref: TenantRef) => Promise<boolean>, max = 10_000) {
    this.#lookup = lookup;
    this.#max = max;
  }

  /** Records what this process just did (called from the Apartment's events). */
  set(ref: TenantRef, exists: boolean): void {
    this.#epoch++;
    this.#pending.delete(ref.name);
    this.#store(ref.name, exists);
  }

  /**
   * Whether the tenant exists, from the cache when the entry is younger than
   * `ttl` ms (an existing tenant) or `negativeTtl` ms (a missing one).
   */
  exists(ref: TenantRef, ttl: number, negativeTtl = ttl): Promise<boolean> {
    const entry = this.#entries.get(ref.name);
    if (entry && Date.now() - entry.at < (entry.exists ? ttl : negativeTtl)) return Promise.resolve(entry.exists);
    let pending = this.#pending.get(ref.name);
    if (!pending) {
      const epoch = this.#epoch;
      pending = this.#lookup(ref).then(
        (exists) => {
          if (this.#pending.get(ref.name) === pending) this.#pending.delete(ref.name);
          if (epoch === this.#epoch) this.#store(ref.name, exists);
          return exists;
        },
        (error: unknown) => {
          if (this.#pending.get(ref.name) === pending) this.#pending.delete(ref.name);
          throw error;
        },
      );
      this.#pending.set(ref.name, pending);
    }
    return pending;
  }

  /** Number of cached entries (for tests). */
  get size(): number {
    return this.#entries.size;
  }

  #store(name: string, exists: boolean): void {
    this.#entries.delete(name); // re-insert at the end: the oldest entries are evicted first
    this.#entries.set(name, { exists, at: Date.now() });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}

const caches = new WeakMap<Apartment, ExistenceCache>();

/** The existence cache of an Apartment, created (and subscribed to its events) on first use. */
export function existenceCache(apartment: Apartment): ExistenceCache {
  let cache = caches.get(apartment);
  if (!cache) {
    const created = new ExistenceCache((ref) => apartment.adapter.exists(ref));
    apartment.on('tenantCreated', (ref) => created.set(ref, true));
    apartment.on('tenantDropped', (ref) => created.set(ref, false));
    apartment.on('tenantRenamed', (from, to) => {
      created.set(from, false);
      created.set(to, true);
    });
    caches.set(apartment, created);
    cache = created;
  }
  return cache;
}
