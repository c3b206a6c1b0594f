import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { now } from '../harness';
import { REPLICAS, SIDE_ROUNDS, closeSides, startSides, type Framework, type Side, type SideGroup } from '../sides';
import { row, type BenchCase, type BenchContext, type Row } from '../types';
import { middlewareReady } from './availability';

/** `count` GET requests, `concurrency` at a time, on keep-alive connections; resolves to requests per second. */
function load(port: number, agent: http.Agent, count: number, concurrency: number, headers: Record<string, string>): () => Promise<number> {
  const get = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `/widgets/${(i % 10) + 1}`, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`middleware bench: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
    });
  return async () => {
    let next = 0;
    const start = now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await get(next++);
      }),
    );
    return count / ((now() - start) / 1000);
  };
}

/** Whether the Fastify plugin (lib/integrations/fastify) and fastify itself are there. */
export function fastifyReady(): boolean {
  try {
    require.resolve('fastify');
  } catch {
    return false;
  }
  return fs.existsSync(path.resolve(__dirname, '../../lib/integrations/fastify.js')) || fs.existsSync(path.resolve(__dirname, '../../lib/integrations/fastify/index.js'));
}

interface Round {
  rps: number;
  cpuUs: number;
}

/** One measured round on one side: throughput, and the server's client CPU per request. */
async function round(side: Side, run: () => Promise<number>, count: number): Promise<Round> {
  const before = await side.cpu();
  const rps = await run();
  return { rps, cpuUs: ((await side.cpu()) - before) / count };
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

async function compare(ctx: BenchContext, framework: Framework, schema: string): Promise<Row[]> {
  const rows: Row[] = [];
  const count = ctx.quick ? 100 : 1000;
  for (const node of ctx.nodes) {
    const sides = await startSides(node.path, ['floor', 'routed'], { dialect: ctx.dialect, schema, prefix: `${ctx.prefix}q_`, key: 'x', pool: 5, http: framework }, ctx.quick ? 1 : REPLICAS);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      // Each side is REPLICAS server processes, taking the rounds in turn.
      const floor = sides.get('floor')!;
      const routed = sides.get('routed')!;
      const runs = new Map<Side, () => Promise<number>>();
      for (const side of floor.processes) runs.set(side, load(side.ready.port!, agent, count, 8, {}));
      for (const side of routed.processes) runs.set(side, load(side.ready.port!, agent, count, 8, { 'x-tenant': 'x' }));
      for (const [, run] of runs) await run();
      const samples = new Map<SideGroup, Round[]>([[floor, []], [routed, []]]);
      const order = [floor, routed];
      for (let r = 0; r < ctx.rounds(SIDE_ROUNDS, 2); r++) {
        for (const group of r % 2 === 0 ? order : [...order].reverse()) {
          const [side] = group.take();
          samples.get(group)!.push(await round(side, runs.get(side)!, count));
        }
      }
      const rps = (group: SideGroup) => median(samples.get(group)!.map((s) => s.rps));
      const cpu = (group: SideGroup) => median(samples.get(group)!.map((s) => s.cpuUs));
      const label = framework === 'express' ? 'Express' : 'Fastify';
      const base = { case: 'middleware', dialect: ctx.dialect } as const;
      rows.push(
        row(
          { ...base, metric: `${label}, findByPk over HTTP, ${count} requests, 8 concurrent, ${node.label}`, unit: 'req/s', a: rps(routed), b: rps(floor) },
          { minRatio: 0.97, text: 'A/B >= 0.97 (throughput)' },
        ),
        row({ ...base, metric: `${label}, server CPU per request, ${node.label}`, unit: 'µs/req', a: cpu(routed), b: cpu(floor), note: `+${(cpu(routed) - cpu(floor)).toFixed(1)} µs` }),
      );
    } finally {
      agent.destroy();
      await closeSides(sides);
    }
  }
  return rows;
}

/**
 * HTTP requests (findByPk per request), the server in a child process of its
 * own: `apartment.middleware({ resolve: 'header' })` (and the Fastify plugin,
 * once it is there) vs plain Express/Fastify and the static model in a
 * process that never loads this package. The load comes from this process
 * (node's http client, keep-alive, 8 at a time, 127.0.0.1); pool of 5 on both;
 * each side is REPLICAS server processes taking the rounds in turn.
 */
export const middleware: BenchCase = {
  id: 'middleware',
  title: 'middleware',
  unavailable: middlewareReady,
  async run(ctx) {
    const schema = await ctx.fixtures.queryTenant();
    const rows = await compare(ctx, 'express', schema);
    if (fastifyReady()) rows.push(...(await compare(ctx, 'fastify', schema)));
    return rows;
  },
};
