import type { Sequelize } from 'sequelize';
import { manager } from './sequelize';

/**
 * sequelize-pool (Sequelize v6's pool): the slice tenant-affine connections
 * rely on, private fields included. Only this file names them.
 */
export interface PoolLike {
  readonly maxSize: number;
  acquire(...args: unknown[]): Promise<any>;
  release(resource: any): void;
  destroy(resource: any): Promise<void>;
}

interface PoolEntry {
  resource: any;
}

/** The instance's sequelize-pool pools (one, or read and write with replication); undefined when any is not one. */
export function sequelizePools(sequelize: Sequelize): PoolLike[] | undefined {
  const pool = manager(sequelize)?.pool;
  // With replication the connection manager's pool is a facade over `read` and `write`.
  const pools: unknown[] = isPool(pool) ? [pool] : [pool?.read, pool?.write];
  return pools.every(isPool) ? (pools as PoolLike[]) : undefined;
}

/** The idle connections, in the order the pool dispenses them (the last one next): reorder in place to prefer one. */
export function idleEntries(pool: PoolLike): PoolEntry[] {
  return (pool as any)._availableObjects;
}

/** The connections lent out. */
export function busyEntries(pool: PoolLike): PoolEntry[] {
  return (pool as any)._inUseObjects;
}

export function isPool(pool: any): pool is PoolLike {
  return (
    Boolean(pool) &&
    Array.isArray(pool._availableObjects) &&
    Array.isArray(pool._inUseObjects) &&
    typeof pool.maxSize === 'number' &&
    typeof pool.acquire === 'function' &&
    typeof pool.release === 'function' &&
    typeof pool.destroy === 'function'
  );
}
