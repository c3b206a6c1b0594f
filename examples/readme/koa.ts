import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import type { Model, ModelStatic } from 'sequelize';
import type { Apartment } from 'sequelize-apartment';
import { apartmentMiddleware } from 'sequelize-apartment/koa';

/** The README's Koa setup, run by test/examples/integrations.test.ts. */
export function koaApp(apartment: Apartment, Note: ModelStatic<Model>) {
  // #region setup
  const app = new Koa();
  app.use(bodyParser());
  app.use(apartmentMiddleware(apartment, { resolve: 'subdomain' })); // ctx.state.tenant === 'acme'
  app.use(async (ctx) => {
    ctx.body = ctx.method === 'POST' ? await Note.create(ctx.request.body as { body: string }) : await Note.findAll();
  });
  // #endregion setup
  return app;
}
