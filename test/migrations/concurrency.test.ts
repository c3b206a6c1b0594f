import { QueryTypes } from 'sequelize';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { Apartment } from '../../lib';
import { describeDialects } from '../support/dialects';
import { fixture, ROOT } from '../support/paths';

const LEDGER = fixture('migrations', 'ledger');
const RACE = fixture('migrations', 'race.js');
const VERSIONS = ['20260401000001-step-1.js', '20260401000002-step-2.js', '20260401000003-step-3.js'];

/** Runs test/fixtures/migrations/race.js in a child process; resolves to its parsed JSON output. */
function race(url: string, prefix: string, tenant?: string): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RACE, ROOT, url, prefix, LEDGER, ...(tenant ? [tenant] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`race.js exited with ${code}: ${err}`));
      try {
        resolve(JSON.parse(out));
      } catch (error) {
        reject(new Error(`race.js printed no JSON: ${out} ${err}`));
      }
    });
  });
}

describeDialects('tenant migrations: two processes at once', (d) => {
  const prefix = 'migc_';
  const keys = ['t1', 't2', 't3', 't4', 't5', 't6'];

  beforeEach(async () => {
    await d.dropAll(prefix);
    // Tenants exist before any migration: create them without tenant migrations.
    const apartment = new Apartment(d.sequelize(), { prefix, migrationsPath: false });
    for (const key of keys) await apartment.createTenant(key);
  });
  after(() => d.dropAll(prefix));

  async function expectEachRanOnce(tenants = keys): Promise<void> {
    const s = d.sequelize();
    for (const key of tenants) {
      const ledger = await s.query(`SELECT name FROM ${d.q(prefix + key)}.${d.q('migc_ledger')} ORDER BY name`, { type: QueryTypes.SELECT });
      expect(ledger, key).to.deep.equal([{ name: 'step-1' }, { name: 'step-2' }, { name: 'step-3' }]);
      const meta = await s.query(`SELECT name FROM ${d.q(prefix + key)}.${d.q('SequelizeMeta')} ORDER BY name`, { type: QueryTypes.SELECT });
      expect((meta as Array<{ name: string }>).map((r) => r.name), key).to.deep.equal(VERSIONS);
    }
  }

  it('migrateAll in two processes: every migration runs exactly once per tenant', async function () {
    this.timeout(120_000);
    const [first, second] = await Promise.all([race(d.url, prefix), race(d.url, prefix)]);
    for (const results of [first, second]) {
      expect(results.map((r) => r.tenant)).to.deep.equal(keys);
      expect(results.every((r) => r.ok), JSON.stringify(results)).to.equal(true);
    }
    // Between them, the two processes applied each migration once per tenant.
    for (let i = 0; i < keys.length; i++) {
      expect([...first[i].versions, ...second[i].versions].sort(), keys[i]).to.deep.equal(VERSIONS);
    }
    await expectEachRanOnce();
  });

  it('migrateTenant of the same tenant in two processes: one applies, the other finds nothing to do', async function () {
    this.timeout(120_000);
    const tenants = keys.slice(0, 2);
    const runs = await Promise.all(tenants.map((key) => Promise.all([race(d.url, prefix, key), race(d.url, prefix, key)])));
    for (const [[a], [b]] of runs) {
      expect(a.ok && b.ok, JSON.stringify([a, b])).to.equal(true);
      // The lock covers the whole run: the second process sees the first one's work.
      expect([a.versions.length, b.versions.length].sort()).to.deep.equal([0, 3]);
    }
    await expectEachRanOnce(tenants);
  });
});
