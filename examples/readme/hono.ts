import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Model, ModelStatic } from 'sequelize';
import type { Apartment } from 'sequelize-apartment';
import { apartmentMiddleware } from 'sequelize-apartment/hono';

/** The Hono guide's setup, run by test/examples/integrations.test.ts on @hono/node-server. */
export function honoApp(apartment: Apartment, Note: ModelStatic<Model>) {
  // #region setup
  const app = new Hono();
  app.use(apartmentMiddleware(apartment, { resolve: 'subdomain' })); // c.get('tenant') === 'acme'
  app.get('/notes', async (c) => c.json(await Note.findAll()));
  app.post('/notes', async (c) => c.json(await Note.create(await c.req.json<{ body: string }>()), 201));
  // #endregion setup
  // #region errors
  app.onError((err, c) => {
    // a tenant problem is an HTTPException (400/404) whose response is a short JSON answer;
    // err.cause is the ApartmentError, with the full message for the logs
    if (err instanceof HTTPException) return err.getResponse();
    console.error(err);
    return c.json({ error: 'Internal Server Error' }, 500);
  });
  // #endregion errors
  return app;
}
