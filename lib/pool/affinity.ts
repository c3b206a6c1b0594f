import type { Sequelize } from 'sequelize';
import type { TenantContext } from '../context';
import { ConfigurationError, describeValue } from '../errors';
import { busyEntries, idleEntries, sequelizePools, type PoolLike } from '../seam/pool';
import type { TenantRef } from '../tenant';

/**
 * Tenant-affine connections: see `ApartmentOptions.affinity`.
 * @example new Apartment(sequelize, { affinity: { maxTenantsPerConnection: 500 } })
 */
export interface AffinityOptions {
  /**
   * Hand a tenant's queries to the idle connection that last ran that
   * tenant's statements, else to the tenant's home (or second) connection,
   * else to one that served it, when one is idle. Never waits for it: when
   * they are busy, the pool serves as usual.
   * @default true
   */
  prefer?: boolean;
  /**
   * Retire a connection (close it when it is released, like Sequelize's
   * `maxUses`) once it has run statements for this many distinct tenants, so
   * no PostgreSQL backend caches the catalog of more tenants than that
   * (~17 KB each for 3 tables). `0`: never.
   * @default 2000
   */
  maxTenantsPerConnection?: number;
}

/**
 * What a connection has served: the last tenant, every distinct tenant since
 * it was opened, its place in the pool (0 .. max - 1, the lowest free one
 * when it first served a tenant), whether it is to be retired, and the
 * fleet-read lane (`ContextStore.lane`) whose statements it ran last. Kept
 * beside the driver's connection object, not on it: properties added to it
 * would give it new shapes, and the driver's own code that reads it on every
 * packet would go megamorphic.
 */
interface Served {
  last: string | undefined;
  tenants: Set<string> | undefined;
  slot: number | undefined;
  retire: boolean;
  lane: number | undefined;
}
const SERVED = new WeakMap<object, Served>();
const WRAPPED = Symbol('apartment.affinity');

function served(connection: object): Served | undefined {
  return SERVED.get(connection);
}

function servedOrNew(connection: object): Served {
  let state = SERVED.get(connection);
  if (!state) SERVED.set(connection, (state = { last: undefined, tenants: undefined, slot: undefined, retire: false, lane: undefined }));
  return state;
}

/** @default 2000 distinct tenants per connection (see README "Very many tenants"). */
export const DEFAULT_MAX_TENANTS_PER_CONNECTION = 2000;

/**
 * Tenant-affine connections on Sequelize's own pool. Two small wrappers on
 * each sequelize-pool instance, nothing replaced:
 *
 * - `acquire` (called in the caller's async context, so the tenant in
 *   context is known): the best idle connection for the tenant is moved to
 *   where the pool takes its next idle connection from. Best is the one
 *   whose last statement was the tenant's; then the tenant's home: each
 *   connection holds a slot (0 .. max - 1) and each tenant hashes to one, so
 *   every tenant has one connection that serves it whenever it is idle and
 *   each backend caches about tenants / max tenants; then the tenant's
 *   second slot, then one that served it at all; else the pool's own
 *   choice. The
 *   pool then dispenses as it always does: a busy tenant connection means
 *   any idle one serves, a full pool means the caller queues in order, and
 *   `max`, `min`, `idle`, `acquire` timeouts, `maxUses` and validation are
 *   the pool's own.
 * - `release`: a connection that has served `maxTenantsPerConnection`
 *   distinct tenants is destroyed instead of returned (the pool opens a new
 *   one when it needs it).
 *
 * Transactions hold their connection until commit/rollback as always; the
 * routing layer reports every statement's tenant (`served`).
 */
export class TenantAffinity {
  readonly prefer: boolean;
  readonly maxTenantsPerConnection: number;
  readonly #context: TenantContext;

  constructor(context: TenantContext, options: AffinityOptions) {
    const { prefer = true, maxTenantsPerConnection = DEFAULT_MAX_TENANTS_PER_CONNECTION } = options;
    if (typeof prefer !== 'boolean') {
      throw new ConfigurationError(`Expected \`affinity.prefer\` to be a boolean, got ${describeValue(prefer)}.`);
    }
    if (!Number.isSafeInteger(maxTenantsPerConnection) || maxTenantsPerConnection < 0) {
      throw new ConfigurationError(`Expected \`affinity.maxTenantsPerConnection\` to be a number from 0 and up, got ${describeValue(maxTenantsPerConnection)}.`);
    }
    this.#context = context;
    this.prefer = prefer;
    this.maxTenantsPerConnection = maxTenantsPerConnection;
  }

  /** Installs the wrappers on the instance's pool(s). Returns false when the pool is not sequelize-pool's (then nothing changes). */
  install(sequelize: Sequelize): boolean {
    const pools = sequelizePools(sequelize);
    if (!pools) return false;
    for (const p of pools) this.#wrap(p);
    return true;
  }

  /** The routing layer calls this for every statement that runs for `tenant` on `connection`. */
  served(connection: any, tenant: TenantRef): void {
    const name = tenant.name;
    const state = servedOrNew(connection);
    if (state.last === name) return;
    if (state.slot === undefined) this.#assignSlot(connection);
    state.last = name;
    let tenants = state.tenants;
    if (!tenants) state.tenants = tenants = new Set();
    if (tenants.has(name)) return;
    tenants.add(name);
    if (this.maxTenantsPerConnection > 0 && tenants.size >= this.maxTenantsPerConnection) state.retire = true;
  }

