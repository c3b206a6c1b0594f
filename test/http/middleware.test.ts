import { expect } from 'chai';
import * as sinon from 'sinon';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataTypes, type ModelStatic, type Model, type Sequelize } from 'sequelize';
import { Apartment, ApartmentError, ConfigurationError, NoTenantError, TenantNameError, TenantNotFoundError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { EXPRESSES, listen, request } from './helpers';

describeDialects('middleware', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Widget: ModelStatic<Model>;

  before(async () => {
    await d.dropAll('http_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { migrationsPath: false, prefix: 'http_' });
    Widget = sequelize.define('Widget', { name: DataTypes.STRING }, { tableName: 'widgets' });
    for (const key of ['acme', 'beta']) {
      await apartment.createTenant(key);
      await apartment.run(key, async () => {
        await Widget.sync();
        await Widget.create({ name: `${key}-gear` });
      });
    }
  });
  after(() => d.dropAll('http_'));

  for (const { version, express } of EXPRESSES) {
    describe(version, () => {
      let ran: string[];
      let seenErrors: unknown[];

      /** An app whose routes report the tenant in context after awaits, and an error handler that renders `status`. */
      function app(options: Parameters<Apartment['middleware']>[0], extra?: (a: ReturnType<typeof express>) => void) {
        const a = express();
        a.use(apartment.middleware(options));
        a.use(async (_req, _res, next) => {
          await sleep(1);
          next();
        });
        extra?.(a);
        a.get('/widgets', async (req, res, next) => {
          try {
            ran.push(String(apartment.current()));
            await sleep(1);
            const widgets = await Widget.findAll();
            const [rows] = await sequelize.query('SELECT name FROM widgets');
            res.json({
              tenant: apartment.current() ?? null,
              names: widgets.map((w) => w.get('name')),
              raw: (rows as Array<{ name: string }>).map((r) => r.name),
              url: req.url,
              baseUrl: req.baseUrl,
              originalUrl: req.originalUrl,
            });
          } catch (error) {
            next(error);
          }
        });
        a.get('/whoami', (_req, res) => {
          ran.push(String(apartment.current()));
          res.json({ tenant: apartment.current() ?? null });
        });
        a.use((err: any, _req: any, res: any, _next: any) => {
          seenErrors.push(err);
          res.status(err.status ?? 500).json({ name: err.name, message: err.message });
        });
        return a;
      }

      async function get(a: ReturnType<typeof express>, path: string, headers: Record<string, string> = {}) {
        const server = await listen(a);
        try {
          return await request(server.url + path, { headers });
        } finally {
          await server.close();
        }
      }

      beforeEach(() => {
        ran = [];
        seenErrors = [];
      });

      it('subdomain: acme.example.com runs the request in acme, across awaits and next()', async () => {
        const a = app({ resolve: 'subdomain' });
        const acme = await get(a, '/widgets', { host: 'acme.example.com' });
        expect(acme.status).to.equal(200);
        expect(acme.json).to.include({ tenant: 'acme' });
        expect(acme.json.names).to.deep.equal(['acme-gear']);
        expect(acme.json.raw).to.deep.equal(['acme-gear']);
        const beta = await get(a, '/widgets', { host: 'Beta.Example.com:8080' });
        expect(beta.json).to.include({ tenant: 'beta' });
        expect(beta.json.names).to.deep.equal(['beta-gear']);
        expect((await get(a, '/whoami', { host: 'acme.localhost:3000' })).json).to.deep.equal({ tenant: 'acme' });
      });

      it('subdomain: www, bare hosts and IP hosts mean no tenant (400), `exclude` is configurable', async () => {
        const a = app({ resolve: 'subdomain' });
        for (const host of ['www.example.com', 'example.com', 'localhost', '127.0.0.1:80', '[::1]:3000', '10.0.0.1']) {
          const res = await get(a, '/whoami', { host });
          expect(res.status, host).to.equal(400);
          expect(res.json.name).to.equal('NoTenantError');
        }
        const b = app({ resolve: 'subdomain', exclude: ['app'] });
        expect((await get(b, '/whoami', { host: 'app.example.com' })).status).to.equal(400);
        expect((await get(b, '/whoami', { host: 'www.example.com' })).status).to.equal(404); // www is a key now, and unknown
        expect(ran).to.deep.equal([]);
      });

      it('header: x-tenant by default, any header name by option', async () => {
        const a = app({ resolve: 'header' });
        expect((await get(a, '/widgets', { 'x-tenant': 'beta' })).json.names).to.deep.equal(['beta-gear']);
        const b = app({ resolve: 'header', header: 'X-Org' });
        expect((await get(b, '/whoami', { 'x-org': 'acme' })).json).to.deep.equal({ tenant: 'acme' });
        expect((await get(b, '/whoami', { 'x-tenant': 'acme' })).status).to.equal(400);
      });

      it('path: /acme/widgets runs /widgets in acme, like a router mounted at /acme', async () => {
        const a = app({ resolve: 'path' });
        const res = await get(a, '/acme/widgets?x=1');
        expect(res.status).to.equal(200);
        expect(res.json).to.include({ tenant: 'acme', url: '/widgets?x=1', baseUrl: '/acme', originalUrl: '/acme/widgets?x=1' });
        expect(res.json.names).to.deep.equal(['acme-gear']);
        expect((await get(a, '/beta/whoami')).json).to.deep.equal({ tenant: 'beta' });
        expect((await get(a, '/nope/whoami')).status).to.equal(404);
        expect((await get(a, '/')).status).to.equal(400);
      });

      it('a resolver function, sync or async, and a list of resolvers tried in order', async () => {
        const a = app({ resolve: async (req: any) => { await sleep(1); return req.query.t; } });
        expect((await get(a, '/widgets?t=beta')).json.names).to.deep.equal(['beta-gear']);
        const b = app({ resolve: () => ({ id: 'acme' }) });
        expect((await get(b, '/whoami')).json).to.deep.equal({ tenant: 'acme' });
        const c = app({ resolve: ['header', 'subdomain'] });
        expect((await get(c, '/whoami', { host: 'acme.example.com' })).json).to.deep.equal({ tenant: 'acme' });
        expect((await get(c, '/whoami', { host: 'acme.example.com', 'x-tenant': 'beta' })).json).to.deep.equal({ tenant: 'beta' });
        expect((await get(c, '/whoami', { host: 'example.com' })).status).to.equal(400);
      });

      it('unknown tenant -> 404 TenantNotFoundError, invalid key -> 404 TenantNameError, route not run', async () => {
        const a = app({ resolve: 'header' });
        const unknown = await get(a, '/widgets', { 'x-tenant': 'ghost' });
        expect(unknown.status).to.equal(404);
        expect(unknown.json.name).to.equal('TenantNotFoundError');
        expect(seenErrors[0]).to.be.instanceOf(TenantNotFoundError).and.include({ tenant: 'ghost', status: 404 });
        const invalid = await get(a, '/widgets', { 'x-tenant': 'Robert"; DROP SCHEMA public' });
        expect(invalid.status).to.equal(404);
        expect(seenErrors[1]).to.be.instanceOf(TenantNameError);
        expect(ran).to.deep.equal([]);
      });

      it('no tenant -> 400 NoTenantError; with optional: true the request runs without a tenant', async () => {
        const a = app({ resolve: 'header' });
        const none = await get(a, '/whoami');
        expect(none.status).to.equal(400);
        expect(seenErrors[0]).to.be.instanceOf(NoTenantError).and.instanceOf(ApartmentError);
        const b = app({ resolve: 'header', optional: true });
        expect((await get(b, '/whoami')).json).to.deep.equal({ tenant: null });
        expect((await get(b, '/whoami', { 'x-tenant': 'ghost' })).status).to.equal(404);
        expect((await get(b, '/whoami', { 'x-tenant': 'acme' })).json).to.deep.equal({ tenant: 'acme' });
        // Strict mode still protects tenant models in a tenant-less request.
        const res = await get(b, '/widgets');
        expect(res.status).to.equal(400);
        expect(res.json.name).to.equal('NoTenantError');
      });

      it("never swallows or rewrites the app's own errors (sync, async, from a resolver)", async () => {
        const boom = Object.assign(new Error('boom'), { status: 418 });
        const a = app({ resolve: 'header' }, (x) => {
          x.get('/sync', () => { throw boom; });
          x.get('/async', (_req, _res, next) => { void sleep(1).then(() => next(boom)); });
        });
        for (const path of ['/sync', '/async']) {
          const res = await get(a, path, { 'x-tenant': 'acme' });
          expect(res.status, path).to.equal(418);
          expect(res.json).to.deep.equal({ name: 'Error', message: 'boom' });
        }
        const failing = new Error('resolver down');
        const b = app({ resolve: async () => { throw failing; } });
        expect((await get(b, '/whoami')).status).to.equal(500);
        expect(seenErrors).to.deep.equal([boom, boom, failing]);
        expect(seenErrors[2]).to.equal(failing);
      });

      it('a body parser after the middleware keeps the context', async () => {
        const a = express();
        a.use(apartment.middleware({ resolve: 'header' }));
        a.use(express.json());
        a.post('/echo', async (req, res) => {
          await sleep(1);
          res.json({ tenant: apartment.current(), body: req.body });
        });
        const server = await listen(a);
        try {
          const res = await request(`${server.url}/echo`, { method: 'POST', headers: { 'x-tenant': 'beta' }, body: { big: 'x'.repeat(90_000) } });
          expect(res.json.tenant).to.equal('beta');
          expect(res.json.body.big).to.have.length(90_000);
        } finally {
          await server.close();
        }
      });

      it('concurrent requests for different tenants do not mix', async () => {
        const a = app({ resolve: 'header' });
        const server = await listen(a);
        try {
          const keys = Array.from({ length: 40 }, (_, i) => (i % 2 ? 'acme' : 'beta'));
          const answers = await Promise.all(keys.map((key) => request(`${server.url}/widgets`, { headers: { 'x-tenant': key } })));
          answers.forEach((res, i) => {
            expect(res.json.tenant).to.equal(keys[i]);
            expect(res.json.names).to.deep.equal([`${keys[i]}-gear`]);
            expect(res.json.raw).to.deep.equal([`${keys[i]}-gear`]);
          });
        } finally {
          await server.close();
        }
      });
    });
  }

  describe('existence cache', () => {
    const express = EXPRESSES[1].express;
    function whoami(options: Parameters<Apartment['middleware']>[0]) {
      const a = express();
      a.use(apartment.middleware(options));
      a.get('/', (_req, res) => { res.json({ tenant: apartment.current() }); });
      a.use((err: any, _req: any, res: any, _next: any) => { res.status(err.status ?? 500).json({ name: err.name }); });
      return a;
    }
    // The cache reads a tenant's existence and state (suspendTenant) in one catalog lookup.
    let exists: sinon.SinonSpy;
    beforeEach(() => { exists = sinon.spy(apartment.adapter, 'state'); });
    afterEach(() => sinon.restore());

    it('asks the catalog once per TTL, not once per request', async () => {
      const server = await listen(whoami({ resolve: 'header', negativeTtl: 60_000 }));
      try {
        for (let i = 0; i < 5; i++) {
          expect((await request(server.url, { headers: { 'x-tenant': 'acme' } })).status).to.equal(200);
          expect((await request(server.url, { headers: { 'x-tenant': 'ghost1' } })).status).to.equal(404);
        }
        expect(exists.callCount).to.be.at.most(2);
        const names = exists.getCalls().map((c) => c.args[0].name);
        expect(names.filter((n) => n === 'http_ghost1')).to.have.length(1);
      } finally {
        await server.close();
      }
    });

    it('createTenant/dropTenant in this process take effect at once; other processes after the TTL (ttl: 0 = always ask)', async () => {
      const cached = await listen(whoami({ resolve: 'header' }));
      const uncached = await listen(whoami({ resolve: 'header', ttl: 0 }));
      const admin = d.sequelize();
      try {
        const ask = async (server: { url: string }, key: string) => (await request(server.url, { headers: { 'x-tenant': key } })).status;
        expect(await ask(cached, 'gamma')).to.equal(404);
        await apartment.createTenant('gamma');
        expect(await ask(cached, 'gamma')).to.equal(200);
        await apartment.dropTenant('gamma');
        expect(await ask(cached, 'gamma')).to.equal(404);

        // Another process creates and drops a tenant behind our back.
        await admin.query(d.name === 'postgres' ? 'CREATE SCHEMA http_delta' : 'CREATE DATABASE http_delta');
        expect(await ask(cached, 'delta')).to.equal(200);
        await admin.query(d.name === 'postgres' ? 'DROP SCHEMA http_delta' : 'DROP DATABASE http_delta');
        expect(await ask(cached, 'delta')).to.equal(200); // still cached (TTL 10 s)
        expect(await ask(uncached, 'delta')).to.equal(404);
      } finally {
        await cached.close();
        await uncached.close();
      }
    });
  });

  it('rejects bad options with ConfigurationError', () => {
    for (const options of [{ resolve: 'cookie' }, { resolve: [] }, { ttl: -1 }, { negativeTtl: -1 }, { negativeTtl: '1s' }, { header: 'bad header' }, { exclude: 'www' }, { optional: 'yes' }]) {
      expect(() => apartment.middleware(options as any), JSON.stringify(options)).to.throw(ConfigurationError);
    }
  });
});
