import { expect } from 'chai';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { Apartment, ApartmentError, ConfigurationError } from 'sequelize-apartment';
import { apartmentMiddleware, type KoaApartmentOptions } from 'sequelize-apartment/koa';
import { describeDialects } from '../support/dialects';
import { listen, request as send } from '../http/helpers';
import { interleavedGets, interleavedPosts, noLeakOnKeepAlive, routes, tenantProblems, widgetTenants } from './helpers';

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

  /** A Koa app: an error middleware that records what it sees, the body parser, the integration, and the test routes. */
  async function serve(options: KoaApartmentOptions, before?: (app: Koa) => void) {
    const app = new Koa();
    before?.(app);
    app.use(bodyParser());
    app.use(apartmentMiddleware(apartment, options));
    app.use(async (ctx) => {
      if (ctx.method === 'GET' && ctx.path === '/widgets') ctx.body = await routes.list(apartment, Widget, ctx.state.tenant, ctx.query.delay);
      else if (ctx.method === 'POST' && ctx.path === '/widgets') ctx.body = await routes.create(apartment, Widget, ctx.state.tenant, ctx.request.body as any);
      else if (ctx.path === '/whoami') ctx.body = routes.whoami(apartment);
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
    expect(none.text).to.match(/No tenant in this request/);
    expect(unknown.text).to.match(/Tenant 'nope' does not exist/);
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
});
