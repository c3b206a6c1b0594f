import { expect } from 'chai';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { Apartment, ApartmentError, type MiddlewareOptions } from 'sequelize-apartment';
import { apartmentErrorHandler, apartmentMiddleware } from 'sequelize-apartment/express';
import { describeDialects } from '../support/dialects';
import { EXPRESSES, listen, request as send } from '../http/helpers';
import { expectNoApiAdvice, interleavedGets, interleavedPosts, noLeakOnKeepAlive, routes, suspendedTenant, tenantProblems, widgetTenants } from './helpers';

/**
 * The shared integration suite (./helpers) against Express 4 and 5, through
 * `apartment.middleware()` and the `sequelize-apartment/express` subpath.
 * Express has no tenant field of its own: `seen` is the tenant the route
 * saw when it started. Finer Express behaviour is in test/http/middleware.test.ts.
 */
describeDialects('express middleware, the shared integration suite', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Widget: ModelStatic<Model>;
  const open: Array<{ close(): Promise<void> }> = [];

  before(async () => {
    await d.dropAll('ex_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: 'ex_', migrationsPath: false });
    Widget = await widgetTenants(apartment, sequelize);
  });
  after(() => d.dropAll('ex_'));
  afterEach(async () => {
    for (const server of open.splice(0)) await server.close();
  });

  for (const { version, express } of EXPRESSES) {
    for (const [how, middleware] of [
      ['apartment.middleware()', (options: MiddlewareOptions) => apartment.middleware(options)],
      ["'sequelize-apartment/express'", (options: MiddlewareOptions) => apartmentMiddleware(apartment, options)],
    ] as const) {
      describe(`${version}, ${how}`, () => {
        async function serve(options: MiddlewareOptions) {
          const app = express();
          app.use(middleware(options));
          app.use(express.json()); // after the middleware: the body is read inside the context
          // Express 4 does not pass a rejected handler's error on by itself.
          const json = (fn: (req: any) => Promise<unknown>) => (req: any, res: any, next: (e: unknown) => void) => {
            fn(req).then((body) => res.json(body), next);
          };
          app.get('/widgets', json((req) => routes.list(apartment, Widget, apartment.current(), req.query.delay)));
          app.post('/widgets', json((req) => routes.create(apartment, Widget, apartment.current(), req.body)));
          app.get('/whoami', (_req, res) => {
            res.json(routes.whoami(apartment));
          });
          app.use((error: unknown, _req: any, res: any, next: (e: unknown) => void) => {
            if (!(error instanceof ApartmentError)) return next(error);
            res.status(error.status).json({ error: error.name, message: error.message, tenant: error.tenant });
          });
          const server = await listen(app);
          open.push(server);
          return server;
        }

        it('hundreds of interleaved requests of two tenants, with random delays, each answered in its own tenant', async () => {
          await interleavedGets((await serve({ resolve: 'header' })).url, 400);
        });

        it('POST with a JSON body (express.json() after the middleware): the row lands in the request tenant', async () => {
          await interleavedPosts((await serve({ resolve: 'header' })).url, apartment, Widget, 200);
        });

        it('no tenant 400, unknown 404, malformed 404, repeated header 400', async () => {
          const { url, port } = await serve({ resolve: 'header' });
          const { none, unknown, malformed } = await tenantProblems(url, port);
          expect(none.json).to.include({ error: 'NoTenantError' });
          expect(unknown.json).to.include({ error: 'TenantNotFoundError', tenant: 'nope' });
          expect(malformed.json).to.include({ error: 'TenantNameError' });
        });

        it('the context does not leak into the next request on the same keep-alive connection', async () => {
          await noLeakOnKeepAlive((await serve({ resolve: 'header', optional: true })).url);
        });

        it('a suspended tenant: a write to a read-only one 423, a closed one 503, before the route runs', async () => {
          const { readOnly, closed } = await suspendedTenant((await serve({ resolve: 'header' })).url, apartment, Widget);
          expect(readOnly.json).to.include({ error: 'TenantSuspendedError', tenant: 'beta' });
          expect(closed.json).to.include({ error: 'TenantSuspendedError', tenant: 'beta' });
        });
      });
    }

    it(`${version}, apartmentErrorHandler(): ApartmentErrors answered with their status and a short client message, anything else passed on to the app's catch-all`, async () => {
      const app = express();
      app.use(apartmentMiddleware(apartment, { resolve: 'header', optional: true }));
      app.get('/widgets', (_req, res, next) => {
        Widget.findAll().then((rows) => res.json(rows.length), next); // strict: no tenant, NoTenantError
      });
      app.get('/boom', (_req, _res, next) => next(new Error('not ours')));
      app.use(apartmentErrorHandler());
      // The catch-all of the app from the issue: it turned tenant errors into 500s with developer advice.
      app.use((error: any, _req: any, res: any, _next: unknown) => {
        res.status(500).json({ catchAll: String(error.message) });
      });
      const server = await listen(app);
      open.push(server);
      const unknown = await send(`${server.url}/widgets`, { headers: { 'x-tenant': 'nosuch' } });
      expect(unknown.status).to.equal(404);
      expect(unknown.json).to.deep.equal({ statusCode: 404, error: 'TenantNotFoundError', message: "Unknown tenant 'nosuch'.", tenant: 'nosuch' });
      const noTenant = await send(`${server.url}/widgets`);
      expect(noTenant.status).to.equal(400);
      expect(noTenant.json).to.include({ statusCode: 400, error: 'NoTenantError' });
      const listed = await send(`${server.url}/widgets`, { headers: { 'x-tenant': 'acme, beta' } });
      expect(listed.status).to.equal(400);
      await apartment.suspendTenant('beta');
      try {
        const closed = await send(`${server.url}/widgets`, { headers: { 'x-tenant': 'beta' } });
        expect([closed.status, closed.json]).to.deep.equal([503, { statusCode: 503, error: 'TenantSuspendedError', message: "Tenant 'beta' is temporarily unavailable.", tenant: 'beta' }]);
        expectNoApiAdvice(unknown.text, noTenant.text, listed.text, closed.text);
      } finally {
        await apartment.resumeTenant('beta');
      }
      const other = await send(`${server.url}/boom`);
      expect([other.status, other.json]).to.deep.equal([500, { catchAll: 'not ours' }]);
      expect((await send(`${server.url}/widgets`, { headers: { 'x-tenant': 'acme' } })).json).to.be.a('number');
    });
  }
});
