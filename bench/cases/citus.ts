import { Sequelize } from 'sequelize';
import { Apartment } from '../../lib';
import { connect } from '../env';
import { Fixtures } from '../fixtures';
import { interleave, median, timed } from '../harness';
import { closeSides, interleaveSides, startSides, type SideGroup } from '../sides';
import { row, type BenchCase, type BenchContext, type Row } from '../types';
import { migrationsReady } from './availability';

/** The Citus coordinator (2 workers), as for the tests; the case is skipped without it. */
const CITUS_URL = () => process.env.CITUS_URL || undefined;

const MIGRATIONS = 20;

/**
 * findByPk through the package on the Citus coordinator (`distribute: 'citus'`)
 * against the floor there (plain Sequelize, static schema) and against the
 * package on plain PostgreSQL: separate processes (bench/sides), pool of one,
 * rounds interleaved, per Node version of `--node`.
 */
async function findByPk(ctx: BenchContext, url: string, schema: string): Promise<Row[]> {
  const rows: Row[] = [];
  const base = { dialect: ctx.dialect, schema, prefix: `${ctx.prefix}q_`, key: 'x', pool: 1 } as const;
  for (const node of ctx.nodes) {
    const sides = new Map<string, SideGroup>();
    try {
      for (const [key, side] of await startSides(node.path, ['floor', 'routed'], { ...base, url, distribute: 'citus' })) sides.set(`citus ${key}`, side);
      for (const [key, side] of await startSides(node.path, ['routed'], base)) sides.set(`postgres ${key}`, side);
      const m = await interleaveSides(sides, 'findByPk', ctx.quick ? 20 : 300, ctx.rounds(11, 2));
      const floor = m.get('citus floor')!;
      const citus = m.get('citus routed')!;
      const plain = m.get('postgres routed')!;
      const r = { case: 'citus', dialect: ctx.dialect, unit: 'µs/op' } as const;
      rows.push(
        row({ ...r, metric: `findByPk, wall, package on Citus vs the floor on Citus, ${node.label}`, a: citus.wallUs, b: floor.wallUs, note: `client CPU +${(citus.cpuUs - floor.cpuUs).toFixed(1)} µs` }),
        row({ ...r, metric: `findByPk, wall, package on Citus vs package on plain PostgreSQL, ${node.label}`, a: citus.wallUs, b: plain.wallUs, note: 'what the coordinator hop costs' }),
      );
    } finally {
      await closeSides(sides);
    }
  }
  return rows;
}

/** Cold createTenant with a 20-migration set: Citus (distributed schema) against plain PostgreSQL, interleaved. */
async function createTenant(ctx: BenchContext, url: string): Promise<Row[]> {
  const folder = ctx.fixtures.sets.generate(`citus-create-${MIGRATIONS}`, MIGRATIONS);
  const prefix = `${ctx.prefix}cc_`;
  const onCitus = new Sequelize(url, { logging: false });
  const onPlain = connect(ctx.dialect);
  try {
    const citus = new Apartment(onCitus, { prefix, migrationsPath: folder, distribute: 'citus' });
    const plain = new Apartment(onPlain, { prefix, migrationsPath: folder });
    let n = 0;
    const result = await interleave(
      ctx.rounds(7, 2),
      () => timed(() => citus.createTenant(`t${++n}`)),
      () => timed(() => plain.createTenant(`t${++n}`)),
    );
    return [
      row({
        case: 'citus',
        metric: `createTenant cold, ${MIGRATIONS} migrations, Citus vs plain PostgreSQL`,
        dialect: ctx.dialect,
        unit: 'ms',
        a: result.a,
        b: result.b,
        note: `Citus min ${Math.min(...result.samplesA).toFixed(0)} ms, max ${Math.max(...result.samplesA).toFixed(0)} ms`,
      }),
    ];
  } finally {
    await onCitus.close();
    await onPlain.close();
  }
}

/** moveTenant of a tenant with rows, there and back, in each transfer mode. */
async function move(ctx: BenchContext, url: string, fixtures: Fixtures): Promise<Row[]> {
  const sequelize = new Sequelize(url, { logging: false });
  const rowsInTenant = ctx.quick ? 1_000 : 10_000;
  try {
    const apartment = new Apartment(sequelize, { prefix: `${ctx.prefix}cm_`, migrationsPath: fixtures.baseFolder, distribute: 'citus' });
    await apartment.createTenant('m');
    await sequelize.query(
      `INSERT INTO "${ctx.prefix}cm_m".widgets (name, "createdAt", "updatedAt") SELECT 'widget ' || i, now(), now() FROM generate_series(1, ${rowsInTenant}) i`,
    );
    const [nodes] = await sequelize.query('SELECT nodename AS host, nodeport AS port FROM pg_dist_node WHERE shouldhaveshards AND isactive ORDER BY nodeport');
    const workers = nodes as Array<{ host: string; port: number }>;
    if (workers.length < 2) throw new Error(`the Citus bench needs 2 worker nodes, the cluster at ${url} has ${workers.length}`);
    const out: Row[] = [];
    for (const mode of ['block_writes', 'force_logical'] as const) {
      const samples: number[] = [];
      for (let i = 0; i < (ctx.quick ? 2 : 4); i++) {
        const from = (await apartment.placement('m'))!;
        const to = workers.find((w) => w.port !== from.port)!;
        samples.push(await timed(() => apartment.moveTenant('m', { ...to, mode })));
      }
      out.push(
        row({
          case: 'citus',
          metric: `moveTenant, ${rowsInTenant.toLocaleString('en')} rows, mode ${mode}`,
          dialect: ctx.dialect,
          unit: 'ms',
          a: median(samples),
          b: null,
          note: `${samples.length} moves between the 2 workers, min ${Math.min(...samples).toFixed(0)} ms, max ${Math.max(...samples).toFixed(0)} ms`,
        }),
      );
    }
    return out;
  } finally {
    await sequelize.close();
  }
}

/**
 * With CITUS_URL (a coordinator with 2 workers): findByPk and createTenant on
 * Citus against plain PostgreSQL, and how long a move takes.
 */
export const citus: BenchCase = {
  id: 'citus',
  title: 'Citus',
  dialects: ['postgres'],
  unavailable: () => migrationsReady() ?? (CITUS_URL() ? undefined : 'CITUS_URL is not set (a Citus 12+ coordinator with 2 workers; README "Scale out with Citus")'),
  async run(ctx) {
    const url = CITUS_URL()!;
    const fixtures = new Fixtures(ctx.dialect, ctx.prefix, { url, distributed: true });
    try {
      await fixtures.dropAll(ctx.log);
      const schema = await fixtures.queryTenant();
      // The same tenant on plain PostgreSQL, for the package-vs-package row.
      await ctx.fixtures.queryTenant();
      return [...(await findByPk(ctx, url, schema)), ...(await createTenant(ctx, url)), ...(await move(ctx, url, fixtures))];
    } finally {
      await fixtures.dropAll(ctx.log).catch((error: Error) => ctx.log(`Citus cleanup failed: ${error.message}`));
      await fixtures.close();
    }
  },
};
