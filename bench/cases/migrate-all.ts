import * as fs from 'node:fs';
import * as path from 'node:path';
import { Apartment } from '../../lib';
import { connect } from '../env';
import { interleave, timed } from '../harness';
import { loopSample, withTenantUmzug } from '../hand-written';
import { MigrationSets } from '../migration-sets';
import { row, type BenchCase } from '../types';
import { migrationsReady } from './availability';

/**
 * N up-to-date tenants, one new migration (an added column): `migrateAll` vs
 * a sequential loop of umzug per tenant, by hand. Each round adds a new
 * migration and gives it to A or B in turn, so both always do the same work.
 */
export const migrateAll: BenchCase = {
  id: 'migrate-all',
  title: 'migrate all',
  unavailable: migrationsReady,
  async run(ctx) {
    const count = ctx.quick ? 30 : 1000;
    await ctx.fixtures.bulk(count, ctx.log);
    const folder = ctx.fixtures.sets.folder('migrate-all');
    fs.copyFileSync(path.join(ctx.fixtures.baseFolder, MigrationSets.BASE), path.join(folder, MigrationSets.BASE));
    const sequelize = connect(ctx.dialect);
    try {
      const apartment = new Apartment(sequelize, { prefix: ctx.fixtures.bulkPrefix, migrationsPath: folder });
      const keys = await apartment.tenants();
      const { sample, scale, note } = loopSample(keys, ctx.quick);
      let n = 100;
      const check = (results: Array<{ ok: boolean; error?: Error }>) => {
        const failed = results.find((r) => !r.ok);
        if (failed) throw failed.error;
      };
      const result = await interleave(
        ctx.rounds(2, 1),
        async () => {
          ctx.fixtures.sets.add(folder, ++n);
          return timed(async () => check(await apartment.migrateAll()));
        },
        async () => {
          ctx.fixtures.sets.add(folder, ++n);
          // The loop is sequential, so its time is linear in the tenant count: time a sample, scale it up.
          const ms = await timed(async () => {
            for (const key of sample) await withTenantUmzug(ctx.dialect, apartment.schemaFor(key), folder, (umzug) => umzug.up());
          });
          // Bring the tenants outside the sample up to date (untimed), so every round is exactly one new migration.
          check(await apartment.migrateAll());
          return scale(ms);
        },
      );
      return [
        row(
          { case: 'migrate all', metric: `${keys.length} tenants, 1 new migration`, dialect: ctx.dialect, unit: 's', a: result.a / 1000, b: result.b / 1000, note },
          { maxRatio: 0.5 },
        ),
      ];
    } finally {
      await sequelize.close();
    }
  },
};
