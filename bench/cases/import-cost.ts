import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { median } from '../harness';
import { row, type BenchCase, type Row } from '../types';

const ROOT = path.resolve(__dirname, '../../..');

/** ms a fresh process spends in `require` of the given modules, in order. */
function requireTime(node: string, modules: string[]): number {
  const script = `const t = process.hrtime.bigint(); ${modules.map((m) => `require(${JSON.stringify(m)});`).join(' ')} console.log(Number(process.hrtime.bigint() - t) / 1e6);`;
  return Number(execFileSync(node, ['-e', script], { cwd: ROOT, encoding: 'utf8' }).trim());
}

/**
 * `require('sequelize-apartment')` on top of `require('sequelize')`, what
 * every serverless cold start pays: fresh processes, interleaved; A requires
 * both, B only sequelize. The median difference is the cost.
 */
export const importCost: BenchCase = {
  id: 'import',
  title: 'import cost',
  dialects: ['postgres'],
  async run(ctx) {
    const rows: Row[] = [];
    for (const node of ctx.nodes) {
      const a: number[] = [];
      const b: number[] = [];
      for (let round = 0; round < ctx.rounds(21, 3); round++) {
        if (round % 2 === 0) {
          a.push(requireTime(node.path, ['sequelize', 'sequelize-apartment']));
          b.push(requireTime(node.path, ['sequelize']));
        } else {
          b.push(requireTime(node.path, ['sequelize']));
          a.push(requireTime(node.path, ['sequelize', 'sequelize-apartment']));
        }
      }
      rows.push(
        row(
          { case: 'import cost', metric: `require('sequelize-apartment') over require('sequelize'), fresh processes, ${node.label}`, dialect: 'postgres', unit: 'ms', a: median(a), b: median(b), note: `+${(median(a) - median(b)).toFixed(1)} ms` },
          { maxDiff: 10 },
        ),
      );
    }
    return rows;
  },
};
