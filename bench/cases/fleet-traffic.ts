import type { Sequelize } from 'sequelize';
import { Apartment, type AffinityOptions } from '../../lib';
import { connect } from '../env';
import { eachLimit, interleave, now, percentile } from '../harness';
import { defineModels } from '../models';
import { row, type BenchContext, type Row } from '../types';
import type { FleetFixture } from './fleet-fixture';

const POOL_MAX = 10;
const CONCURRENCY = 10;
/** Below saturation: an idle connection is there to choose from, which tenant-affine connections need. */
const BELOW = POOL_MAX / 2;
/** Rounds of the below-saturation comparison: uniform and hot chunks take turns, so load that drifts during the run falls on both. */
const BELOW_ROUNDS = 10;
const BURST = 2000;
/** Uniform passes over every tenant before the timed one: a plain pool's backends keep meeting tenants they have not cached. */
const UNIFORM_WARM_PASSES = 3;

interface Traffic {
  /** ms per op (wall / ops), and each op's latency. */
  perOp: number;
  latencies: number[];
}

/** `findByPk(1)` for each key in `keys`, `concurrency` at a time. */
async function traffic(apartment: Apartment, Widget: any, keys: readonly string[], concurrency = CONCURRENCY): Promise<Traffic> {
  const latencies: number[] = new Array(keys.length);
  const start = now();
  await eachLimit(keys, concurrency, async (key, i) => {
    const t = now();
    const widget = await apartment.run(key, () => Widget.findByPk(1));
    if (!widget) throw new Error(`fleet traffic: tenant ${key} has no widget 1`);
    latencies[i] = now() - t;
  });
  return { perOp: (now() - start) / keys.length, latencies };
}

/**
 * Uniform and hot traffic below saturation, in `rounds` turns: one pass over
 * `keys` cut into `rounds` chunks, each followed (or, every other round,
 * preceded) by as many queries over the hot tenants. Each side's time per
 * query is the median of its rounds; latencies are all of its queries.
 */
