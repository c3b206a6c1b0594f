import { Apartment } from '../../lib';
import { connect } from '../env';
import { interleave, perOp } from '../harness';
import { REPLICAS, SIDE_ROUNDS, closeSides, interleaveSides, startSides } from '../sides';
import { row, type BenchCase, type Row } from '../types';

/**
 * A: `sequelize.query` with unqualified names inside `apartment.run`.
 * B: the same query qualified by hand on a plain Sequelize instance, no context.
 * Then the same with 100 tenants taking turns on the pool.
 */
export const rawSql: BenchCase = {
  id: 'raw',
  title: 'raw SQL overhead',
  async run(ctx) {
    const { fixtures } = ctx;
    const schema = await fixtures.queryTenant();
    const alternating = ctx.quick ? 30 : 100;
    const keys = await fixtures.bulk(alternating, ctx.log);
    const routed = connect(ctx.dialect);
    const plain = connect(ctx.dialect);
    try {
      const apartment = new Apartment(routed, { migrationsPath: false, prefix: ctx.prefix });
      const q = (name: string) => fixtures.q(name);
      const sql = (qualifier: string) => `SELECT ${q('id')}, ${q('name')} FROM ${qualifier}${q('widgets')} WHERE ${q('id')} = 1`;
      const unqualified = sql('');
      const iterations = ctx.quick ? 20 : 60;
      const rounds = ctx.rounds(41, 3);
      const rows: Row[] = [];

      // One tenant: bench_q_x (key 'q_x' under the bench prefix).
      const handQualified = sql(`${q(schema)}.`);
      const a1 = perOp(iterations, () => apartment.run('q_x', () => routed.query(unqualified, { raw: true })));
      const b1 = perOp(iterations, () => plain.query(handQualified, { raw: true }));
      await a1();
      await b1();
      const one = await interleave(rounds, a1, b1);
      rows.push(row({ case: 'raw SQL overhead', metric: '1 tenant, in one process', dialect: ctx.dialect, unit: 'ms/query', a: one.a, b: one.b }));

      // The same in separate processes (bench/sides): the floor never loads the package.
      for (const node of ctx.nodes) {
        const sides = await startSides(node.path, ['floor', 'routed'], { dialect: ctx.dialect, schema, prefix: `${ctx.prefix}q_`, key: 'x', pool: 1 }, ctx.quick ? 1 : REPLICAS);
        try {
          const m = await interleaveSides(sides, 'raw SQL', ctx.quick ? 20 : 400, ctx.rounds(SIDE_ROUNDS, 2));
          const [floor, routedSide] = [m.get('floor')!, m.get('routed')!];
          const base = { case: 'raw SQL overhead', dialect: ctx.dialect, unit: 'µs/query' } as const;
          rows.push(
            row({ ...base, metric: `1 tenant, wall, ${node.label}`, a: routedSide.wallUs, b: floor.wallUs }, ctx.dialect === 'postgres' ? { maxRatio: 1.05 } : undefined),
            row({ ...base, metric: `1 tenant, client CPU, ${node.label}`, a: routedSide.cpuUs, b: floor.cpuUs, note: `+${(routedSide.cpuUs - floor.cpuUs).toFixed(1)} µs` }),
          );
        } finally {
          await closeSides(sides);
        }
      }

      // N tenants alternating: every query goes to the next tenant.
      const tenantKeys = keys.slice(0, alternating).map((key) => `t_${key}`);
      const qualified = keys.map((key) => sql(`${q(fixtures.bulkPrefix + key)}.`));
      const a100 = perOp(iterations, (i) => apartment.run(tenantKeys[i % alternating], () => routed.query(unqualified, { raw: true })));
      const b100 = perOp(iterations, (i) => plain.query(qualified[i % alternating], { raw: true }));
      await a100();
      await b100();
      const many = await interleave(rounds, a100, b100);
      rows.push(
        row({ case: 'raw SQL overhead', metric: `${alternating} tenants alternating`, dialect: ctx.dialect, unit: 'ms/query', a: many.a, b: many.b }),
      );
      return rows;
    } finally {
      await routed.close();
      await plain.close();
    }
  },
};
