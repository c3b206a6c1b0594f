import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Sequelize } from 'sequelize';
import { pack } from '../support/pack';
import { ROOT } from '../support/paths';
import { URLS } from '../support/servers';

const run = promisify(execFile);

/**
 * The test kit's runner examples (examples/testing, issue 24 point 4), run as
 * a user runs them: the folder copied into a fresh app, the packed tarball
 * and jest/vitest/mocha installed with plain `npm install`, then each
 * runner's `npm run test:<runner>` against PostgreSQL and MariaDB (mysql2),
 * every runner with two workers so the two test files run at once. Then the
 * installed kit is broken, and every runner must notice: reset() that
 * empties nothing fails the examples; with drop() dropping nothing, the
 * files' tenants still all differ (the run passes) and the next run sweeps
 * them; with names that leave out the process, worker and
 * run as well, the files collide. Installs
 * from the npm registry, so it is not in the mocha spec: `.ci/run` runs it.
 */
const RUNNERS = [
  { name: 'mocha', passed: /(\d+) passing/ },
  { name: 'jest', passed: /Tests:\s+(\d+) passed/ },
  { name: 'vitest', passed: /Tests\s+(\d+) passed/ },
  { name: 'node', passed: /(?:#|ℹ) pass (\d+)/ },
] as const;
const TESTS = 5; // per runner: 2 in widgets, 3 in isolation
const PREFIX = 'example_';
const DIALECTS = [
  ['postgres', URLS.postgres],
  ['mysql', URLS.mysql],
] as const;

interface Outcome {
  code: number;
  output: string;
}

describe('the test kit in mocha, Jest, Vitest and node:test (examples/testing, installed like an app)', function () {
  this.timeout(600_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-runners-'));
  const app = path.join(dir, 'app');
  const testing = path.join(app, 'node_modules', 'sequelize-apartment', 'dist', 'lib', 'testing');

  /** `npm run test:<runner>` with DATABASE_URL; Jest gets a cache of its own, so it never falls back to one worker from earlier timings. */
  async function runner(name: string, url: string): Promise<Outcome> {
    const extra = name === 'jest' ? ['--', `--cacheDirectory=${fs.mkdtempSync(path.join(dir, 'jest-cache-'))}`] : [];
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' };
    for (const name of ['MOCHA_WORKER_ID', 'JEST_WORKER_ID', 'VITEST_POOL_ID', 'VITEST_WORKER_ID', 'NODE_TEST_CONTEXT']) delete env[name];
    try {
      const { stdout, stderr } = await run('npm', ['run', '--silent', `test:${name}`, ...extra], { cwd: app, env, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 });
      return { code: 0, output: `${stdout}${stderr}` };
    } catch (error: any) {
      return { code: typeof error.code === 'number' ? error.code : 1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` };
    }
  }

  /** The schemas/databases the examples left, beside warm spares (those stay for the next run, as in an app). */
  async function leftovers(dialect: string, url: string): Promise<string[]> {
    const s = new Sequelize(url, { logging: false });
    try {
      const sql =
        dialect === 'postgres'
          ? `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE '${PREFIX}%'`
          : `SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${PREFIX}%'`;
      const [rows] = await s.query(sql, { raw: true });
      return (rows as Array<{ name: string }>).map((r) => r.name).filter((n) => !n.startsWith(`${PREFIX}_spare`)).sort();
    } finally {
      await s.close();
    }
  }

  async function dropAll(dialect: string, url: string): Promise<void> {
    const s = new Sequelize(url, { logging: false });
    try {
      const sql =
        dialect === 'postgres'
          ? `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE '${PREFIX}%'`
          : `SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${PREFIX}%'`;
      const [rows] = await s.query(sql, { raw: true });
      for (const { name } of rows as Array<{ name: string }>) {
        await s.query(dialect === 'postgres' ? `DROP SCHEMA "${name}" CASCADE` : `DROP DATABASE \`${name}\``);
      }
    } finally {
      await s.close();
    }
  }

  before(async () => {
    const { tarball } = await pack();
    fs.cpSync(path.join(ROOT, 'examples', 'testing'), app, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'));
    manifest.dependencies['sequelize-apartment'] = `file:${tarball}`;
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    const started = Date.now();
    await run('npm', ['install'], { cwd: app, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
    console.log(`    (npm install of the example app: ${Math.round((Date.now() - started) / 1000)} s)`);
    for (const [dialect, url] of DIALECTS) await dropAll(dialect, url);
  });
  after(async () => {
    for (const [dialect, url] of DIALECTS) await dropAll(dialect, url).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [dialect, url] of DIALECTS) {
    for (const { name, passed } of RUNNERS) {
      it(`${name} on ${dialect}: every test passes, with two files at once, and no test tenant is left`, async () => {
        const outcome = await runner(name, url);
        expect(outcome.code, outcome.output).to.equal(0);
        expect(Number(passed.exec(outcome.output)?.[1]), outcome.output).to.equal(TESTS);
        expect(await leftovers(dialect, url)).to.deep.equal([]);
      });
    }
  }

  describe('with the kit broken, on PostgreSQL', () => {
    const originals = new Map<string, string>();
    function breakKit(file: string, from: RegExp, to: string): void {
      const target = path.join(testing, file);
      const text = originals.get(target) ?? fs.readFileSync(target, 'utf8');
      originals.set(target, text);
      expect(text).to.match(from); // the compiled kit still has what is broken here
      fs.writeFileSync(target, text.replace(from, to));
    }
    function restore(): void {
      for (const [target, text] of originals) fs.writeFileSync(target, text);
      originals.clear();
    }
    afterEach(async () => {
      restore();
      await dropAll('postgres', URLS.postgres);
    });
    const RESET = /await apartment\.adapter\.emptyTables\(ref, keep\);/;
    const DROP = /await apartment\.dropTenant\(key\)\.catch\(/;
    const NAME = /`test_\$\{exports\.HOST\}_\$\{process\.pid\}_\$\{workerId\(\)\}_\$\{RUN\}_\$\{counter\}`/;

    for (const { name } of RUNNERS) {
      it(`${name}: reset() that empties nothing fails 'starts every test from the seeded state' and 'finds the seeded widget again'`, async () => {
        breakKit('tenant.js', RESET, '/* broken */');
        const outcome = await runner(name, URLS.postgres);
        expect(outcome.code, outcome.output).to.not.equal(0);
        expect(outcome.output).to.include('starts every test from the seeded state').and.include('finds the seeded widget again');
      });

      it(`${name}: with drop() dropping nothing, every file and worker still gets a tenant of its own; the next run sweeps what is left`, async () => {
        breakKit('tenant.js', DROP, 'await Promise.resolve().catch(');
        // No tenant is dropped, so two files given the same key would fail in createTenant.
        const crashed = await runner(name, URLS.postgres);
        expect(crashed.code, crashed.output).to.equal(0);
        // What the last worker to finish left at least (a worker's sweep already drops the tenants of workers that ended before it started).
        const left = await leftovers('postgres', URLS.postgres);
        expect(left, left.join(', ')).to.not.deep.equal([]);
        for (const schema of left) expect(schema).to.match(/^example_test_[0-9a-f]{6}_\d+_\d+_[0-9a-f]{6}_\d+$/);
        restore();
        const next = await runner(name, URLS.postgres);
        expect(next.code, next.output).to.equal(0);
        expect(await leftovers('postgres', URLS.postgres)).to.deep.equal([]);
      });

      it(`${name}: names without process, worker and run make the two files collide (so the test above can fail)`, async () => {
        breakKit('tenant.js', DROP, 'await Promise.resolve().catch(');
        breakKit('names.js', NAME, '`test_${exports.HOST}_0_0_000000_${counter}`');
        const outcome = await runner(name, URLS.postgres);
        expect(outcome.code, outcome.output).to.not.equal(0);
        expect(outcome.output).to.match(/test_[0-9a-f]{6}_0_0_000000_\d+.{0,40} already exists/);
      });
    }
  });
});
