import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Fixtures } from '../../bench/fixtures';
import { parseArgs } from '../../bench/index';
import { perOpOf, steady, valgrindMissing } from '../../bench/cases/instructions';
import { closeSides, interleaveSides, startSides } from '../../bench/sides';
import { ROOT } from '../support/paths';

const ENTRY = path.join(ROOT, 'dist', 'bench', 'index.js');

function bench(args: string[]) {
  return spawnSync(process.execPath, ['--expose-gc', ENTRY, ...args], { cwd: ROOT, encoding: 'utf8', env: process.env, timeout: 420_000 });
}

/** The bench must never rot: `--quick` completes and writes a well-formed results file. No timing assertions. */
describe('bench --quick (smoke)', function () {
  this.timeout(480_000);

  it('runs every case and writes machine, versions and one row per case and dialect', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-')), 'results.json');
    const run = bench(['--quick', '--out', out, '--prefix', 'bench_smoke_']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/\| case \| metric \| dialect \| A \| B \| unit \| A\/B \| goal \| met \|/);
    const results = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(results.quick).to.equal(true);
    expect(results.machine).to.include.keys('cpus', 'model', 'memoryGB', 'node');
    expect(results.versions).to.include.keys('sequelize', 'pg', 'mysql2', 'umzug', 'servers');
    const dialects = Object.keys(results.versions.servers);
    // A dialect that was skipped says so in the notes.
    for (const dialect of ['postgres', 'mysql'].filter((x) => !dialects.includes(x))) {
      expect(results.notes.join('\n')).to.include(`${dialect}: skipped`);
    }
    const expected = ['query overhead', 'raw SQL overhead', "isolation: 'role'", 'create tenant', 'migrate all', 'status', 'middleware', 'tenant scale', 'server memory', 'import cost', 'fleet', 'test kit', 'tenant export'];
    for (const dialect of dialects) {
      const cases = new Set(results.cases.filter((r: any) => r.dialect === dialect).map((r: any) => r.case));
      // Server memory and import cost (dialect-independent) and isolation: 'role' (PostgreSQL only) run on PostgreSQL only.
      const want = dialect === 'postgres' ? expected : expected.filter((c) => c !== 'server memory' && c !== 'import cost' && c !== "isolation: 'role'");
      // The Citus rows need a cluster (CITUS_URL); without one the case says it was skipped.
      if (dialect === 'postgres' && process.env.CITUS_URL) want.push('citus');
      expect([...cases].sort(), dialect).to.deep.equal([...want].sort());
    }
    if (dialects.includes('postgres') && !process.env.CITUS_URL) expect(results.notes.join('\n')).to.include('postgres Citus: skipped (CITUS_URL is not set');
    for (const r of results.cases) {
      expect(r).to.include.keys('case', 'metric', 'dialect', 'unit', 'a', 'b', 'ratio', 'goal', 'met');
      expect(r.a === null || typeof r.a === 'number').to.equal(true);
      expect(r.met === null || typeof r.met === 'boolean').to.equal(true);
      if (r.a !== null && r.b !== null && r.b !== 0) expect(r.ratio).to.be.closeTo(r.a / r.b, 1e-9);
    }
  });

  it('--scale N runs the fleet case alone at N tenants unless --only says otherwise', () => {
    expect(parseArgs(['--scale', '10000'])).to.deep.include({ scale: 10000, only: ['fleet'] });
    expect(parseArgs(['--scale', '500', '--only', 'fleet,status'])).to.deep.include({ scale: 500, only: ['fleet', 'status'] });
    expect(parseArgs([]).only).to.equal(undefined);
    expect(() => parseArgs(['--scale', '1'])).to.throw(/--scale/);
    expect(bench(['--scale', 'many']).status).to.equal(2);
  });

  it('a --scale run keeps the fleet rows of another tenant count, compares migrateAll with the largest smaller run, and times an export', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-')), 'results.json');
    const dialect = process.env.PG_URL ? 'pg' : 'mysql';
    const small = bench(['--quick', '--scale', '20', '--dialect', dialect, '--out', out, '--prefix', 'bench_scale_']);
    expect(small.status, small.stderr).to.equal(0);
    const first = JSON.parse(fs.readFileSync(out, 'utf8')).cases.filter((r: any) => r.case === 'fleet');
    // Every fleet row names the tenant count, so a run at another scale cannot replace it.
    for (const r of first) expect(r.metric, r.metric).to.match(/\b20\b/);
    const large = bench(['--quick', '--scale', '30', '--dialect', dialect, '--out', out, '--prefix', 'bench_scale_']);
    expect(large.status, large.stderr).to.equal(0);
    const rows = JSON.parse(fs.readFileSync(out, 'utf8')).cases.filter((r: any) => r.case === 'fleet');
    const metrics = rows.map((r: any) => r.metric);
    expect(metrics).to.include.members(first.map((r: any) => r.metric));
    const ratio = rows.find((r: any) => r.metric === 'migrateAll, 1 new migration: 30 tenants (A) vs 20 tenants (B)');
    expect(ratio, metrics.join('\n')).to.deep.include({ goal: 'A/B <= 1.5 (linear)', b: first.find((r: any) => r.metric === 'migrateAll, 1 new migration, 20 tenants').a });
    expect(rows.find((r: any) => r.metric === 'exportTenant of one tenant to a null stream, 30 tenants')).to.deep.include({ unit: 'ms', goal: 'A < 1 s' });
  });

  it('refuses unknown options and cases with exit code 2', () => {
    expect(bench(['--only', 'nope']).status).to.equal(2);
    expect(bench(['--dialect', 'oracle']).status).to.equal(2);
  });
});

