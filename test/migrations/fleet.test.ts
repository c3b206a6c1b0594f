import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Apartment, ConfigurationError, FleetStoppedError, MigrationError, TenantNotFoundError, type MigrationResult, type WaveReport } from '../../lib';
import { describeDialects } from '../support/dialects';
import { fixture } from '../support/paths';

const BASE = fixture('cli', 'tenant-migrations');
const FAILING = path.join(fixture('cli', 'failing'), '20260101000005-fails-for-bad-tenants.js');
const V5 = '20260101000005-fails-for-bad-tenants.js';
const KEYS = ['a', 'b', 'bad1', 'c', 'd', 'e'];

/** The base migrations plus one that fails in tenants whose schema contains `_bad`. */
function withFailing(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-'));
  for (const file of fs.readdirSync(BASE)) fs.copyFileSync(path.join(BASE, file), path.join(dir, file));
  fs.copyFileSync(FAILING, path.join(dir, V5));
  return dir;
}

const byTenant = (results: MigrationResult[]) => Object.fromEntries(results.map((r) => [r.tenant, r]));
const pendingV5 = async (apartment: Apartment) =>
  (await apartment.migrationStatusAll()).filter((s) => s.pending.includes(V5)).map((s) => s.tenant);

describeDialects('fleet runs: canary, waves, tenants/skipTenants, ledger and resume', (d) => {
  const prefix = 'fleetw_';
  let apartment: Apartment;

  beforeEach(async function () {
    this.timeout(60_000);
    await d.dropAll(prefix);
    const base = new Apartment(d.sequelize(), { prefix, migrationsPath: BASE });
    for (const key of KEYS) await base.createTenant(key);
    apartment = new Apartment(d.sequelize(), { prefix, migrationsPath: withFailing() });
  });
  after(() => d.dropAll(prefix));

  it('a failing canary stops the run: nothing runs in the other tenants, which get a FleetStoppedError', async () => {
    const waves: WaveReport[] = [];
    const results = await apartment.migrateAll({ canary: ['bad1'], onWave: (w) => void waves.push(w) });
    const r = byTenant(results);
    expect(results.map((x) => x.tenant)).to.deep.equal(KEYS);
    expect(r.bad1!.ok).to.equal(false);
    expect((r.bad1 as any).error).to.be.instanceOf(MigrationError);
    for (const key of KEYS.filter((k) => k !== 'bad1')) {
      expect(r[key]!.ok).to.equal(false);
      const error = (r[key] as any).error;
      expect(error).to.be.instanceOf(FleetStoppedError);
      expect(error.reason).to.equal('canary');
      expect(error.message).to.match(/canary failed \('bad1'\)/);
    }
    expect(waves).to.have.length(1);
    expect(waves[0]).to.include({ index: 0, canary: true, stopped: true });
    expect(waves[0]!.failed).to.deep.equal(['bad1']);
    // The catalog agrees: the migration ran nowhere.
    expect(await pendingV5(apartment)).to.deep.equal(KEYS);
  });

  it('a numeric canary takes the first tenants with work; a passing canary lets the waves run', async () => {
    const waves: WaveReport[] = [];
    const results = await apartment.migrateAll({ canary: 2, waveSize: 2, maxFailures: 1, onWave: (w) => void waves.push(w) });
    expect(waves.map((w) => [w.canary, w.tenants])).to.deep.equal([[true, ['a', 'b']], [false, ['bad1', 'c']], [false, ['d', 'e']]]);
    expect(results.filter((x) => !x.ok).map((x) => x.tenant)).to.deep.equal(['bad1']);
    expect(await pendingV5(apartment)).to.deep.equal(['bad1']);
  });

  it('a wave with more failures than maxFailures (default 0) stops the run before the next wave', async () => {
    const waves: WaveReport[] = [];
    const results = await apartment.migrateAll({ waves: 3, onWave: (w) => void waves.push(w) });
    expect(waves.map((w) => w.tenants)).to.deep.equal([['a', 'b'], ['bad1', 'c']]);
    expect(waves[1]!.stopped).to.equal(true);
    const r = byTenant(results);
    expect(r.c!.ok).to.equal(true);
    expect(((r.d as any).error as FleetStoppedError).reason).to.equal('max-failures');
    expect(await pendingV5(apartment)).to.deep.equal(['bad1', 'd', 'e']);
  });

  it("maxFailures as a percentage of the wave's tenants", async () => {
    const results = await apartment.migrateAll({ waveSize: 2, maxFailures: '50%' });
    expect(results.filter((x) => !x.ok).map((x) => x.tenant)).to.deep.equal(['bad1']);
    expect(await pendingV5(apartment)).to.deep.equal(['bad1']);
  });

  it('without canary or waves it still continues past failures (unchanged)', async () => {
    const results = await apartment.migrateAll();
    expect(results.filter((x) => !x.ok).map((x) => x.tenant)).to.deep.equal(['bad1']);
  });

  it('tenants and skipTenants pick the tenants; an unknown key in tenants is refused before anything runs', async () => {
    const only = await apartment.migrateAll({ tenants: ['c', 'a'] });
    expect(only.map((x) => [x.tenant, x.ok])).to.deep.equal([['a', true], ['c', true]]);
    const skipped = await apartment.migrateAll({ skipTenants: ['bad1', 'nope'] });
    expect(skipped.map((x) => x.tenant)).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
    expect(skipped.every((x) => x.ok)).to.equal(true);
    expect(await pendingV5(apartment)).to.deep.equal(['bad1']);
    const error = await apartment.migrateAll({ tenants: ['bad1', 'ghost'] }).catch((e) => e);
    expect(error).to.be.instanceOf(TenantNotFoundError);
    expect(error.message).to.contain("'ghost'");
    expect(await pendingV5(apartment)).to.deep.equal(['bad1']);
    const canary = await apartment.migrateAll({ canary: ['ghost'] }).catch((e) => e);
    expect(canary).to.be.instanceOf(TenantNotFoundError);
  });

  it('refuses bad fleet options with a clear ConfigurationError', async () => {
    for (const options of [{ waves: 0 }, { waveSize: -1 }, { waves: 2, waveSize: 2 }, { maxFailures: '150%' }, { maxFailures: -1 }, { canary: [] }, { canary: 'a' }, { tenants: 'a' }, { onWave: 1 }]) {
      const error = await apartment.migrateAll(options as any).catch((e) => e);
      expect(error, JSON.stringify(options)).to.be.instanceOf(ConfigurationError);
    }
    expect(await pendingV5(apartment)).to.deep.equal(KEYS);
  });

  it('ledger: records the run per tenant; resume retries only the failed tenants and those not reached', async () => {
    const first = await apartment.migrateAll({ waveSize: 2, ledger: true });
    expect(first.filter((x) => x.ok).map((x) => x.tenant)).to.deep.equal(['a', 'b', 'c']);
    const run = (await apartment.lastRun())!;
    expect(run).to.include({ state: 'stopped', direction: 'up', resumes: null });
    const state = Object.fromEntries(run.tenants.map((t) => [t.tenant, t.state]));
    expect(state).to.deep.equal({ a: 'ok', b: 'ok', bad1: 'failed', c: 'ok', d: 'pending', e: 'pending' });
    const bad = run.tenants.find((t) => t.tenant === 'bad1')!;
    expect(bad.error).to.match(/refusing to migrate/);
    expect(bad.migration).to.equal(V5);
    expect(run.tenants.find((t) => t.tenant === 'a')!.versions).to.deep.equal([V5]);

    const resumed = await apartment.migrateAll({ resume: true, maxFailures: 1, waveSize: 2 });
    expect(resumed.map((x) => [x.tenant, x.ok])).to.deep.equal([['bad1', false], ['d', true], ['e', true]]);
    const second = (await apartment.lastRun())!;
    expect(second).to.include({ state: 'failed', resumes: run.id });
    expect(second.tenants.map((t) => t.tenant)).to.deep.equal(['bad1', 'd', 'e']);
    // The resumed run is marked, and resuming once more retries only bad1.
    const again = await apartment.migrateAll({ resume: true });
    expect(again.map((x) => x.tenant)).to.deep.equal(['bad1']);
    // A run in the other direction is not resumed by an `up` run.
    const wrong = await apartment.migrateAll({ resume: true, direction: 'down' }).catch((e) => e);
    expect(wrong).to.be.instanceOf(ConfigurationError);
  });

  it('resume with nothing recorded, or a run that finished ok, returns no results', async () => {
    await apartment.sequelize.query(`DROP TABLE IF EXISTS ${d.q(d.defaultSchema)}.${d.q('apartment_fleet_tenants')}`);
    await apartment.sequelize.query(`DROP TABLE IF EXISTS ${d.q(d.defaultSchema)}.${d.q('apartment_fleet_runs')}`);
    expect(await apartment.lastRun()).to.equal(undefined);
    expect(await apartment.migrateAll({ resume: true })).to.deep.equal([]);
    await apartment.migrateAll({ skipTenants: ['bad1'], ledger: true });
    expect((await apartment.lastRun())!.state).to.equal('done');
    expect(await apartment.migrateAll({ resume: true })).to.deep.equal([]);
  });
});
