import Fastify from 'fastify';
import type { Model, ModelStatic } from 'sequelize';
import type { Apartment } from 'sequelize-apartment';
import { apartmentPlugin } from 'sequelize-apartment/fastify';

/** The README's Fastify setup, run by test/examples/integrations.test.ts. */
export async function fastifyApp(apartment: Apartment, Note: ModelStatic<Model>) {
  // #region setup
  const app = Fastify();
  await app.register(apartmentPlugin, { apartment, resolve: 'subdomain' }); // acme.example.com -> 'acme'
  app.get('/notes', () => Note.findAll()); // this request's tenant only; request.tenant === 'acme'
  app.post('/notes', (request) => Note.create(request.body as { body: string })); // still in acme after the body
  // #endregion setup
  return app;
}
