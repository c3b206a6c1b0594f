import { Apartment } from '../../lib';
import { connect, connectTo } from '../env';
import { interleave, perOp } from '../harness';
import { defineModels } from '../models';
import { row, type BenchCase, type Row } from '../types';

/**
 * A: models routed by Apartment, inside `apartment.run('x')`.
 * B: the same models defined statically on a plain Sequelize instance, the
 * floor (zero routing): `schema: 'bench_q_x'` on PostgreSQL; on MySQL a plain
 * instance connected to the `bench_q_x` database (Sequelize's `mysql` dialect
 * cannot render a `schema` option as `db`.`table`).
 */
export const queryOverhead: BenchCase = {
  id: 'query',
  title: 'query overhead',
  async run(ctx) {
    const schema = await ctx.fixtures.queryTenant();
    const routed = connect(ctx.dialect);
    const plain = ctx.dialect === 'postgres' ? connect(ctx.dialect) : connectTo(ctx.dialect, schema);
    try {
      const apartment = new Apartment(routed, { prefix: `${ctx.prefix}q_` });
      const A = defineModels(routed);
      const B = defineModels(plain, ctx.dialect === 'postgres' ? schema : undefined);
      const iterations = ctx.quick ? 10 : 40;
      const rounds = ctx.rounds(41, 3);
      const inTenant = <T>(fn: () => Promise<T>) => apartment.run('x', fn);

      const ops: Array<[string, (m: typeof A) => Promise<unknown>]> = [
        ['findByPk', (m) => m.Widget.findByPk(1 + Math.floor(Math.random() * 10))],
        ['findAll + through include', (m) => m.Widget.findAll({ include: [{ model: m.Tag }], limit: 5 })],
        [
          'create + destroy',
          async (m) => {
            const widget = await m.Widget.create({ name: 'bench' });
            await widget.destroy();
          },
        ],
      ];
      const rows: Row[] = [];
      for (const [metric, op] of ops) {
        // Warm both sides (connections, prepared code paths) before measuring.
        await perOp(iterations, () => inTenant(() => op(A)))();
        await perOp(iterations, () => op(B))();
        const result = await interleave(
          rounds,
          perOp(iterations, () => inTenant(() => op(A))),
          perOp(iterations, () => op(B)),
        );
        rows.push(row({ case: 'query overhead', metric, dialect: ctx.dialect, unit: 'ms/op', a: result.a, b: result.b }, { maxRatio: 1.03 }));
      }
      return rows;
    } finally {
      await routed.close();
      await plain.close();
    }
  },
};
