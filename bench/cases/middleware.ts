import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Apartment } from '../../lib';
import { connect, connectTo } from '../env';
import { interleave, now } from '../harness';
import { defineModels } from '../models';
import { row, type BenchCase } from '../types';
import { middlewareReady } from './availability';

async function listen(app: express.Express): Promise<http.Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** `count` GET requests, `concurrency` at a time, on keep-alive connections; resolves to requests per second. */
function load(server: http.Server, agent: http.Agent, count: number, concurrency: number, headers: Record<string, string>): () => Promise<number> {
  const { port } = server.address() as AddressInfo;
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

/**
 * HTTP requests (findByPk per request) through `apartment.middleware({
 * resolve: 'header' })` vs plain Express and the static model; node's http
 * client, keep-alive, 8 at a time, against 127.0.0.1.
 */
export const middleware: BenchCase = {
  id: 'middleware',
  title: 'middleware',
  unavailable: middlewareReady,
  async run(ctx) {
    const schema = await ctx.fixtures.queryTenant();
    const routed = connect(ctx.dialect);
    const plain = ctx.dialect === 'postgres' ? connect(ctx.dialect) : connectTo(ctx.dialect, schema);
    const servers: http.Server[] = [];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const apartment = new Apartment(routed, { prefix: `${ctx.prefix}q_` });
      const A = defineModels(routed);
      const B = defineModels(plain, ctx.dialect === 'postgres' ? schema : undefined);

      const appA = express();
      appA.use(apartment.middleware({ resolve: 'header' }));
      appA.get('/widgets/:id', async (req, res) => {
        res.json(await A.Widget.findByPk(Number(req.params.id)));
      });
      const appB = express();
      appB.get('/widgets/:id', async (req, res) => {
        res.json(await B.Widget.findByPk(Number(req.params.id)));
      });
      const serverA = await listen(appA);
      const serverB = await listen(appB);
      servers.push(serverA, serverB);

      const count = ctx.quick ? 100 : 1000;
      const runA = load(serverA, agent, count, 8, { 'x-tenant': 'x' });
      const runB = load(serverB, agent, count, 8, {});
      await runA();
      await runB();
      const result = await interleave(ctx.rounds(11, 3), runA, runB);
      return [
        row(
          { case: 'middleware', metric: `findByPk over HTTP, ${count} requests, 8 concurrent`, dialect: ctx.dialect, unit: 'req/s', a: result.a, b: result.b },
          { minRatio: 0.95, text: 'A/B >= 0.95 (throughput)' },
        ),
      ];
    } finally {
      agent.destroy();
      for (const server of servers) await new Promise((resolve) => server.close(resolve));
      await routed.close();
      await plain.close();
    }
  },
};
