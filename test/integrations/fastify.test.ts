import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import fastify5 from 'fastify';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { Apartment, ConfigurationError } from 'sequelize-apartment';
import { apartmentPlugin, type ApartmentPluginOptions } from 'sequelize-apartment/fastify';
import { describeDialects } from '../support/dialects';
import { expectNoApiAdvice, interleavedGets, interleavedPosts, noLeakOnKeepAlive, routes, suspendedTenant, tenantProblems, widgetTenants } from './helpers';

/** Fastify 5 (`fastify`) and Fastify 4 (`fastify4`, an npm alias of fastify@4). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const FASTIFIES: Array<{ version: string; fastify: typeof fastify5 }> = [
  { version: 'fastify 4', fastify: require('fastify4') as typeof fastify5 },
  { version: 'fastify 5', fastify: fastify5 },
];

describeDialects('fastify plugin', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Widget: ModelStatic<Model>;

  before(async () => {
    await d.dropAll('fy_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: 'fy_', migrationsPath: false });
    Widget = await widgetTenants(apartment, sequelize);
  });
  after(() => d.dropAll('fy_'));

  for (const { version, fastify } of FASTIFIES) {
    describe(version, () => {
      const open: Array<{ close(): Promise<unknown> }> = [];
      afterEach(async () => {
        for (const app of open.splice(0)) await app.close();
      });

      async function serve(options: Omit<ApartmentPluginOptions, 'apartment'>) {
        const app = fastify();
        await app.register(apartmentPlugin, { apartment, ...options });
        app.get('/widgets', (request) => routes.list(apartment, Widget, request.tenant, (request.query as any).delay));
        app.post('/widgets', (request) => routes.create(apartment, Widget, request.tenant, request.body as any));
        app.get('/whoami', async () => routes.whoami(apartment));
        await app.listen({ port: 0, host: '127.0.0.1' });
        open.push(app);
        const { port } = app.server.address() as AddressInfo;
        return { url: `http://127.0.0.1:${port}`, port };
      }

      it('hundreds of interleaved requests of two tenants, with random delays, each answered in its own tenant', async () => {
        const { url } = await serve({ resolve: 'header' });
        await interleavedGets(url, 400);
      });

      it('POST with a JSON body: the tenant is still in context after the body is parsed', async () => {
        const { url } = await serve({ resolve: 'header' });
        await interleavedPosts(url, apartment, Widget, 200);
      });

      it("no tenant 400, unknown 404, malformed 404, repeated header 400, in Fastify's error shape", async () => {
        const { url, port } = await serve({ resolve: 'header' });
        const { none, unknown, malformed } = await tenantProblems(url, port);
        // Fastify's default handler, its message replaced by the client's.
        expect(none.json).to.deep.equal({ statusCode: 400, error: 'NoTenantError', message: 'This request names no tenant.' });
        expect(unknown.json).to.deep.equal({ statusCode: 404, error: 'TenantNotFoundError', message: "Unknown tenant 'nope'.", tenant: 'nope' });
        expect(malformed.json).to.deep.equal({ statusCode: 404, error: 'TenantNameError', message: 'Unknown tenant.' });
        expectNoApiAdvice(none.text, unknown.text, malformed.text);
      });

      it("a suspended tenant: a write to a read-only one 423, a closed one 503, before the route runs, in Fastify's error shape", async () => {
        const { url } = await serve({ resolve: 'header' });
        const { readOnly, closed } = await suspendedTenant(url, apartment, Widget);
        expect(readOnly.json).to.deep.equal({ statusCode: 423, error: 'TenantSuspendedError', message: "Tenant 'beta' is read-only at the moment.", tenant: 'beta' });
        expect(closed.json).to.deep.equal({ statusCode: 503, error: 'TenantSuspendedError', message: "Tenant 'beta' is temporarily unavailable.", tenant: 'beta' });
        expectNoApiAdvice(readOnly.text, closed.text);
      });

      it('the errors reach an app error handler as ApartmentErrors', async () => {
        const app = fastify();
        await app.register(apartmentPlugin, { apartment, resolve: 'header' });
        app.setErrorHandler((error: any, _request, reply) => {
          reply.code(error.status ?? 500).send({ error: error.name, tenant: error.tenant ?? null });
        });
        app.get('/whoami', async () => routes.whoami(apartment));
        const res = await app.inject({ method: 'GET', url: '/whoami', headers: { 'x-tenant': 'nope' } });
        expect(res.statusCode).to.equal(404);
        expect(res.json()).to.deep.equal({ error: 'TenantNotFoundError', tenant: 'nope' });
        await app.close();
      });

      it('the context does not leak into the next request on the same keep-alive connection', async () => {
        const { url } = await serve({ resolve: 'header', optional: true });
        await noLeakOnKeepAlive(url);
      });

      it('subdomain and a resolver function of the Fastify request; request.tenant is decorated', async () => {
        const app = fastify();
        await app.register(apartmentPlugin, { apartment, resolve: ['subdomain', (request) => (request.query as any).t] });
        app.get('/widgets', (request) => routes.list(apartment, Widget, request.tenant, 0));
        const sub = await app.inject({ method: 'GET', url: '/widgets', headers: { host: 'beta.example.com:8080' } });
        expect(sub.json()).to.deep.equal({ tenant: 'beta', seen: 'beta', names: ['beta-gear'] });
        const fn = await app.inject({ method: 'GET', url: '/widgets?t=acme', headers: { host: 'example.com' } });
        expect(fn.json()).to.deep.equal({ tenant: 'acme', seen: 'acme', names: ['acme-gear'] });
        await app.close();
      });

      it('path: the first segment is the tenant, declared in the routes', async () => {
        const app = fastify();
        await app.register(apartmentPlugin, { apartment, resolve: 'path' });
        app.get('/:tenant/widgets', (request) => routes.list(apartment, Widget, request.tenant, 0));
        expect((await app.inject({ method: 'GET', url: '/acme/widgets' })).json()).to.deep.equal({ tenant: 'acme', seen: 'acme', names: ['acme-gear'] });
        expect((await app.inject({ method: 'GET', url: '/nope/widgets' })).statusCode).to.equal(404);
        await app.close();
      });

      it('hooks registered inside an encapsulated scope apply to that scope only', async () => {
        const app = fastify();
        app.get('/public', async () => routes.whoami(apartment));
        await app.register(async (scope) => {
          await scope.register(apartmentPlugin, { apartment, resolve: 'header' });
          scope.get('/whoami', async () => routes.whoami(apartment));
        }, { prefix: '/api' });
        expect((await app.inject({ method: 'GET', url: '/public' })).json()).to.deep.equal({ tenant: null });
        expect((await app.inject({ method: 'GET', url: '/api/whoami' })).statusCode).to.equal(400);
        expect((await app.inject({ method: 'GET', url: '/api/whoami', headers: { 'x-tenant': 'acme' } })).json()).to.deep.equal({ tenant: 'acme' });
        await app.close();
      });

      it('refuses a missing apartment and bad options at register time with ConfigurationError', async () => {
        for (const options of [{}, { apartment: {} }, { apartment, resolve: 'cookie' }, { apartment, negativeTtl: -1 }]) {
          const app = fastify();
          let error: unknown;
          try {
            await app.register(apartmentPlugin, options as any);
            await app.ready();
          } catch (e) {
            error = e;
          }
          expect(error, JSON.stringify(Object.keys(options))).to.be.instanceOf(ConfigurationError);
          await app.close().catch(() => undefined);
        }
      });
    });
  }
});
