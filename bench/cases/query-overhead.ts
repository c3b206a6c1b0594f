import * as fs from 'node:fs';
import * as path from 'node:path';
import { Apartment } from '../../lib';
import { connect, connectTo } from '../env';
import { interleave, perOp } from '../harness';
import { defineModels } from '../models';
import { REPLICAS, SIDE_ROUNDS, closeSides, interleaveSides, startSides, type SideGroup, type SideName } from '../sides';
import { row, type BenchCase, type BenchContext, type Row } from '../types';

export const OPS = ['findByPk', 'findAll + through include', 'create + destroy'] as const;

/** Iterations per block: about 100 ms of work per block on a 2-core machine. */
function iterations(ctx: BenchContext, op: string): number {
  if (ctx.quick) return 20;
  return op === 'findByPk' ? 400 : 120;
}

/**
 * Separate processes (bench/sides): the floor (plain Sequelize, the same
 * models defined statically with `schema: 'bench_q_x'`, MySQL: an instance
 * connected to that database; never loads this package), the floor inside
 * one AsyncLocalStorage.run (what Node's AsyncLocalStorage alone costs), the
 * package inside `apartment.run('x')`, and the package with `{ tenant: 'x' }`.
 * Same models, same data, pool of one, rounds interleaved; each side is
 * REPLICAS processes taking blocks in turn (one with --quick); per Node version.
 */
async function separate(ctx: BenchContext, schema: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const node of ctx.nodes) {
    const sides = await startSides(node.path, ['floor', 'floor-als', 'routed', 'explicit'], {
      dialect: ctx.dialect,
      schema,
      prefix: `${ctx.prefix}q_`,
      key: 'x',
      pool: 1,
    }, ctx.quick || ctx.profile ? 1 : REPLICAS);
    // Goals apply where AsyncLocalStorage no longer uses async hooks (Node 24); older versions are reported.
    const goals = node.major >= 24;
    try {
      if (ctx.profile) {
        await profileSides(ctx, node.major, sides);
        continue;
      }
      for (const op of OPS) {
        const names: SideName[] = op === 'findByPk' ? ['floor', 'floor-als', 'routed', 'explicit'] : ['floor', 'routed'];
        const subset = new Map([...sides].filter(([name]) => names.includes(name)));
        const m = await interleaveSides(subset, op, iterations(ctx, op), ctx.rounds(SIDE_ROUNDS, 2));
        const floor = m.get('floor')!;
        const routed = m.get('routed')!;
        const base = { case: 'query overhead', dialect: ctx.dialect } as const;
        rows.push(
          row({ ...base, metric: `${op}, wall, ${node.label}`, unit: 'µs/op', a: routed.wallUs, b: floor.wallUs }, goals ? { maxRatio: 1.03 } : undefined),
          row(
            { ...base, metric: `${op}, client CPU, ${node.label}`, unit: 'µs/op', a: routed.cpuUs, b: floor.cpuUs, note: `+${(routed.cpuUs - floor.cpuUs).toFixed(1)} µs` },
            goals && op === 'findByPk' ? { maxDiff: 5 } : undefined,
          ),
        );
        if (op === 'findByPk') {
          const als = m.get('floor-als')!;
          const explicit = m.get('explicit')!;
          rows.push(
            row({ ...base, metric: `${op}, client CPU, AsyncLocalStorage alone (floor inside als.run), ${node.label}`, unit: 'µs/op', a: als.cpuUs, b: floor.cpuUs, note: `+${(als.cpuUs - floor.cpuUs).toFixed(1)} µs` }),
            row({ ...base, metric: `${op}, client CPU, explicit { tenant } (no run), ${node.label}`, unit: 'µs/op', a: explicit.cpuUs, b: floor.cpuUs, note: `+${(explicit.cpuUs - floor.cpuUs).toFixed(1)} µs` }),
          );
        }
        if (!ctx.quick) {
          rows.push(
            row({ ...base, metric: `${op}, wall, slowest / fastest of the ${REPLICAS} floor processes, ${node.label}`, unit: 'ratio', a: floor.spread, b: null, note: 'identical processes: the resolution of the ratios above' }),
          );
        }
      }
    } finally {
      await closeSides(sides);
    }
  }
  return rows;
}

