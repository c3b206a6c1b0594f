import { expect } from 'chai';
import Koa3 from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { Apartment, ApartmentError, ConfigurationError } from 'sequelize-apartment';
import { apartmentErrorHandler, apartmentMiddleware, type KoaApartmentOptions } from 'sequelize-apartment/koa';
import { describeDialects } from '../support/dialects';
import { listen, request as send } from '../http/helpers';
import { expectNoApiAdvice, interleavedGets, interleavedPosts, noLeakOnKeepAlive, routes, suspendedTenant, tenantProblems, widgetTenants } from './helpers';

/**
 * Koa 3 (`koa`), Koa 3 with its own `asyncLocalStorage` option (Koa runs the
 * chain inside its store: ours must nest in it) and Koa 2 (`koa2`, an npm
 * alias of koa@2). The same middleware and suite for each.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Koa2 = require('koa2') as typeof Koa3;
const KOAS: Array<{ version: string; create: () => Koa3 }> = [
  { version: 'koa 2', create: () => new Koa2() },
  { version: 'koa 3', create: () => new Koa3() },
  { version: 'koa 3 with asyncLocalStorage: true', create: () => new Koa3({ asyncLocalStorage: true }) },
];

describeDialects('koa middleware', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Widget: ModelStatic<Model>;
  const open: Array<{ close(): Promise<void> }> = [];

  before(async () => {
    await d.dropAll('koa_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: 'koa_', migrationsPath: false });
    Widget = await widgetTenants(apartment, sequelize);
  });
  after(() => d.dropAll('koa_'));
  afterEach(async () => {
    for (const server of open.splice(0)) await server.close();
  });

  for (const { version, create } of KOAS) {
  describe(version, () => {
    /** A Koa app: an error middleware that records what it sees, the body parser, the integration, and the test routes. */
    async function serve(options: KoaApartmentOptions, before?: (app: Koa3) => void) {
      const app = create();
      before?.(app);
      app.use(bodyParser());
      app.use(apartmentMiddleware(apartment, options));
      app.use(async (ctx) => {
        if (ctx.method === 'GET' && ctx.path === '/widgets') ctx.body = await routes.list(apartment, Widget, ctx.state.tenant, ctx.query.delay);
        else if (ctx.method === 'POST' && ctx.path === '/widgets') ctx.body = await routes.create(apartment, Widget, ctx.state.tenant, ctx.request.body as any);
        else if (ctx.path === '/whoami') ctx.body = routes.whoami(apartment);
        else if (ctx.path === '/koa-context') ctx.body = { same: app.currentContext === ctx, tenant: apartment.current() ?? null };
        else if (ctx.path === '/where') ctx.body = { url: ctx.url, originalUrl: ctx.originalUrl, tenant: apartment.current() ?? null };
      });
      const server = await listen(app.callback());
      open.push(server);
      return server;
    }

    it('hundreds of interleaved requests of two tenants, with random delays, each answered in its own tenant (ctx.state.tenant set)', async () => {
      const { url } = await serve({ resolve: 'header' });
      await interleavedGets(url, 400);
    });

    it('POST with a JSON body (@koa/bodyparser): the row lands in the request tenant', async () => {
      const { url } = await serve({ resolve: 'header' });
      await interleavedPosts(url, apartment, Widget, 200);
    });

    it("no tenant 400, unknown 404, malformed 404, repeated header 400, with Koa's default error answers", async () => {
      const { url, port } = await serve({ resolve: 'header' });
      const { none, unknown } = await tenantProblems(url, port);
      // Not exposed: Koa's default answers the status text, never the developer advice.
      expect([none.text, unknown.text]).to.deep.equal(['Bad Request', 'Not Found']);
    });

    it('apartmentErrorHandler(): ApartmentErrors from the middleware and from routes answered with a short client message', async () => {
      const { url, port } = await serve({ resolve: 'header', optional: true }, (app) => app.use(apartmentErrorHandler()));
      const unknown = await send(`${url}/whoami`, { headers: { 'x-tenant': 'nope' } });
      expect(unknown.json).to.deep.equal({ statusCode: 404, error: 'TenantNotFoundError', message: "Unknown tenant 'nope'.", tenant: 'nope' });
      const strict = await send(`${url}/widgets`); // optional: the route runs without a tenant, the model refuses
      expect(strict.status).to.equal(400);
      expect(strict.json).to.include({ statusCode: 400, error: 'NoTenantError', message: 'This request names no tenant.' });
      const listed = await send(`${url}/whoami`, { headers: { 'x-tenant': 'acme, beta' } });
      expect(listed.status).to.equal(400);
      expectNoApiAdvice(unknown.text, strict.text, listed.text);
      void port;
    });

    it("a suspended tenant: a write to a read-only one 423, a closed one 503, before downstream runs, with Koa's default answers", async () => {
      const { readOnly, closed } = await suspendedTenant((await serve({ resolve: 'header' })).url, apartment, Widget);
      expect(readOnly.text).to.equal('Locked');
      expect(closed.text).to.equal('Service Unavailable');
    });

    it("an app's error middleware sees the ApartmentError with its status", async () => {
      const { url } = await serve({ resolve: 'header' }, (app) =>
        app.use(async (ctx, next) => {
          try {
            await next();
          } catch (error) {
            if (!(error instanceof ApartmentError)) throw error;
            ctx.status = error.status;
            ctx.body = { error: error.name, tenant: error.tenant ?? null };
          }
        }),
      );
      const res = await send(`${url}/whoami`, { headers: { 'x-tenant': 'nope' } });
      expect(res.status).to.equal(404);
      expect(res.json).to.deep.equal({ error: 'TenantNotFoundError', tenant: 'nope' });
    });

    it('the context does not leak into the next request on the same keep-alive connection', async () => {
      const { url } = await serve({ resolve: 'header', optional: true });
      await noLeakOnKeepAlive(url);
    });

    it('path: /acme/where runs /where in acme (ctx.url stripped, ctx.originalUrl kept); subdomain and a function of ctx', async () => {
      const byPath = await serve({ resolve: 'path' });
      expect((await send(`${byPath.url}/acme/where?x=1`)).json).to.deep.equal({ url: '/where?x=1', originalUrl: '/acme/where?x=1', tenant: 'acme' });
      expect((await send(`${byPath.url}/nope/where`)).status).to.equal(404);
      const mixed = await serve({ resolve: ['subdomain', (ctx) => ctx.query.t as string | undefined] });
      expect((await send(`${mixed.url}/whoami`, { headers: { host: 'beta.example.com:3000' } })).json).to.deep.equal({ tenant: 'beta' });
      expect((await send(`${mixed.url}/whoami?t=acme`)).json).to.deep.equal({ tenant: 'acme' });
    });

    it('refuses a missing apartment and bad options with ConfigurationError', () => {
      expect(() => apartmentMiddleware({} as any)).to.throw(ConfigurationError);
      expect(() => apartmentMiddleware(apartment, { resolve: 'cookie' as any })).to.throw(ConfigurationError);
      expect(() => apartmentMiddleware(apartment, { negativeTtl: -1 })).to.throw(ConfigurationError);
    });

    if (version.includes('asyncLocalStorage')) {
      it("Koa's own app.currentContext and the tenant are both there in the route", async () => {
        const { url } = await serve({ resolve: 'header' });
        const answers = await Promise.all(['acme', 'beta', 'acme', 'beta'].map((t) => send(`${url}/koa-context`, { headers: { 'x-tenant': t } })));
        expect(answers.map((a) => a.json)).to.deep.equal(['acme', 'beta', 'acme', 'beta'].map((tenant) => ({ same: true, tenant })));
      });
    }
  });
  }
});
