import type { Sequelize } from 'sequelize';
import { Apartment } from '../../lib';
import { settle, testTenant, type TestTenant } from '../../lib/testing';
import { connect } from '../env';
import { interleave, median, percentile, timed } from '../harness';
import { defineModels } from '../models';
import { row, type BenchCase } from '../types';
import { migrationsReady } from './availability';

const MIGRATIONS = 20;
/** Migrations whose set has 10 tables (widgets, tags, widget_tags and table_6 ... table_24). */
const TEN_TABLES = 25;

/** What a test file does with its tenant: a few tests, each on a reset tenant. */
async function testFile(sequelize: Sequelize, tenant: { run<T>(fn: () => T): T; reset?(): Promise<void> }): Promise<void> {
  const { Widget } = sequelize.models as any;
  for (let test = 0; test < 3; test++) {
    if (test > 0) await tenant.reset?.();
    await tenant.run(async () => {
      await Widget.bulkCreate([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
      await Widget.findAll();
    });
  }
}

/** A few rows in every one of the 10 tables. */
async function fill(apartment: Apartment, key: string): Promise<void> {
  const qi = apartment.sequelize.getQueryInterface();
  const now = new Date();
  const rows = [1, 2, 3].map((i) => ({ name: `r${i}`, createdAt: now, updatedAt: now }));
  await apartment.run(key, async () => {
    for (const table of ['widgets', 'tags', 'table_6', 'table_9', 'table_12', 'table_15', 'table_18', 'table_21', 'table_24']) await qi.bulkInsert(table, rows);
    await qi.bulkInsert('widget_tags', [{ widgetId: 1, tagId: 1, createdAt: now, updatedAt: now }]);
  });
}

/**
 * The test kit (`sequelize-apartment/testing`). Fresh tenant: 200 test files
 * (20 with --quick), each getting its tenant from `testTenant` (kept ready
 * by the kit in the background while the file runs) against
 * `createTenant` per file (every migration, each time); each file runs three
 * small tests with a reset between them, then drops its tenant.
 * Reset: `reset()` of 10 tables holding a few rows each, against dropping and
 * recreating the tenant.
 */
export const testing: BenchCase = {
  id: 'testing',
  title: 'test kit',
  unavailable: migrationsReady,
  async run(ctx) {
    const files = ctx.quick ? 20 : 200;
    const folder = ctx.fixtures.sets.generate(`testing-${MIGRATIONS}`, MIGRATIONS);
    const kitSequelize = connect(ctx.dialect);
    const coldSequelize = connect(ctx.dialect);
    const resetSequelize = connect(ctx.dialect);
    try {
      defineModels(kitSequelize);
      defineModels(coldSequelize);
      defineModels(resetSequelize);
      const kit = new Apartment(kitSequelize, { prefix: `${ctx.prefix}tk_`, migrationsPath: folder });
      const cold = new Apartment(coldSequelize, { prefix: `${ctx.prefix}tc_`, migrationsPath: folder });

      // Fresh tenant per file. The kit side first (its background top-up must not run under the other side's timing), then the cold side on fewer files: its spread is small and each costs a full migration run.
      const kitTimes: number[] = [];
      // When each createTenant the kit called (in the background or not) started and ended: a file's tenant was ready before it asked, being built, or built for it.
      const builds = new Map<string, { start: number; end: number }>();
      const createTenant = kit.createTenant.bind(kit);
      kit.createTenant = async (key, options) => {
        const span = { start: performance.now(), end: Infinity };
        builds.set(String(key), span);
        try {
          return await createTenant(key, options);
        } finally {
          span.end = performance.now();
        }
      };
      const got = { ready: 0, awaited: 0, built: 0 };
      for (let i = 0; i < files; i++) {
        let tenant: TestTenant | undefined;
        const asked = performance.now();
        kitTimes.push(await timed(async () => (tenant = await testTenant(kit))));
        const span = builds.get(tenant!.key)!;
        got[span.end < asked ? 'ready' : span.start < asked ? 'awaited' : 'built'] += 1;
        await testFile(kitSequelize, tenant!);
        await tenant!.drop();
      }
      await settle(kit);
      const coldFiles = ctx.quick ? 3 : 15;
      const coldTimes: number[] = [];
      for (let i = 0; i < coldFiles; i++) {
        const key = `file${i}`;
        coldTimes.push(await timed(() => cold.createTenant(key)));
        await testFile(coldSequelize, { run: (fn) => cold.run(key, fn) });
        await cold.dropTenant(key);
      }

      // reset() against drop + recreate, on 10 tables with a few rows.
      const resetFolder = ctx.fixtures.sets.generate(`testing-reset-${TEN_TABLES}`, TEN_TABLES);
      const resetting = new Apartment(resetSequelize, { prefix: `${ctx.prefix}tr_`, migrationsPath: resetFolder });
      const tenant = await testTenant(resetting, { spares: 0 });
      const tables = (await resetting.adapter.tables(resetting.schemaFor(tenant.key))).filter((t) => t !== 'SequelizeMeta');
      await resetting.createTenant('recreated');
      const rounds = ctx.rounds(15, 3);
      const reset = await interleave(
        rounds,
        async () => {
          await fill(resetting, tenant.key);
          return timed(() => tenant.reset());
        },
        async () => {
          await fill(resetting, 'recreated');
          return timed(async () => {
            await resetting.dropTenant('recreated');
            await resetting.createTenant('recreated');
          });
        },
      );
      await tenant.drop();
      await resetting.dropTenant('recreated');

      const goals = ctx.dialect === 'postgres' ? { fresh: 10, reset: 5 } : { fresh: 40, reset: 25 };
      return [
        row(
          {
            case: 'test kit',
            metric: `fresh tenant per test file (${files} files), ${MIGRATIONS} migrations, p50`,
            dialect: ctx.dialect,
            unit: 'ms',
            a: percentile(kitTimes, 50),
            b: median(coldTimes),
            note: `A: testTenant (p90 ${percentile(kitTimes, 90).toFixed(1)} ms; ${got.ready} ready, ${got.awaited} awaited mid-build, ${got.built} built or claimed from a spare); B: createTenant per file (median of ${coldFiles})`,
          },
          { maxA: goals.fresh, text: `A p50 <= ${goals.fresh} ms` },
        ),
        row(
          {
            case: 'test kit',
            metric: `reset(), ${tables.length} tables with 3 rows each`,
            dialect: ctx.dialect,
            unit: 'ms',
            a: reset.a,
            b: reset.b,
            note: `A: reset() (p90 ${percentile(reset.samplesA, 90).toFixed(1)} ms); B: dropTenant + createTenant`,
          },
          { maxA: goals.reset, text: `A <= ${goals.reset} ms` },
        ),
      ];
    } finally {
      await Promise.all([kitSequelize.close(), coldSequelize.close(), resetSequelize.close()]);
    }
  },
};
