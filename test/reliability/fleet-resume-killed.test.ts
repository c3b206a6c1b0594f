import { runPrefix } from './stress';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { fixture, ROOT } from '../support/paths';

const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'index.js');
const COUNTED = '20260101000001-counted.js';
const KEYS = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the CLI; with `killWhen`, SIGKILLs it as soon as `killWhen()` is true (polled). */
function cli(args: string[], env: Record<string, string>, killWhen?: () => boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const poll = killWhen ? setInterval(() => killWhen() && child.kill('SIGKILL'), 10) : undefined;
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolve({ code, signal, output });
    });
  });
}

describeDialects('reliability: a fleet `apartment db:migrate` killed with SIGKILL mid-run, then `--resume`', (d) => {
  const prefix = runPrefix('rel_fr');
  const migrations = fixture('reliability', 'fleet-resume');
  const runs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-resume-')), 'runs.log');
  const lines = () => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').split('\n').filter(Boolean) : []);

  before(async function () {
    this.timeout(60_000);
    await d.dropAll(prefix);
    // The tenants exist at the first version; the counted migration is pending everywhere.
    const base = new Apartment(d.sequelize(), { prefix, migrationsPath: fixture('reliability', 'kill-base') });
    for (const key of KEYS) await base.createTenant(key);
  });
  after(async () => d.dropAll(prefix));

  it('ends with every tenant at the target version, and no migration ran twice', async function () {
    this.timeout(120_000);
    const args = ['db:migrate', '--url', d.url, '--prefix', prefix, '--migrations-path', migrations, '--concurrency', '1', '--wave-size', '3'];
    // One tenant at a time: when the 5th tenant's migration starts, the 4th is committed; the kill lands in the 5th's pause.
    const killed = await cli(args, { APARTMENT_TEST_RUNS: runs, APARTMENT_TEST_PAUSE: '400' }, () => lines().filter((l) => l.startsWith('start')).length >= 5);
    expect(killed.signal, `the CLI was killed mid-run:\n${killed.output}`).to.equal('SIGKILL');
    const apartment = new Apartment(d.sequelize(), { prefix, migrationsPath: migrations });
    const before = await apartment.migrationStatusAll();
    expect(before.filter((s) => s.pending.length === 0).map((s) => s.tenant)).to.deep.equal(['t1', 't2', 't3', 't4']);
    const interrupted = (await apartment.lastRun())!;
    expect(interrupted.state, 'a killed run stays recorded as running').to.equal('running');

    const resumed = await cli([...args, '--resume', '--json'], { APARTMENT_TEST_RUNS: runs, APARTMENT_TEST_PAUSE: '0' });
    expect(resumed.code, resumed.output).to.equal(0);
    const out = JSON.parse(resumed.output);
    // Only tenants the ledger did not record as ok were retried (t1-t3, wave 1, were recorded before the kill).
    expect(out.results.map((r: any) => r.tenant)).to.not.include.members(['t1', 't2', 't3']);
    expect(out.results.map((r: any) => r.tenant)).to.include.members(['t5', 't6', 't7', 't8']);

    const after = await apartment.migrationStatusAll();
    expect(after.every((s) => s.pending.length === 0 && s.executed.includes(COUNTED)), JSON.stringify(after)).to.equal(true);
    for (const key of KEYS) expect(await d.tables(`${prefix}${key}`)).to.include('counted');
    // Every tenant's migration completed exactly once; only the killed tenant's started twice.
    const done = lines().filter((l) => l.startsWith('done')).map((l) => l.slice(5)).sort();
    expect(done).to.deep.equal(KEYS.map((k) => `${prefix}${k}`));
    const starts = lines().filter((l) => l.startsWith('start')).map((l) => l.slice(6));
    expect(starts.length).to.equal(KEYS.length + 1);
    expect(starts.filter((s) => s === `${prefix}t5`)).to.have.length(2);

    const ledger = (await apartment.lastRun())!;
    expect(ledger).to.include({ state: 'done', resumes: interrupted.id });
    expect(await apartment.lastRun().then((r) => r!.tenants.every((t) => t.state === 'ok'))).to.equal(true);
  });
});