  /** The routing layer calls this for a statement of a fleet read's lane (no tenant) on `connection`. */
  servedLane(connection: any, lane: number): void {
    servedOrNew(connection).lane = lane;
  }

  readonly #pools: PoolLike[] = [];

  /** The lowest slot no live connection of its pool holds. */
  #assignSlot(connection: any, pool?: PoolLike): void {
    pool ??= this.#pools.find((p) => busyEntries(p).some((o) => o.resource === connection) || idleEntries(p).some((o) => o.resource === connection));
    if (!pool) return;
    const taken = new Set<number>();
    for (const o of [...busyEntries(pool), ...idleEntries(pool)]) {
      const slot = o.resource === connection ? undefined : served(o.resource)?.slot;
      if (slot !== undefined) taken.add(slot);
    }
    let slot = 0;
    while (taken.has(slot)) slot++;
    servedOrNew(connection).slot = slot;
  }

  #wrap(pool: PoolLike): void {
    if ((pool as any)[WRAPPED]) return;
    (pool as any)[WRAPPED] = true;
    this.#pools.push(pool);
    const context = this.#context;
    const prefer = this.prefer;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const affinity = this;
    const acquire = pool.acquire;
    const release = pool.release;
    if (prefer) {
      pool.acquire = function affineAcquire(this: PoolLike, ...args: unknown[]) {
        const idle = idleEntries(this);
        // No idle connection, or one that holds its slot: nothing to choose or assign, and the context is not asked.
        if (idle.length > 1 || (idle.length === 1 && served(idle[0]!.resource)?.slot === undefined)) {
          const tenant = context.tenant();
          if (tenant) {
            // Idle connections that never served take their slot now, so every tenant's home exists once the pool is full.
            for (const o of idle) if (served(o.resource)?.slot === undefined) affinity.#assignSlot(o.resource, this);
            preferIdle(idle, tenant.name, this.maxSize);
          } else {
            const lane = context.store()?.lane;
            if (lane !== undefined) preferLane(idle, lane);
          }
        }
        return acquire.apply(this, args);
      };
    }
    pool.release = function recyclingRelease(this: PoolLike, resource: any) {
      if (resource && served(resource)?.retire) {
        // The pool's own path for a connection that must not be reused (as for maxUses).
        void this.destroy(resource).catch(() => undefined);
        return;
      }
      release.call(this, resource);
    };
  }
}

const HOMES = new Map<string, readonly [number, number]>();

/** The tenant's two slots for a pool of `max`: FNV-1a of the name, and a second, different one. */
function homes(name: string, max: number): readonly [number, number] {
  const key = `${max}:${name}`;
  let found = HOMES.get(key);
  if (!found) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
    const first = hash % max;
    const second = max > 1 ? (first + 1 + (Math.floor(hash / max) % (max - 1))) % max : first;
    found = [first, second];
    if (HOMES.size > 100_000) HOMES.clear();
    HOMES.set(key, found);
  }
  return found;
}

/**
 * Moves the best idle connection for `name` to the end of the idle list,
 * where sequelize-pool takes the next one from: one whose last statement was
 * the tenant's (MySQL: still has its database selected), the tenant's home
 * slot, its second slot, one that served it at all. Nothing moves when none
 * is idle: the pool's own choice serves.
 */
function preferIdle(available: Array<{ resource: any }>, name: string, max: number): void {
  const last = available.length - 1;
  if (last < 1 || served(available[last]!.resource)?.last === name) return;
  let found = -1;
  // Its last statement was the tenant's: cached, and on MySQL its database is still selected (no USE).
  for (let i = last - 1; i >= 0; i--) {
    if (served(available[i]!.resource)?.last === name) {
      found = i;
      break;
    }
  }
  if (found < 0 && max > 1) {
    const [first, second] = homes(name, max);
    let secondAt = -1;
    for (let i = last; i >= 0; i--) {
      const slot = served(available[i]!.resource)?.slot;
      if (slot === first) {
        found = i;
        break;
      }
      if (slot === second) secondAt = i;
    }
    if (found < 0) found = secondAt;
  }
  if (found < 0) {
    for (let i = last; i >= 0; i--) {
      if (served(available[i]!.resource)?.tenants?.has(name)) {
        found = i;
        break;
      }
    }
  }
  if (found < 0 || found === last) return;
  const [entry] = available.splice(found, 1);
  available.push(entry!);
}

/** Moves the idle connection that ran `lane` last to where the pool takes its next one from; nothing moves when none is idle. */
function preferLane(available: Array<{ resource: any }>, lane: number): void {
  const last = available.length - 1;
  for (let i = last; i >= 0; i--) {
    if (served(available[i]!.resource)?.lane !== lane) continue;
    if (i !== last) available.push(available.splice(i, 1)[0]!);
    return;
  }
}

/** `affinity` option -> settings, or undefined when off. */
export function affinityOptions(value: unknown): AffinityOptions | undefined {
  if (value === undefined || value === true) return {};
  if (value === false) return undefined;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as AffinityOptions;
  throw new ConfigurationError(`Expected \`affinity\` to be a boolean or { prefer, maxTenantsPerConnection }, got ${describeValue(value)}.`);
}
