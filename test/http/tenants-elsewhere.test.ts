import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as sinon from 'sinon';
import express from 'express';
import type { Sequelize } from 'sequelize';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { ROOT } from '../support/paths';
import { listen, request } from './helpers';

const run = promisify(execFile);

/** Another process (the CLI, a second app instance) with its own Apartment on the same server. */
async function elsewhere(url: string, verb: 'createTenant' | 'dropTenant', key: string): Promise<void> {
  const script = `
    const { Sequelize } = require('sequelize');
    const { Apartment } = require('sequelize-apartment');
    const sequelize = new Sequelize(process.argv[1], { logging: false });
    const apartment = new Apartment(sequelize, { prefix: 'else_', migrationsPath: 'examples/readme/tenant-migrations' });
    apartment[process.argv[2]](process.argv[3]).then(() => sequelize.close(), (e) => { console.error(e); process.exit(1); });
  `;
  await run(process.execPath, ['-e', script, url, verb, key], { cwd: ROOT });
}

describeDialects('existence cache and tenants created by another process', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let clock: sinon.SinonFakeTimers;

  before(async () => {
    await d.dropAll('else_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: 'else_' });
  });
  // Only Date is faked: the cache's clock moves when the test says so, and nothing here measures real time.
  beforeEach(() => { clock = sinon.useFakeTimers({ toFake: ['Date'], now: Date.now() }); });
  afterEach(() => clock.restore());
  after(() => d.dropAll('else_'));

  async function app(options: Parameters<Apartment['middleware']>[0]) {
    const a = express();
    a.use(apartment.middleware(options));
    a.get('/', (_req, res) => { res.json({ tenant: apartment.current() }); });
    a.use((err: any, _req: any, res: any, _next: any) => { res.status(err.status ?? 500).json({ name: err.name }); });
    return listen(a);
  }

  it('by default a tenant created by another process is served 1 s later; a tenant seen to exist stays cached (ttl)', async () => {
    const server = await app({ resolve: 'header' });
    const ask = async () => (await request(server.url, { headers: { 'x-tenant': 'late' } })).status;
    try {
      expect(await ask()).to.equal(404); // remembered as missing, for a short while
      await elsewhere(d.url, 'createTenant', 'late');
      clock.tick(1000);
      expect(await ask()).to.equal(200);

      await elsewhere(d.url, 'dropTenant', 'late');
      clock.tick(1000);
      expect(await ask(), 'an existing tenant is trusted for `ttl` (10 s), not `negativeTtl`').to.equal(200);
      clock.tick(9_000);
      expect(await ask()).to.equal(404);
    } finally {
      await server.close();
    }
  });

  it('negativeTtl and ttl are separate knobs (ttl: 0 still asks on every request)', async () => {
    const slow = await app({ resolve: 'header', negativeTtl: 5_000 });
    const always = await app({ resolve: 'header', ttl: 0 });
    const ask = async (server: { url: string }, key: string) => (await request(server.url, { headers: { 'x-tenant': key } })).status;
    try {
      // (The entries are shared by the Apartment's middlewares, each applying its own TTLs: one key per app here.)
      expect(await ask(slow, 'later')).to.equal(404);
      expect(await ask(always, 'latest')).to.equal(404);
      await elsewhere(d.url, 'createTenant', 'later');
      await elsewhere(d.url, 'createTenant', 'latest');
      expect(await ask(always, 'latest')).to.equal(200);
      clock.tick(1000);
      expect(await ask(slow, 'later'), 'still remembered as missing for negativeTtl').to.equal(404);
      clock.tick(4_000);
      expect(await ask(slow, 'later')).to.equal(200);
    } finally {
      await slow.close();
      await always.close();
    }
  });
});
