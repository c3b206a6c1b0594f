/**
 * One side of a separate-process comparison, run as a child process
 * (`fork`) so the floor never shares a process with this package: once
 * `apartment.run` has been called, Node 20's AsyncLocalStorage slows every
 * promise in the process, the floor's included.
 *
 * Sides: `floor` (plain Sequelize, static models, never loads the package),
 * `floor-als` (the floor inside one `AsyncLocalStorage.run`: what Node's
 * AsyncLocalStorage alone costs), `routed` (the package, inside
 * `apartment.run`) and `explicit` (the package, `{ tenant }` options, no
 * `run`). The parent sends blocks of one operation; the child answers wall
 * time and client CPU (`process.cpuUsage`) per operation, in µs.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sequelize } from 'sequelize';
import { connect, connectTo, type DialectName } from '../env';
import { defineModels, type BenchModels } from '../models';

export type SideName = 'floor' | 'floor-als' | 'routed' | 'explicit' | 'roles';
export type HttpFramework = 'express' | 'fastify';

export interface SideConfig {
  side: SideName;
  dialect: DialectName;
  /** The schema/database with the seeded tables (bench_q_x). */
  schema: string;
  /** Apartment prefix such that tenant `key` is `schema`. */
  prefix: string;
  key: string;
  /** Pool size, the same on every side. */
  pool: number;
  /** Serve `GET /widgets/:id` (findByPk) with this framework instead of running blocks. */
  http?: HttpFramework;
  /** The `roles` side: the package with `isolation: 'role'`, connected as this (NOINHERIT) login role's URL. */
  rolesUrl?: string;
  /** Another server than the dialect's (the Citus coordinator). */
  url?: string;
  /** The package's `distribute` option on the routed sides. */
  distribute?: 'citus';
}

export type Request =
  | { id: number; type: 'block'; op: string; iterations: number }
  | { id: number; type: 'cpu' }
  | { id: number; type: 'profile'; op: string; iterations: number; file: string }
  | { id: number; type: 'close' };

export interface Ready {
  type: 'ready';
  node: string;
  /** Whether any module of this package is loaded (must be false on the floor sides). */
  loadedPackage: boolean;
  port?: number;
}

export interface BlockResult {
  wallUs: number;
  cpuUs: number;
}

type Op = (i: number) => Promise<unknown>;

/** The operations a side can time, written the way a user of that side would write them. */
export function operations(config: SideConfig, sequelize: Sequelize, m: BenchModels): Record<string, Op> {
  const explicit = config.side === 'explicit';
  const t = explicit ? { tenant: config.key } : {};
  const q = (name: string) => (config.dialect === 'postgres' ? `"${name}"` : `\`${name}\``);
  // The floor qualifies raw SQL by hand (it has no tenant); the package resolves unqualified names.
  const table = config.side.startsWith('floor') ? `${q(config.schema)}.${q('widgets')}` : q('widgets');
  const raw = `SELECT ${q('id')}, ${q('name')} FROM ${table} WHERE ${q('id')} = 1`;
  const rawBind = `SELECT ${q('id')}, ${q('name')} FROM ${table} WHERE ${q('id')} = $1`;
  return {
    findByPk: (i) => m.Widget.findByPk(1 + (i % 10), t),
    'findAll + through include': () => m.Widget.findAll({ include: [{ model: m.Tag }], limit: 5, ...t }),
    'create + destroy': async () => {
      const widget = await m.Widget.create({ name: 'bench' }, t);
      await widget.destroy();
    },
    'raw SQL': () => sequelize.query(raw, { raw: true, ...t }),
    // Bind parameters (extended protocol): the routed sides need a BEGIN/COMMIT bracket for SET LOCAL.
    'raw SQL with bind': () => sequelize.query(rawBind, { raw: true, bind: [1], ...t }),
  };
}

export function packageLoaded(): boolean {
  const lib = `${require('node:path').resolve(__dirname, '../../lib')}${require('node:path').sep}`;
  return Object.keys(require.cache).some((file) => file.startsWith(lib));
}