/** Profile iterations: a few seconds of samples per side (50 µs sampling). */
const PROFILE_ITERATIONS: Record<string, number> = { findByPk: 4000, 'findAll + through include': 1000, 'create + destroy': 1000 };

/**
 * `--profile <dir>`: instead of timing, one warm-up block per side, then a
 * CPU profile of the hot loop alone per side and operation, written as
 * `<dialect>-node<major>-<op>-<side>.cpuprofile` (compare two with
 * `node dist/bench/profile-diff.js`, or open one in chrome://inspect).
 */
async function profileSides(ctx: BenchContext, major: number, sides: Map<SideName, SideGroup>): Promise<void> {
  const dir = ctx.profile!;
  fs.mkdirSync(dir, { recursive: true });
  for (const op of OPS) {
    const n = ctx.quick ? Math.ceil(PROFILE_ITERATIONS[op]! / 4) : PROFILE_ITERATIONS[op]!;
    for (const [name, group] of sides) {
      if (op !== 'findByPk' && name !== 'floor' && name !== 'routed') continue;
      const side = group.first;
      await side.block(op, Math.ceil(n / 4));
      const file = path.join(dir, `${ctx.dialect}-node${major}-${op.replace(/\W+/g, '-')}-${name}.cpuprofile`);
      await side.profile(op, n, file);
      ctx.log(`profile ${path.relative(process.cwd(), file)} (${n} ops)`);
    }
  }
}

/**
 * In one process (the old method, kept because it explains): A and B share
 * the process, so once A has called `apartment.run`, Node 20's
 * AsyncLocalStorage slows B's promises too and the ratio hides that cost.
 */
async function inProcess(ctx: BenchContext, schema: string): Promise<Row[]> {
  const routed = connect(ctx.dialect, { pool: { max: 1 } });
  const plain = ctx.dialect === 'postgres' ? connect(ctx.dialect, { pool: { max: 1 } }) : connectTo(ctx.dialect, schema, { pool: { max: 1 } });
  try {
    const apartment = new Apartment(routed, { migrationsPath: false, prefix: `${ctx.prefix}q_` });
    const A = defineModels(routed);
    const B = defineModels(plain, ctx.dialect === 'postgres' ? schema : undefined);
    const inTenant = <T>(fn: () => Promise<T>) => apartment.run('x', fn);
    const ops: Record<string, (m: typeof A, i: number) => Promise<unknown>> = {
      findByPk: (m, i) => m.Widget.findByPk(1 + (i % 10)),
      'findAll + through include': (m) => m.Widget.findAll({ include: [{ model: m.Tag }], limit: 5 }),
      'create + destroy': async (m) => {
        const widget = await m.Widget.create({ name: 'bench' });
        await widget.destroy();
      },
    };
    const rows: Row[] = [];
    for (const op of OPS) {
      const n = Math.ceil(iterations(ctx, op) / 4);
      const a = perOp(n, (i) => inTenant(() => ops[op](A, i)));
      const b = perOp(n, (i) => ops[op](B, i));
      await a();
      await b();
      const result = await interleave(ctx.rounds(21, 2), a, b);
      rows.push(
        row({ case: 'query overhead', metric: `${op}, wall, in one process, ${process.version.split('.')[0].replace('v', 'Node ')}`, dialect: ctx.dialect, unit: 'µs/op', a: result.a * 1000, b: result.b * 1000 }),
      );
    }
    return rows;
  } finally {
    await routed.close();
    await plain.close();
  }
}

export const queryOverhead: BenchCase = {
  id: 'query',
  title: 'query overhead',
  async run(ctx) {
    const schema = await ctx.fixtures.queryTenant();
    if (ctx.profile) return separate(ctx, schema);
    return [...(await separate(ctx, schema)), ...(await inProcess(ctx, schema))];
  },
};
