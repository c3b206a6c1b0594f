import { Apartment } from '../../lib';
import { connect } from '../env';
import { defineModels } from '../models';
import { row, type BenchCase } from '../types';

/**
 * PostgreSQL backend memory of one pooled connection (pool max 1, so every
 * query uses the same backend) before and after it served N tenants: each
 * backend caches the catalog of every schema it touched.
 */
export const serverMemory: BenchCase = {
  id: 'server-memory',
  title: 'server memory',
  dialects: ['postgres'],
  async run(ctx) {
    const count = ctx.quick ? 30 : 2000;
    const keys = await ctx.fixtures.bulk(count, ctx.log);
    const sequelize = connect(ctx.dialect, { pool: { max: 1, min: 1 } });
    try {
      // One backend must serve every tenant: no recycling after maxTenantsPerConnection (the default, 2,000, is this count).
      const apartment = new Apartment(sequelize, { migrationsPath: false, prefix: ctx.fixtures.bulkPrefix, affinity: { maxTenantsPerConnection: 0 } });
      const { Widget } = defineModels(sequelize);
      const measure = async () => {
        const [rows] = await sequelize.query(
          'SELECT pg_backend_pid() AS pid, sum(total_bytes)::bigint AS bytes FROM pg_backend_memory_contexts',
          { raw: true },
        );
        const r = (rows as Array<{ pid: number; bytes: string }>)[0];
        return { pid: r.pid, bytes: Number(r.bytes) };
      };
      await apartment.run(keys[0], () => Widget.findByPk(1));
      const before = await measure();
      for (const key of keys) await apartment.run(key, () => Widget.findByPk(1));
      const after = await measure();
      if (after.pid !== before.pid) throw new Error('server memory: the pool changed connections during the measurement');
      const mb = (bytes: number) => bytes / 1024 ** 2;
      const perTenantKB = (after.bytes - before.bytes) / count / 1024;
      return [
        row({
          case: 'server memory',
          metric: `backend memory per connection (A: after ${count} tenants, B: before)`,
          dialect: ctx.dialect,
          unit: 'MB',
          a: mb(after.bytes),
          b: mb(before.bytes),
        }),
        row({
          case: 'server memory',
          metric: 'backend memory per touched tenant',
          dialect: ctx.dialect,
          unit: 'KB/tenant',
          a: perTenantKB,
          b: null,
          note: `10,000 tenants x 20 connections ~ ${((perTenantKB * 10_000 * 20) / 1024 ** 2).toFixed(1)} GB`,
        }),
      ];
    } finally {
      await sequelize.close();
    }
  },
};
