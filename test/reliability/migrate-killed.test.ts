import { QueryTypes } from 'sequelize';
import { runPrefix } from './stress';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { fixture, ROOT } from '../support/paths';

const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'index.js');
/** A pause nobody else uses, so the test can find the killed migration's statement on the server. */
const PAUSE = '2.71';
const SLOW = '20260101000001-slow-multi-step';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the CLI; with `killAfter`, SIGKILLs it as soon as stderr shows that marker. */
function cli(args: string[], env: Record<string, string>, killAfter?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    const onData = (d: Buffer) => {
      output += d;
      if (killAfter && output.includes(killAfter)) child.kill('SIGKILL');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describeDialects('reliability: `apartment db:migrate` killed with SIGKILL in the middle of a multi-statement migration', (d) => {
  const prefix = runPrefix('rel_mk');
  const tenant = 'victim';
  const schema = `${prefix}${tenant}`;
  const slow = fixture('reliability', 'slow-migrations');
  let apartment: Apartment;

  const columns = async (table: string): Promise<string[]> => {
    const admin = d.sequelize();
    const rows = await admin.query(
      d.name === 'postgres'
        ? 'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY 1'
        : 'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY 1',
      { replacements: [schema, table], type: QueryTypes.SELECT },
    );
    return (rows as any[]).map((r) => r.c);
  };
  /** Waits until the killed process's server session has finished its pause (it holds the tenant's lock until then). */
  const killedSessionGone = async () => {
    const admin = d.sequelize();
    for (let i = 0; i < 100; i += 1) {
      const rows = await admin.query(
        d.name === 'postgres'
          ? `SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(${PAUSE})%' AND pid <> pg_backend_pid()`
          : `SELECT 1 FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(${PAUSE})%' AND ID <> CONNECTION_ID()`,
        { type: QueryTypes.SELECT }, // typed: a plain Sequelize on mariadb 3.1+ (sequelize#15701)
      );
      if ((rows as unknown[]).length === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the killed migration is still running on the server after 20 s');
  };

  before(async function () {
    this.timeout(60_000);
    await d.dropAll(prefix);
    // The tenant exists at the first version; the slow migration is pending.
    const base = new Apartment(d.sequelize(), { prefix, migrationsPath: fixture('reliability', 'kill-base') });
    await base.createTenant(tenant);
    apartment = new Apartment(d.sequelize(), { prefix, migrationsPath: slow });
  });
  after(async () => d.dropAll(prefix));

  it('leaves the tenant at a consistent version (PostgreSQL: no partial DDL) or reports exactly what to fix (MySQL), and a re-run finishes', async function () {
    this.timeout(120_000);
    const args = ['db:migrate', '--url', d.url, '--prefix', prefix, '--migrations-path', slow, '--tenant', tenant];
    const killed = await cli(args, { APARTMENT_TEST_SLEEP: PAUSE }, 'RELIABILITY-STEP-1-DONE');
    expect(killed.signal, `the CLI was killed mid-migration:\n${killed.output}`).to.equal('SIGKILL');
    await killedSessionGone();

    const status = await apartment.migrationStatus(tenant);
    expect(status.executed.map((v) => v.replace(/\.js$/, ''))).to.deep.equal(['20260101000000-create-notes']);
    expect(status.pending.map((v) => v.replace(/\.js$/, ''))).to.deep.equal([SLOW]);

    if (d.name === 'postgres') {
      // The migration ran in the lock's transaction: the first ADD COLUMN was rolled back with it.
      expect(await columns('notes')).to.deep.equal(['body', 'id', 'owner']);
      expect(await d.tables(schema)).to.not.include('steps');
      const rerun = await cli(args, { APARTMENT_TEST_SLEEP: '0' });
      expect(rerun.code, rerun.output).to.equal(0);
    } else {
      // MySQL commits each DDL statement: step 1 is there, the migration is not recorded.
      expect(await columns('notes')).to.include('step1');
      const rerun = await cli(args, { APARTMENT_TEST_SLEEP: '0' });
      if (rerun.code !== 0) {
        // It must say which tenant, which migration, and why, so an operator knows what to fix.
        expect(rerun.output).to.include(tenant);
        expect(rerun.output).to.include(SLOW);
        expect(rerun.output).to.match(/Duplicate column name 'step1'/i);
        console.log(`      [mysql] re-run after SIGKILL reports:\n${rerun.output.split('\n').map((l) => `        ${l}`).join('\n')}`);
        // Doing what it says (undo the partial step by hand) lets the re-run finish.
        const admin = d.sequelize();
        await admin.query(`ALTER TABLE \`${schema}\`.\`notes\` DROP COLUMN \`step1\``);
        const again = await cli(args, { APARTMENT_TEST_SLEEP: '0' });
        expect(again.code, again.output).to.equal(0);
      }
    }
    const done = await apartment.migrationStatus(tenant);
    expect(done.pending).to.deep.equal([]);
    expect(await columns('notes')).to.include.members(['step1', 'step2']);
    expect(await d.tables(schema)).to.include('steps');
  });
});
