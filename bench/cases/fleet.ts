import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Apartment } from '../../lib';
import { connect } from '../env';
import { median, timed } from '../harness';
import { row, type BenchContext, type BenchCase, type Row } from '../types';
import { FleetFixture } from './fleet-fixture';
import { trafficRows } from './fleet-traffic';

/** Tenants of the fleet case: `--scale N`, else this. */
export const DEFAULT_SCALE = 1000;
const QUICK_SCALE = 30;
/** The absolute goals below are set for 10,000 tenants and grow linearly beyond (at 50,000: tenants() <= 250 ms, migrationStatusAll() <= 2.5 s). */
const GOAL_SCALE = 10_000;

/**
 * A server with N tenants (3 tables, 2 migrations each; `--scale 10000` for
 * the README's figures), built by a fast path equal in catalog to
 * createTenant's: the fleet operations (tenants(), migrationStatusAll(),
 * drift(), doctor(), migrateAll with one new migration, createTenant) and the request path
 * (fleet-traffic.ts: findByPk uniform vs hot, latency, backend memory, with
 * and without tenant-affine connections).
 */
export const fleet: BenchCase = {
  id: 'fleet',
  title: 'fleet at scale',
  async run(ctx) {
    const count = ctx.scale ?? (ctx.quick ? QUICK_SCALE : DEFAULT_SCALE);
    const folder = ctx.fixtures.sets.generate('fleet', 2);
    const fixture = new FleetFixture(ctx.dialect, `${ctx.prefix}fleet_`, folder);
    const rows: Row[] = [];
    try {
      const empty = (await fixture.existing()).size === 0;
      // createTenant on the empty server first (the fleet does not exist yet), then at N tenants.
      const createEmpty = empty ? await createSamples(ctx, fixture, 'e', ctx.quick ? 2 : 7) : [];
      const keys = await fixture.build(count, ctx.log);
      rows.push(...(await fleetOperations(ctx, fixture, folder, keys, createEmpty)));
      rows.push(...(await trafficRows(ctx, fixture, keys)));
      return rows;
    } finally {
      await fixture.dropAll(ctx.log);
      await fixture.close();
    }
  },
};

/** createTenant times (3 migrations with SequelizeMeta's), each tenant dropped again. */
async function createSamples(ctx: BenchContext, fixture: FleetFixture, tag: string, rounds: number): Promise<number[]> {
  const sequelize = connect(ctx.dialect, { pool: { max: 2 } });
  try {
    const apartment = new Apartment(sequelize, { prefix: `${fixture.prefix}${tag}_`, migrationsPath: fixture.migrationsPath });
    const samples: number[] = [];
    for (let i = 0; i <= rounds; i++) {
      const ms = await timed(() => apartment.createTenant(`c${i}`));
      await apartment.dropTenant(`c${i}`);
      if (i > 0) samples.push(ms); // the first one warms the code paths
    }
    return samples;
  } finally {
    await sequelize.close();
  }
}