export async function serve(config: SideConfig, m: BenchModels, apartment: any): Promise<http.Server | { close(): Promise<unknown>; port: number }> {
  // The explicit side names the tenant the middleware would have resolved, from the same header.
  const findByPk = (id: string, req?: any) => m.Widget.findByPk(Number(id), config.side === 'explicit' ? { tenant: req.headers['x-tenant'] } : {});
  if (config.http === 'fastify') {
    const fastify = require('fastify')({ logger: false });
    if (apartment) await fastify.register(require('../../lib/integrations/fastify').default ?? require('../../lib/integrations/fastify'), { apartment, resolve: 'header' });
    fastify.get('/widgets/:id', async (req: any) => findByPk(req.params.id));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    return { close: () => fastify.close(), port: (fastify.server.address() as AddressInfo).port };
  }
  const express = require('express');
  const app = express();
  if (config.side === 'routed') app.use(apartment.middleware({ resolve: 'header' }));
  if (config.side === 'floor-als') {
    const als = new AsyncLocalStorage<object>();
    const store = {};
    app.use((_req: unknown, _res: unknown, next: () => void) => als.run(store, next));
  }
  app.get('/widgets/:id', async (req: any, res: any) => {
    res.json(await findByPk(req.params.id, req));
  });
  return new Promise((resolve) => {
    const server: http.Server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** The side's Sequelize instance, models and (not on the floor sides) Apartment, connected. */
export async function open(config: SideConfig): Promise<{ sequelize: Sequelize; m: BenchModels; apartment: any }> {
  const floor = config.side === 'floor' || config.side === 'floor-als';
  const pool = { max: config.pool, min: config.pool };
  let sequelize: Sequelize;
  let m: BenchModels;
  let apartment: any;
  const connectSide = () => (config.url ? new Sequelize(config.url, { logging: false, pool }) : connect(config.dialect, { pool }));
  if (floor) {
    sequelize = config.dialect === 'postgres' ? connectSide() : connectTo(config.dialect, config.schema, { pool });
    m = defineModels(sequelize, config.dialect === 'postgres' ? config.schema : undefined);
  } else if (config.side === 'roles') {
    const { Sequelize: S } = require('sequelize');
    sequelize = new S(config.rolesUrl, { logging: false, pool });
    const { Apartment } = require('../../lib');
    apartment = new Apartment(sequelize, { prefix: config.prefix, isolation: 'role' });
    m = defineModels(sequelize);
  } else {
    sequelize = connectSide();
    // Loaded only here: the floor sides never load the package.
    const { Apartment } = require('../../lib');
    apartment = new Apartment(sequelize, { migrationsPath: false, prefix: config.prefix, ...(config.distribute ? { distribute: config.distribute } : {}) });
    m = defineModels(sequelize);
  }
  await sequelize.authenticate();
  return { sequelize, m, apartment };
}

async function main(config: SideConfig): Promise<void> {
  const { sequelize, m, apartment } = await open(config);

  const als = new AsyncLocalStorage<object>();
  const store = {};
  /** How this side enters its context around a block. */
  const enter = <T>(fn: () => Promise<T>): Promise<T> => {
    if (config.side === 'routed' || config.side === 'roles') return apartment.run(config.key, fn);
    if (config.side === 'floor-als') return als.run(store, fn);
    return fn();
  };

  let server: any;
  if (config.http) {
    server = await serve(config, m, apartment);
  }
  const ops = operations(config, sequelize, m);
  const loop = async (op: string, iterations: number) => {
    const fn = ops[op];
    if (!fn) throw new Error(`bench worker: unknown operation '${op}'`);
    for (let i = 0; i < iterations; i++) await fn(i);
  };

  const send = (message: unknown) => process.send!(message);
  process.on('message', async (request: Request) => {
    try {
      if (request.type === 'block') {
        // Context entered once per block (a request handler enters it once too).
        const result = await enter(async () => {
          const cpu = process.cpuUsage();
          const start = process.hrtime.bigint();
          await loop(request.op, request.iterations);
          const wall = Number(process.hrtime.bigint() - start) / 1e3;
          const used = process.cpuUsage(cpu);
          return { wallUs: wall / request.iterations, cpuUs: (used.user + used.system) / request.iterations };
        });
        send({ id: request.id, ...result });
      } else if (request.type === 'cpu') {
        const used = process.cpuUsage();
        send({ id: request.id, cpuUs: used.user + used.system });
      } else if (request.type === 'profile') {
        // A CPU profile of the hot loop only (the caller warmed it up first).
        const inspector = require('node:inspector');
        const session = new inspector.Session();
        session.connect();
        const post = (method: string, params?: object) =>
          new Promise<any>((resolve, reject) => session.post(method, params, (error: Error | null, result: any) => (error ? reject(error) : resolve(result))));
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 50 });
        await post('Profiler.start');
        await enter(() => loop(request.op, request.iterations));
        const { profile } = await post('Profiler.stop');
        session.disconnect();
        fs.writeFileSync(request.file, JSON.stringify(profile));
        send({ id: request.id, file: request.file });
      } else if (request.type === 'close') {
        if (server) await new Promise((resolve) => (typeof server.close === 'function' && server instanceof http.Server ? server.close(resolve) : server.close().then(resolve)));
        await sequelize.close();
        send({ id: request.id });
        process.exit(0);
      }
    } catch (error) {
      send({ id: (request as any).id, error: (error as Error).stack ?? String(error) });
    }
  });
  const ready: Ready = { type: 'ready', node: process.version, loadedPackage: packageLoaded(), port: server ? (server.port ?? (server.address() as AddressInfo).port) : undefined };
  send(ready);
}

if (require.main === module) {
  const config = JSON.parse(process.env.BENCH_SIDE ?? '{}') as SideConfig;
  main(config).catch((error) => {
    process.send?.({ type: 'failed', error: (error as Error).stack ?? String(error) });
    process.exit(1);
  });
}