async function takingTurns(apartment: Apartment, Widget: any, keys: readonly string[], hotKeys: readonly string[], rounds: number): Promise<{ uniform: Traffic; hot: Traffic }> {
  const size = Math.ceil(keys.length / rounds);
  const chunks = Array.from({ length: Math.ceil(keys.length / size) }, (_, round) => keys.slice(round * size, (round + 1) * size));
  const uniform: Traffic[] = [];
  const hot: Traffic[] = [];
  // One side's chunk per call, in order: interleave calls each side once per round, in turns.
  const side = (sides: Traffic[], keysOf: (chunk: readonly string[]) => readonly string[]) => async () => {
    const t = await traffic(apartment, Widget, keysOf(chunks[sides.length]!), BELOW);
    sides.push(t);
    return t.perOp;
  };
  const medians = await interleave(
    chunks.length,
    side(uniform, (chunk) => chunk),
    side(hot, (chunk) => chunk.map((_, i) => hotKeys[i % hotKeys.length]!)),
  );
  return { uniform: { perOp: medians.a, latencies: uniform.flatMap((t) => t.latencies) }, hot: { perOp: medians.b, latencies: hot.flatMap((t) => t.latencies) } };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Server memory the pool's connections hold: PostgreSQL per backend; MariaDB per thread plus the server total. */
async function poolMemory(ctx: BenchContext, sequelize: Sequelize, admin: Sequelize): Promise<{ bytes: number; connections: number; server?: number; cached?: number }> {
  const manager = (sequelize as any).connectionManager;
  const size: number = manager.pool.size;
  // Hold every pooled connection at once, so each is read exactly once.
  const connections = await Promise.all(Array.from({ length: size }, () => manager.getConnection({ type: 'SELECT' })));
  try {
    if (ctx.dialect === 'postgres') {
      // 'index info': one context per index in the backend's relcache, so widgets' primary keys count the tenants it caches.
      const values = await Promise.all(
        connections.map(async (c: any) => {
          const sql = "SELECT sum(total_bytes)::bigint AS bytes, count(*) FILTER (WHERE name = 'index info' AND ident LIKE '%widgets_pkey') AS cached FROM pg_backend_memory_contexts";
          const { rows } = await c.query(sql);
          return { bytes: Number(rows[0].bytes), cached: Number(rows[0].cached) };
        }),
      );
      return { bytes: values.reduce((a, v) => a + v.bytes, 0), connections: size, cached: values.reduce((a, v) => a + v.cached, 0) };
    }
    const ids = connections.map((c: any) => Number(c.threadId)).filter(Number.isFinite);
    const [rows] = await admin.query(`SELECT COALESCE(SUM(MEMORY_USED), 0) AS bytes FROM information_schema.PROCESSLIST WHERE ID IN (${ids.join(',') || 0})`);
    const [status] = await admin.query("SHOW GLOBAL STATUS LIKE 'Memory_used'");
    return { bytes: Number((rows as any)[0].bytes), connections: size, server: Number((status as any)[0].Value) };
  } finally {
    for (const c of connections) manager.releaseConnection(c);
  }
}

async function tableCacheMisses(ctx: BenchContext, admin: Sequelize): Promise<number | undefined> {
  if (ctx.dialect !== 'mysql') return undefined;
  const [rows] = await admin.query("SHOW GLOBAL STATUS LIKE 'Opened_table_definitions'");
  const [opened] = await admin.query("SHOW GLOBAL STATUS LIKE 'Opened_tables'");
  return Number((rows as any)[0].Value) + Number((opened as any)[0].Value);
}

interface ModeResult {
  uniform: Traffic;
  hot: Traffic;
  /** The same below saturation (concurrency BELOW). */
  uniformBelow: Traffic;
  hotBelow: Traffic;
  burst: Traffic;
  memory: { bytes: number; connections: number; server?: number; cached?: number };
  misses?: number;
}

/** One pool (fresh backends), one affinity setting: uniform over all tenants twice, then 10 hot tenants, then one tenant's burst. */
async function runMode(ctx: BenchContext, fixture: FleetFixture, keys: string[], affinity: boolean | AffinityOptions): Promise<ModeResult> {
  const sequelize = connect(ctx.dialect, { pool: { max: POOL_MAX } });
  try {
    const apartment = new Apartment(sequelize, { prefix: fixture.prefix, affinity });
    const { Widget } = defineModels(sequelize);
    await traffic(apartment, Widget, Array.from({ length: 200 }, (_, i) => keys[i % 10]!)); // warm up code and pool
    const before = await tableCacheMisses(ctx, fixture.admin);
    for (let pass = 1; pass <= (ctx.quick ? 1 : UNIFORM_WARM_PASSES); pass++) await traffic(apartment, Widget, shuffled(keys, pass));
    const uniform = await traffic(apartment, Widget, shuffled(keys, 100));
    const misses = before === undefined ? undefined : (await tableCacheMisses(ctx, fixture.admin))! - before;
    const memory = await poolMemory(ctx, sequelize, fixture.admin);
    const hotKeys = keys.slice(0, 10);
    await traffic(apartment, Widget, hotKeys);
    const hot = await traffic(apartment, Widget, Array.from({ length: Math.min(keys.length, 5000) }, (_, i) => hotKeys[i % 10]!));
    const burst = await traffic(apartment, Widget, Array.from({ length: ctx.quick ? 200 : BURST }, () => keys[keys.length - 1]!));
    const { uniform: uniformBelow, hot: hotBelow } = await takingTurns(apartment, Widget, shuffled(keys, 101), hotKeys, ctx.quick ? 2 : BELOW_ROUNDS);
    return { uniform, hot, uniformBelow, hotBelow, burst, memory, misses };
  } finally {
    await sequelize.close();
  }
}

/**
 * The request path at N tenants: findByPk uniform over all tenants vs over
 * 10 hot ones (concurrency 10, pool max 10), p50/p99, server memory of the
 * pool after uniform traffic, a single tenant's burst; each with
 * tenant-affine connections (the default) and with `affinity: false`.
 */
export async function trafficRows(ctx: BenchContext, fixture: FleetFixture, keys: string[]): Promise<Row[]> {
  const n = keys.length;
  const label = `${n} tenants`;
  const plain = await runMode(ctx, fixture, keys, false);
  const affine = await runMode(ctx, fixture, keys, true);
  const mb = (bytes: number) => bytes / 1024 ** 2;
  const p = (t: Traffic, q: number) => percentile(t.latencies, q);
  const rows: Row[] = [];
  for (const [name, m] of [['affinity on', affine], ['affinity off', plain]] as const) {
    // The goal applies below saturation, where affinity has an idle connection to choose; at saturation it is reported.
    rows.push(
      row(
        {
          case: 'fleet',
          metric: `findByPk uniform over ${n} (A) / over 10 hot tenants (B), concurrency ${BELOW} (below saturation), ${name}`,
          dialect: ctx.dialect,
          unit: 'ms/op',
          a: m.uniformBelow.perOp,
          b: m.hotBelow.perOp,
          note: `concurrency ${BELOW}, pool max ${POOL_MAX}; medians of ${BELOW_ROUNDS} rounds taking turns (a tenth of a uniform pass, then as many hot queries); uniform p50 ${p(m.uniformBelow, 50).toFixed(2)} ms, p99 ${p(m.uniformBelow, 99).toFixed(2)} ms`,
        },
        name === 'affinity on' ? { maxRatio: 1.25 } : undefined,
      ),
      row({
        case: 'fleet',
        metric: `findByPk uniform over ${n} (A) / over 10 hot tenants (B), ${name}`,
        dialect: ctx.dialect,
        unit: 'ms/op',
        a: m.uniform.perOp,
        b: m.hot.perOp,
        note: `concurrency ${CONCURRENCY}, pool max ${POOL_MAX} (saturated: affinity has no idle connection to choose); uniform p50 ${p(m.uniform, 50).toFixed(2)} ms, p99 ${p(m.uniform, 99).toFixed(2)} ms${m.misses !== undefined ? `; table (definition) opens during the uniform pass: ${m.misses}` : ''}`,
      }),
    );
  }
  rows.push(
    row({ case: 'fleet', metric: `findByPk uniform p50, affinity on (A) vs off (B), ${label}`, dialect: ctx.dialect, unit: 'ms', a: p(affine.uniform, 50), b: p(plain.uniform, 50) }),
    row({ case: 'fleet', metric: `findByPk uniform p99, affinity on (A) vs off (B), ${label}`, dialect: ctx.dialect, unit: 'ms', a: p(affine.uniform, 99), b: p(plain.uniform, 99) }),
    row(
      {
        case: 'fleet',
        metric: `${ctx.dialect === 'postgres' ? 'backend memory of the pool' : 'thread memory of the pool'} after uniform traffic, affinity on (A) vs off (B), ${label}`,
        dialect: ctx.dialect,
        unit: 'MB',
        a: mb(affine.memory.bytes),
        b: mb(plain.memory.bytes),
        note: `${affine.memory.connections} / ${plain.memory.connections} pooled connections, after ${(ctx.quick ? 1 : UNIFORM_WARM_PASSES) + 1} passes over every tenant${affine.memory.cached !== undefined ? `; tenants cached summed over the backends ${affine.memory.cached} / ${plain.memory.cached}` : ''}${affine.memory.server !== undefined ? `; server Memory_used ${mb(affine.memory.server).toFixed(0)} / ${mb(plain.memory.server!).toFixed(0)} MB` : ''}`,
      },
      ctx.dialect === 'postgres' ? { maxA: 400 } : undefined,
    ),
    row(
      { case: 'fleet', metric: `p99 of one tenant's burst (${ctx.quick ? 200 : BURST} findByPk), affinity on (A) vs off (B), ${label}`, dialect: ctx.dialect, unit: 'ms', a: p(affine.burst, 99), b: p(plain.burst, 99), note: `p50 ${p(affine.burst, 50).toFixed(2)} / ${p(plain.burst, 50).toFixed(2)} ms` },
      { maxRatio: 1.1 },
    ),
  );
  rows.push(await tenTenants(ctx, fixture, keys));
  return rows;
}

/** The cost of affinity where it cannot help: 10 tenants, interleaved rounds, on vs off. */
export async function tenTenants(ctx: BenchContext, fixture: FleetFixture, keys: string[]): Promise<Row> {
  const make = (affinity: boolean) => {
    const sequelize = connect(ctx.dialect, { pool: { max: POOL_MAX } });
    const apartment = new Apartment(sequelize, { prefix: fixture.prefix, affinity });
    return { sequelize, apartment, Widget: defineModels(sequelize).Widget };
  };
  const on = make(true);
  const off = make(false);
  try {
    const ten = Array.from({ length: ctx.quick ? 300 : 3000 }, (_, i) => keys[i % 10]!);
    await traffic(on.apartment, on.Widget, ten.slice(0, 300));
    await traffic(off.apartment, off.Widget, ten.slice(0, 300));
    const result = await interleave(
      ctx.rounds(6, 2),
      async () => (await traffic(on.apartment, on.Widget, ten)).perOp,
      async () => (await traffic(off.apartment, off.Widget, ten)).perOp,
    );
    return row(
      { case: 'fleet', metric: `findByPk over 10 tenants, affinity on (A) vs off (B), server of ${keys.length} tenants`, dialect: ctx.dialect, unit: 'ms/op', a: result.a, b: result.b, note: `concurrency ${CONCURRENCY}, pool max ${POOL_MAX}, interleaved rounds` },
      { maxRatio: 1.03 },
    );
  } finally {
    await on.sequelize.close();
    await off.sequelize.close();
  }
}
