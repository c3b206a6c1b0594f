import { expect } from 'chai';
import * as path from 'node:path';
import { quickstart } from '../../examples/readme/quickstart';
import { middlewareApp } from '../../examples/readme/middleware';
import { describeDialects } from '../support/dialects';
import { ROOT } from '../support/paths';
import { listen, request } from '../http/helpers';

describeDialects('README quick start and middleware snippets', (d) => {
  before(() => d.dropAll('demo_qs_'));
  after(() => d.dropAll('demo_qs_'));

  it('quick start: tenants from a migration, run, and the middleware', async () => {
    const { apartment, app, globexNotes } = await quickstart(d.sequelize(), {
      prefix: 'demo_qs_',
      migrationsPath: path.join(ROOT, 'examples/readme/tenant-migrations'),
    });
    expect(globexNotes).to.deep.equal([]);
    expect(await d.tables('demo_qs_acme')).to.include('notes');
    const server = await listen(app);
    try {
      const acme = await request(`${server.url}/notes`, { headers: { host: 'acme.example.com' } });
      expect(acme.json.map((n: any) => n.body)).to.deep.equal(['hello from acme']);
      const globex = await request(`${server.url}/notes`, { headers: { host: 'globex.example.com' } });
      expect(globex.json).to.deep.equal([]);
    } finally {
      await server.close();
    }

    // The middleware reference, on the same tenants.
    const ref = await listen(middlewareApp(apartment));
    try {
      const who = async (p: string, headers: Record<string, string> = {}) => {
        const res = await request(ref.url + p, { headers });
        return res.status === 200 ? res.json.tenant : res.status;
      };
      expect(await who('/app/whoami', { host: 'acme.example.com' })).to.equal('acme');
      expect(await who('/app/whoami', { host: 'admin.example.com' })).to.equal(400);
      expect(await who('/api/whoami', { 'x-tenant': 'globex' })).to.equal('globex');
      expect(await who('/api/whoami', { 'x-tenant': 'initech' })).to.equal(404);
      expect(await who('/t/acme/whoami')).to.equal('acme');
      expect(await who('/mixed/whoami', { 'x-org': 'globex', host: 'acme.example.com' })).to.equal('globex');
      expect(await who('/mixed/whoami', { host: 'acme.example.com' })).to.equal('acme');
      expect(await who('/mixed/whoami')).to.equal(null);
      const body = await request(`${ref.url}/api/whoami`, { headers: { 'x-tenant': 'initech' } });
      expect(body.json).to.deep.equal({ error: 'TenantNotFoundError', tenant: 'initech' });
    } finally {
      await ref.close();
    }
  });
});
