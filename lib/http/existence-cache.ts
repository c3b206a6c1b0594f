import type { TenantHost } from './host';
import type { SuspendState } from '../dialects/contract';
import type { TenantRef } from '../tenant';

interface Entry {
  /** undefined: the tenant does not exist. */
  readonly state: SuspendState | undefined;
  readonly at: number;
}

/** What a lookup answers: the tenant's state (undefined: missing), or just whether it exists. */
type Found = SuspendState | undefined | boolean;

function normalize(found: Found): SuspendState | undefined {
  return found === true ? 'active' : found === false ? undefined : found;
}

/**
 * Which tenants exist, and whether they are suspended (`suspendTenant`), as
 * last seen by this process, so a request does not pay a catalog query each
 * time (one lookup reads both). One per Apartment, shared by its
 * middlewares (each applies its own TTL). `createTenant`/`dropTenant` and
 * `suspendTenant`/`resumeTenant` in this process update it at once through the Apartment's events; changes made by
 * other processes are seen when the entry is older than its TTL: `ttl` for
 * tenants that exist (long: a request pays no query), `negativeTtl` for keys
 * that do not (short: a tenant created elsewhere is served soon, while a
 * flood of made-up subdomains still costs one query per key per
 * `negativeTtl`). The whole map is bounded.
 */
export class ExistenceCache {
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<SuspendState | undefined>>();
  readonly #max: number;
  readonly #lookup: (ref: TenantRef) => Promise<Found>;
  /** Bumped by every create/drop, so a lookup that started before one does not store a stale answer. */
  #epoch = 0;

  constructor(lookup: (ref: TenantRef) => Promise<Found>, max = 10_000) {
    this.#lookup = lookup;
    this.#max = max;
  }

  /** Records what this process just did (called from the Apartment's events). */
  set(ref: TenantRef, found: Found): void {
    this.#epoch++;
    this.#pending.delete(ref.name);
    this.#store(ref.name, normalize(found));
  }

  /**
   * Whether the tenant exists, from the cache when the entry is younger than
   * `ttl` ms (an existing tenant) or `negativeTtl` ms (a missing one).
   */
  async exists(ref: TenantRef, ttl: number, negativeTtl = ttl): Promise<boolean> {
    return (await this.state(ref, ttl, negativeTtl)) !== undefined;
  }

  /** The tenant's state (undefined: it does not exist), cached as `exists`. */
  state(ref: TenantRef, ttl: number, negativeTtl = ttl): Promise<SuspendState | undefined> {
    const entry = this.#entries.get(ref.name);
    if (entry && Date.now() - entry.at < (entry.state !== undefined ? ttl : negativeTtl)) return Promise.resolve(entry.state);
    let pending = this.#pending.get(ref.name);
    if (!pending) {
      const epoch = this.#epoch;
      pending = this.#lookup(ref).then(
        (answer) => {
          const state = normalize(answer);
          if (this.#pending.get(ref.name) === pending) this.#pending.delete(ref.name);
          if (epoch === this.#epoch) this.#store(ref.name, state);
          return state;
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

  #store(name: string, state: SuspendState | undefined): void {
    this.#entries.delete(name); // re-insert at the end: the oldest entries are evicted first
    this.#entries.set(name, { state, at: Date.now() });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}

const caches = new WeakMap<TenantHost, ExistenceCache>();

/** The existence cache of an Apartment, created (and subscribed to its events) on first use. */
export function existenceCache(apartment: TenantHost): ExistenceCache {
  let cache = caches.get(apartment);
  if (!cache) {
    const created = new ExistenceCache((ref) => apartment.adapter.state(ref));
    apartment.on('tenantCreated', (ref) => created.set(ref, true));
    apartment.on('tenantStateChanged', (ref, state) => created.set(ref, state));
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
