import { Apartment } from '../../lib';
import { connect } from '../env';
import { interleave, timed } from '../harness';
import { loopSample, withTenantUmzug } from '../hand-written';
import { row, type BenchCase } from '../types';
import { migrationsReady } from './availability';

/**
 * Pending state of N up-to-date tenants: `migrationStatusAll()` (a few
 * catalog queries for all of them) vs `umzug.pending()` per tenant in a loop, by hand.
 */
export const status: BenchCase = {
  id: 'status',
  title: 'status',
  unavailable: migrationsReady,
  async run(ctx) {
    const count = ctx.quick ? 30 : 1000;
    await ctx.fixtures.bulk(count, ctx.log);
    const sequelize = connect(ctx.dialect);
    try {
      const apartment = new Apartment(sequelize, { prefix: ctx.fixtures.bulkPrefix, migrationsPath: ctx.fixtures.baseFolder });
      const keys = await apartment.tenants();
      const { sample, scale, note } = loopSample(keys, ctx.quick);
      // The migrate-all case may have added migrations to other folders; these tenants are at least at the base.
      const result = await interleave(
        ctx.rounds(2, 1),
        () =>
          timed(async () => {
            const all = await apartment.migrationStatusAll();
            if (all.length !== keys.length) throw new Error(`status: expected ${keys.length} tenants, got ${all.length}`);
            const behind = all.find((s) => s.pending.length !== 0);
            if (behind) throw new Error(`status: tenant ${behind.tenant} unexpectedly has pending migrations`);
          }),
        () =>
          timed(async () => {
            for (const key of sample) await withTenantUmzug(ctx.dialect, apartment.schemaFor(key), ctx.fixtures.baseFolder, (umzug) => umzug.pending());
          }).then(scale),
      );
      return [
        row(
          { case: 'status', metric: `${keys.length} up-to-date tenants`, dialect: ctx.dialect, unit: 's', a: result.a / 1000, b: result.b / 1000, note },
          { maxA: 2, text: 'A < 2 s' },
        ),
      ];
    } finally {
      await sequelize.close();
    }
  },
};
