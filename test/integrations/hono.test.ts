import { expect } from 'chai';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AddressInfo } from 'node:net';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { Apartment, ApartmentError, ConfigurationError } from 'sequelize-apartment';
import { apartmentMiddleware, type HonoApartmentOptions } from 'sequelize-apartment/hono';
import { describeDialects } from '../support/dialects';
import { request as send } from '../http/helpers';
import { expectNoApiAdvice, interleavedGets, interleavedPosts, noLeakOnKeepAlive, routes, suspendedTenant, tenantProblems, widgetTenants } from './helpers';

/** The shared integration suite on Hono 4, served by @hono/node-server as apps do. */
describeDialects('hono middleware', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Widget: ModelStatic<Model>;
  const open: Array<{ close(): Promise<void> }> = [];

  before(async () => {
    await d.dropAll('hono_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: 'hono_', migrationsPath: false });
    Widget = await widgetTenants(apartment, sequelize);
  });
  after(() => d.dropAll('hono_'));
  afterEach(async () => {
    for (const server of open.splice(0)) await server.close();
  });

  /** A Hono app with the integration and the test routes, on @hono/node-server. */
  async function serveApp(options: HonoApartmentOptions, configure?: (app: Hono) => void) {
    const app = new Hono();
    configure?.(app);
    app.use(apartmentMiddleware(apartment, options));
    app.get('/widgets', async (c) => c.json(await routes.list(apartment, Widget, c.get('tenant'), c.req.query('delay'))));
    app.post('/widgets', async (c) => c.json(await routes.create(apartment, Widget, c.get('tenant'), await c.req.json())));
    app.get('/whoami', (c) => c.json(routes.whoami(apartment)));
    app.get('/:tenant/where', (c) => c.json({ param: c.req.param('tenant'), tenant: apartment.current() ?? null, seen: c.get('tenant') ?? null }));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    const handle = {
      url: `http://127.0.0.1:${port}`,
      port,
      close: () => new Promise<void>((resolve) => {
        (server as import('node:http').Server).closeAllConnections();
        server.close(() => resolve());
      }),
    };
    open.push(handle);
    return handle;
  }

  it("hundreds of interleaved requests of two tenants, with random delays, each answered in its own tenant (c.get('tenant') set)", async () => {
    await interleavedGets((await serveApp({ resolve: 'header' })).url, 400);
  });

  it('POST with a JSON body read in the handler (await c.req.json()): the row lands in the request tenant', async () => {
    await interleavedPosts((await serveApp({ resolve: 'header' })).url, apartment, Widget, 200);
  });

  it("no tenant 400, unknown 404, malformed 404, repeated or listed header 400, as short JSON answers through Hono's HTTPException", async () => {
    const { url, port } = await serveApp({ resolve: 'header' });
    const { none, unknown, malformed, listed } = await tenantProblems(url, port);
    expect(none.json).to.deep.equal({ statusCode: 400, error: 'NoTenantError', message: 'This request names no tenant.' });
    expect(unknown.json).to.deep.equal({ statusCode: 404, error: 'TenantNotFoundError', message: "Unknown tenant 'nope'.", tenant: 'nope' });
    expect(malformed.json).to.deep.equal({ statusCode: 404, error: 'TenantNameError', message: 'Unknown tenant.' });
    expect(listed.json).to.include({ statusCode: 400, error: 'TenantNameError' });
    expectNoApiAdvice(none.text, unknown.text, malformed.text, listed.text);
  });

  it("a suspended tenant: a write to a read-only one 423, a closed one 503, before the handler runs, as short JSON answers", async () => {
    const { readOnly, closed } = await suspendedTenant((await serveApp({ resolve: 'header' })).url, apartment, Widget);
    expect(readOnly.json).to.deep.equal({ statusCode: 423, error: 'TenantSuspendedError', message: "Tenant 'beta' is read-only at the moment.", tenant: 'beta' });
    expect(closed.json).to.deep.equal({ statusCode: 503, error: 'TenantSuspendedError', message: "Tenant 'beta' is temporarily unavailable.", tenant: 'beta' });
    expectNoApiAdvice(readOnly.text, closed.text);
  });

  it('app.onError receives the HTTPException, with the ApartmentError (and its full message) as cause', async () => {
    const seen: unknown[] = [];
    const { url } = await serveApp({ resolve: 'header' }, (app) =>
      app.onError((err, c) => {
        seen.push(err);
        if (err instanceof HTTPException && err.cause instanceof ApartmentError) return c.json({ mine: err.cause.name, status: err.status }, err.status);
        return c.text('other', 500);
      }),
    );
    const res = await send(`${url}/whoami`, { headers: { 'x-tenant': 'nope' } });
    expect(res.status).to.equal(404);
    expect(res.json).to.deep.equal({ mine: 'TenantNotFoundError', status: 404 });
    expect((seen[0] as HTTPException).cause).to.have.property('message').that.matches(/Tenant 'nope' does not exist\. .*createTenant\('nope'\)/);
  });

  it('the context does not leak into the next request on the same keep-alive connection', async () => {
    await noLeakOnKeepAlive((await serveApp({ resolve: 'header', optional: true })).url);
  });

  it('subdomain, path (declared in the routes) and a function of c', async () => {
    const byHost = await serveApp({ resolve: 'subdomain' });
    expect((await send(`${byHost.url}/whoami`, { headers: { host: 'beta.example.com:3000' } })).json).to.deep.equal({ tenant: 'beta' });
    const byPath = await serveApp({ resolve: 'path' });
    expect((await send(`${byPath.url}/acme/where`)).json).to.deep.equal({ param: 'acme', tenant: 'acme', seen: 'acme' });
    expect((await send(`${byPath.url}/nope/where`)).status).to.equal(404);
    const byFunction = await serveApp({ resolve: (c) => c.req.query('t') });
    expect((await send(`${byFunction.url}/whoami?t=acme`)).json).to.deep.equal({ tenant: 'acme' });
  });

  it('refuses a missing apartment and bad options with ConfigurationError', () => {
    expect(() => apartmentMiddleware({} as any)).to.throw(ConfigurationError);
    expect(() => apartmentMiddleware(apartment, { resolve: 'cookie' as any })).to.throw(ConfigurationError);
  });
});
