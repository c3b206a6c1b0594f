import type { Sequelize } from 'sequelize';
import { Apartment } from '../../lib';
import { connect, connectTo } from '../env';
import { eachLimit, heapUsed, perOp } from '../harness';
import { defineModels } from '../models';
import { row, type BenchCase } from '../types';

const POOL_MAX = 5;

async function freeConnections(admin: Sequelize, dialect: string): Promise<number> {
  const sql =
    dialect === 'postgres'
      ? "SELECT current_setting('max_connections')::int - (SELECT count(*) FROM pg_stat_activity)::int AS free"
      : "SELECT @@max_connections - (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED') AS free";
  const [rows] = await admin.query(sql);
  return Number((rows as Array<{ free: unknown }>)[0].free);
}

export function openConnections(sequelize: Sequelize): number {
  return (sequelize as any).connectionManager.pool?.size ?? 0;
}

/**
 * A: one Sequelize instance and one Apartment touching N tenants (a
 * `findByPk` each, 5 at a time), then GC: heap growth per tenant and open
 * connections. B: the common Node approach, one Sequelize instance (with its
 * models and pool) per tenant, at 100 tenants.
 */
export const tenantScale: BenchCase = {
  id: 'scale',
  title: 'tenant scale',
  async run(ctx) {
    const count = ctx.quick ? 30 : 2000;
    const keys = await ctx.fixtures.bulk(count, ctx.log);
    // One instance per tenant opens a connection per tenant: stay under the server's limit (PostgreSQL's default is 100).
    const free = await freeConnections(ctx.fixtures.admin, ctx.dialect);
    const perInstance = Math.min(ctx.quick ? 10 : 100, free - 10);
    const capped = perInstance < (ctx.quick ? 10 : 100);
    if (capped) ctx.log(`B capped at ${perInstance} instances: the server has ${free} free connections`);
    if (!(globalThis as any).gc) ctx.log('global.gc is not exposed: heap numbers include garbage (run with node --expose-gc)');

    // A
    const sequelize = connect(ctx.dialect, { pool: { max: POOL_MAX } });
    let growth: number;
    let maxOpen = 0;
    try {
      const apartment = new Apartment(sequelize, { migrationsPath: false, prefix: ctx.fixtures.bulkPrefix });
      const { Widget } = defineModels(sequelize);
      // Warm up code paths and the pool on one tenant, so only per-tenant state is left to grow.
      await perOp(200, () => apartment.run(keys[0], () => Widget.findByPk(1)))();
      await eachLimit(keys.slice(0, 10), POOL_MAX, (key) => apartment.run(key, () => Widget.findByPk(1)));
      const before = heapUsed();
      await eachLimit(keys, POOL_MAX, async (key) => {
        await apartment.run(key, () => Widget.findByPk(1));
        maxOpen = Math.max(maxOpen, openConnections(sequelize));
      });
      growth = (heapUsed() - before) / keys.length;
    } finally {
      await sequelize.close();
    }

    // B
    const instances: Sequelize[] = [];
    let perTenant: number;
    let openB = 0;
    try {
      const before = heapUsed();
      for (const key of keys.slice(0, perInstance)) {
        const s = connectTo(ctx.dialect, ctx.fixtures.bulkPrefix + key);
        instances.push(s);
        const { Widget } = defineModels(s);
        await Widget.findByPk(1);
      }
      perTenant = (heapUsed() - before) / perInstance;
      openB = instances.reduce((sum, s) => sum + openConnections(s), 0);
    } finally {
      for (const s of instances) await s.close();
    }

    return [
      row(
        {
          case: 'tenant scale',
          metric: `heap per tenant (A: ${count} tenants, B: ${perInstance} instances)`,
          dialect: ctx.dialect,
          unit: 'KB/tenant',
          a: growth / 1024,
          b: perTenant / 1024,
        },
        { maxA: 1, text: 'A <= 1 KB/tenant' },
      ),
      row(
        {
          case: 'tenant scale',
          metric: `open connections (A: ${count} tenants, B: ${perInstance})`,
          dialect: ctx.dialect,
          unit: 'connections',
          a: maxOpen,
          b: openB,
          note: `B: ${openB / perInstance} connection(s) per tenant${capped ? `; capped at ${perInstance} instances by the server's free connections (${free})` : ''}`,
        },
        { maxA: POOL_MAX, text: `A <= pool max (${POOL_MAX})` },
      ),
    ];
  },
};