/** Separate-process sides with replicas: every process of a side takes blocks, and the figure is over all of them. */
describe('bench sides with replicas', function () {
  this.timeout(120_000);
  const fixtures = new Fixtures('postgres', 'bench_sides_');
  after(async () => {
    await fixtures.admin.query('DROP SCHEMA IF EXISTS "bench_sides_q_x" CASCADE');
    await fixtures.admin.close();
  });

  it('hands the rounds to each process of a side in turn and reports the spread between them', async () => {
    const schema = await fixtures.queryTenant();
    const sides = await startSides(process.execPath, ['floor', 'routed'], { dialect: 'postgres', schema, prefix: 'bench_sides_q_', key: 'x', pool: 1 }, 3);
    try {
      expect([...sides.values()].map((group) => group.processes.length)).to.deep.equal([3, 3]);
      const before = await Promise.all([...sides.values()].flatMap((group) => group.processes.map((side) => side.cpu())));
      const m = await interleaveSides(sides, 'findByPk', 20, 6);
      const after = await Promise.all([...sides.values()].flatMap((group) => group.processes.map((side) => side.cpu())));
      // Each of the six processes ran its warm-up block and two measured blocks: each used CPU.
      after.forEach((cpu, i) => expect(cpu, `process ${i}`).to.be.greaterThan(before[i]!));
      for (const name of ['floor', 'routed'] as const) {
        const figure = m.get(name)!;
        expect(figure.wallUs, name).to.be.greaterThan(0);
        expect(figure.cpuUs, name).to.be.greaterThan(0);
        expect(figure.spread, name).to.be.at.least(1);
      }
    } finally {
      await closeSides(sides);
    }
  });
});

/**
 * The instruction count must never rot either: `--instructions --quick` counts findByPk and an HTTP
 * request on the floor and with `run` per operation, each in its own process under callgrind, with
 * tiny blocks (the counts themselves mean nothing at that size). It needs valgrind (`.ci/run` installs it).
 */
describe('bench --instructions: the per-operation figure', () => {
  // Blocks of a findByPk side under callgrind: tier-ups and full GCs land in some blocks (the outliers).
  const counted = [654e5, 540e5, 1_100e5, 459e5, 458e5, 456e5];
  it('waits for the last blocks to agree within 3% before it takes a figure', () => {
    expect(counted.map((_, k) => steady(counted.slice(0, k + 1), 3))).to.deep.equal([false, false, false, false, false, true]);
    expect(steady([100, 102], 3)).to.equal(false);
    expect(steady([100, 102, 103], 3)).to.equal(true);
  });
  it('takes the median of the last blocks less the median of the empty blocks, per operation', () => {
    const { perOp, blocks } = perOpOf(counted, [5e5, 6e5, 4e5, 9e5, 5e5, 5e5], 100, 3);
    expect(perOp).to.equal((458e5 - 5e5) / 100);
    expect(blocks).to.have.length(6);
    expect(blocks[2]).to.equal((1_100e5 - 5e5) / 100);
  });
});

describe('bench --instructions --quick (smoke)', function () {
  // Two processes under callgrind (about a minute on a quiet 2-core machine, much longer on a loaded one).
  this.timeout(1_500_000);

  it('counts instructions per operation under callgrind, per side, and writes them as rows', () => {
    expect(valgrindMissing(), 'apt-get install valgrind').to.equal(undefined);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-instructions-')), 'results.json');
    const run = spawnSync(process.execPath, ['--expose-gc', ENTRY, '--instructions', '--quick', '--dialect', 'pg', '--node', process.execPath, '--out', out, '--prefix', 'bench_smoke_i_'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: process.env,
      timeout: 1_440_000,
    });
    expect(run.status, run.stderr).to.equal(0);
    const results = JSON.parse(fs.readFileSync(out, 'utf8'));
    const rows = results.cases.filter((r: any) => r.case === 'instructions');
    const label = `Node ${process.versions.node.split('.')[0]}`;
    const metrics = rows.map((r: any) => r.metric);
    expect(metrics).to.include.members([`findByPk, floor, ${label}`, `findByPk, \`run\` per operation, ${label}`, `HTTP request, floor, ${label}`, `HTTP request, \`run\` per operation, ${label}`]);
    for (const r of rows) {
      expect(r.unit).to.equal('instructions/op');
      // A per-operation figure from callgrind's block totals (the floor's own row has no B). Its size is not
      // checked here: --quick blocks (5 operations, one block) are too small to mean anything, and can hold
      // V8's tier-up. The full case's block sizes (bench/cases/instructions.ts SIZES) are what the numbers come from.
      expect(Number.isFinite(r.a), r.metric).to.equal(true);
      if (r.b !== null) expect(Number.isFinite(r.b), r.metric).to.equal(true);
      expect(r.note, r.metric).to.match(/spread \d\.\d{3}, load /);
    }
  });

  it('parses its options', () => {
    expect(parseArgs(['--instructions'])).to.deep.include({ only: ['instructions'] });
    expect(parseArgs(['--instructions', '--v8-flags', '--single-threaded  --hash-seed=1', '--ops', 'findByPk,raw SQL', '--repeats', '5'])).to.deep.include({
      v8Flags: ['--single-threaded', '--hash-seed=1'],
      ops: ['findByPk', 'raw SQL'],
      repeats: 5,
    });
    expect(parseArgs(['--instructions', '--v8-flags', '']).v8Flags).to.deep.equal([]);
    expect(() => parseArgs(['--repeats', '0'])).to.throw(/--repeats/);
  });
});
