import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { frontDoor } from '../../examples/readme/front-door';
import { quickstart } from '../../examples/readme/quickstart';
import { middlewareApp } from '../../examples/readme/middleware';
import { describeDialects } from '../support/dialects';
import { ROOT } from '../support/paths';
import { listen, request } from '../http/helpers';

describeDialects('README and getting-started snippets', (d) => {
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
      expect(body.json).to.deep.equal({ statusCode: 404, error: 'TenantNotFoundError', message: "Unknown tenant 'initech'.", tenant: 'initech' });
    } finally {
      await ref.close();
    }
  });

  it("README's example in TypeScript: createTenant, run, and the middleware", async () => {
    await d.dropAll('tenant_acme');
    try {
      const { app } = await frontDoor(d.sequelize(), path.join(ROOT, 'examples/readme/tenant-migrations'));
      const server = await listen(app);
      try {
        const acme = await request(`${server.url}/notes`, { headers: { host: 'acme.example.com' } });
        expect(acme.json.map((n: any) => n.body)).to.deep.equal(['hello from acme']);
        const globex = await request(`${server.url}/notes`, { headers: { host: 'globex.example.com' } });
        expect(globex.status).to.equal(404);
      } finally {
        await server.close();
      }
    } finally {
      await d.dropAll('tenant_acme');
    }
  });

  for (const file of ['front-door.js', 'quickstart.js']) {
    it(`${file} (CommonJS): the whole app file runs with node and serves each tenant its notes`, async function () {
      this.timeout(60_000);
      await d.dropAll('tenant_acme');
      const child = spawn(process.execPath, [path.join(ROOT, 'examples/readme', file)], {
        cwd: path.join(ROOT, 'test'), // another folder than the app's: migrationsPath is absolute
        env: { ...process.env, DATABASE_URL: d.url, PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let output = '';
        const url = await new Promise<string>((resolve, reject) => {
          child.stdout!.on('data', (chunk) => {
            output += chunk;
            const match = /listening on (http:\/\/localhost:\d+)/.exec(output);
            if (match) resolve(match[1]!);
          });
          child.stderr!.on('data', (chunk) => (output += chunk));
          child.on('exit', (code) => reject(new Error(`${file} exited with ${code}:\n${output}`)));
        });
        const acme = await request(`${url}/notes`, { headers: { host: 'acme.example.com' } });
        expect(acme.json.map((n: any) => n.body)).to.deep.equal(['hello from acme']);
        const globex = await request(`${url}/notes`, { headers: { host: 'globex.example.com' } });
        expect(globex.status).to.equal(404);
        expect(await d.tables('tenant_acme')).to.include('notes');
      } finally {
        child.kill();
        await d.dropAll('tenant_acme');
      }
    });
  }
});