async function fleetOperations(ctx: BenchContext, fixture: FleetFixture, folder: string, keys: string[], createEmpty: number[]): Promise<Row[]> {
  const n = keys.length;
  const label = `${n} tenants`;
  const linear = Math.max(1, n / GOAL_SCALE);
  const sequelize = connect(ctx.dialect, { pool: { max: 10 } });
  const rows: Row[] = [];
  // Each figure goes to the log as soon as it is measured: a run at 50,000 MariaDB databases takes an hour.
  const add = (...items: Row[]) => {
    for (const r of items) ctx.log(`${r.metric}: ${r.a?.toPrecision(3)}${r.b !== null ? ` vs ${r.b.toPrecision(3)}` : ''} ${r.unit} (${r.goal})`);
    rows.push(...items);
  };
  try {
    const apartment = new Apartment(sequelize, { prefix: fixture.prefix, migrationsPath: folder });
    const listed = await apartment.tenants();
    if (listed.length !== n) throw new Error(`fleet: expected ${n} tenants, tenants() listed ${listed.length}`);
    const list: number[] = [];
    for (let i = 0; i < 5; i++) list.push(await timed(() => apartment.tenants()));
    add(row({ case: 'fleet', metric: `tenants(), ${label}`, dialect: ctx.dialect, unit: 'ms', a: median(list), b: null }, { maxA: 50 * linear }));

    const status: number[] = [];
    for (let i = 0; i < 3; i++) {
      status.push(
        await timed(async () => {
          const all = await apartment.migrationStatusAll();
          if (all.length !== n || all.some((s) => s.pending.length !== 0)) throw new Error('fleet: migrationStatusAll does not see every tenant up to date');
        }),
      );
    }
    add(row({ case: 'fleet', metric: `migrationStatusAll(), ${label}`, dialect: ctx.dialect, unit: 's', a: median(status) / 1000, b: null }, { maxA: 0.5 * linear }));

    // Before migrateAll, whose catalog writes over every tenant the server is still digesting (autovacuum) afterwards.
    add(await exportOne(ctx, apartment, keys[Math.floor(n / 2)]!, label));
    const createFull = await createSamples(ctx, fixture, 'f', ctx.quick ? 2 : 7);
    add(
      row(
        {
          case: 'fleet',
          metric: `createTenant (3 migrations), ${label} (A) vs empty server (B)`,
          dialect: ctx.dialect,
          unit: 'ms',
          a: median(createFull),
          b: createEmpty.length ? median(createEmpty) : null,
          note: createEmpty.length ? 'B measured before the fleet was built (not interleaved)' : 'B: the fleet existed already (reused), no empty-server figure',
        },
        { maxRatio: 1.1 },
      ),
    );

    // drift() and doctor() over the whole fleet (every tenant at the folder's version: one reference).
    let drift = { drifted: -1, references: 0 };
    const driftMs = await timed(async () => {
      const report = await apartment.drift();
      if (report.tenants !== n) throw new Error(`fleet: drift() compared ${report.tenants} tenants of ${n}`);
      drift = { drifted: report.drifted.length, references: report.references };
    });
    add(
      row(
        { case: 'fleet', metric: `drift(), ${label}`, dialect: ctx.dialect, unit: 's', a: driftMs / 1000, b: null, note: `${((driftMs / n) * 1000).toFixed(0)} µs/tenant; ${drift.references} reference(s), ${drift.drifted} drifted` },
        { maxA: 60 * linear },
      ),
    );
    let findings = '';
    const doctorMs = await timed(async () => {
      const report = await apartment.doctor();
      if (report.tenants !== n) throw new Error(`fleet: doctor() checked ${report.tenants} tenants of ${n}`);
      findings = report.findings.map((f) => f.code).join(', ') || 'no findings';
    });
    add(
      row(
        { case: 'fleet', metric: `doctor(), ${label}`, dialect: ctx.dialect, unit: 's', a: doctorMs / 1000, b: null, note: `${((doctorMs / n) * 1000).toFixed(0)} µs/tenant; ${findings}` },
        { maxA: 10 * linear },
      ),
    );

    // One new migration (addColumn) over the whole fleet, then another over a small part of it (the keys sharing a longer prefix):
    // each timed round is exactly one migration per tenant it reaches, and the fleet is migrated once (at 50,000 MariaDB databases a round takes minutes).
    fs.copyFileSync(columnMigration(ctx, 100), path.join(folder, '00100-add-column-100.js'));
    let progress = 0;
    const allMs = await timed(async () => {
      const results = await apartment.migrateAll({ onProgress: () => void progress++ });
      check(results);
      if (results.length !== n || progress !== n) throw new Error(`fleet: migrateAll reported ${progress} progress events and ${results.length} results for ${n} tenants`);
    });
    const subsetPrefix = `${fixture.prefix}${keys[0]!.slice(0, 2)}`;
    const subset = new Apartment(connect(ctx.dialect, { pool: { max: 10 } }), { prefix: subsetPrefix, migrationsPath: folder });
    let subsetCount = 0;
    let subsetMs = 0;
    try {
      subsetCount = (await subset.tenants()).length;
      fs.copyFileSync(columnMigration(ctx, 101), path.join(folder, '00101-add-column-101.js'));
      subsetMs = await timed(async () => check(await subset.migrateAll()));
    } finally {
      await subset.sequelize.close();
    }
    add(
      row(
        { case: 'fleet', metric: `migrateAll, 1 new migration, ${label}`, dialect: ctx.dialect, unit: 's', a: allMs / 1000, b: null, note: `${((allMs / n) * 1).toFixed(2)} ms/tenant` },
        { maxA: 30 * linear },
      ),
      row(
        {
          case: 'fleet',
          metric: `migrateAll per tenant: all ${n} (A) vs ${subsetCount} of them (B)`,
          dialect: ctx.dialect,
          unit: 'ms/tenant',
          a: allMs / n,
          b: subsetCount ? subsetMs / subsetCount : null,
          note: 'same catalog; compare runs at --scale 1000 and 10000 for the catalog-size effect',
        },
        { maxRatio: 1.1 },
      ),
    );
    const smaller = smallerRun(ctx, n);
    if (smaller) {
      add(
        row(
          {
            case: 'fleet',
            metric: `migrateAll, 1 new migration: ${n} tenants (A) vs ${smaller.n} tenants (B)`,
            dialect: ctx.dialect,
            unit: 's',
            a: allMs / 1000,
            b: smaller.seconds,
            note: `linear: A/B <= ${n} / ${smaller.n}; B from the results file's ${smaller.n}-tenant row (a run before this one, same machine: run both in one sitting)`,
          },
          { maxRatio: n / smaller.n, text: `A/B <= ${+(n / smaller.n).toFixed(2)} (linear)` },
        ),
      );
    }
    for (const file of ['00100-add-column-100.js', '00101-add-column-101.js']) fs.rmSync(path.join(folder, file));

  } finally {
    await sequelize.close();
  }
  return rows;
}

/** exportTenant of one tenant (3 tables, one row) at N tenants, into a stream that drops the bytes: what the fleet's size adds to an export. */
async function exportOne(ctx: BenchContext, apartment: Apartment, key: string, label: string): Promise<Row> {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i <= 3; i++) {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done();
      },
    });
    const ms = await timed(() => apartment.exportTenant(key, sink));
    if (i > 0) samples.push(ms); // the first one loads the export code
  }
  return row(
    { case: 'fleet', metric: `exportTenant of one tenant to a null stream, ${label}`, dialect: ctx.dialect, unit: 'ms', a: median(samples), b: null, note: `median of 3 after one warm-up; ${Math.round(bytes / 4)} bytes per archive` },
    { maxA: 1000, text: 'A < 1 s' },
  );
}

/** The largest earlier fleet run with fewer tenants (same dialect) in the results file: its migrateAll time. */
function smallerRun(ctx: BenchContext, n: number): { n: number; seconds: number } | undefined {
  let best: { n: number; seconds: number } | undefined;
  for (const r of ctx.previous) {
    const match = /^migrateAll, 1 new migration, (\d+) tenants$/.exec(r.metric);
    if (r.case !== 'fleet' || r.dialect !== ctx.dialect || !match || r.a === null) continue;
    const size = Number(match[1]);
    if (size < n && (!best || size > best.n)) best = { n: size, seconds: r.a };
  }
  return best;
}

function check(results: Array<{ ok: boolean; error?: Error }>): void {
  const failed = results.find((r) => !r.ok);
  if (failed) throw failed.error;
}

function columnMigration(ctx: BenchContext, n: number): string {
  const dir = ctx.fixtures.sets.folder('fleet-extra');
  return path.join(dir, ctx.fixtures.sets.add(dir, n));
}
