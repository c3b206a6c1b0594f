import express from 'express';
import { DataTypes, type Sequelize } from 'sequelize';
import { Apartment } from 'sequelize-apartment';

/** The README's 15-line example, run on every dialect by test/examples/readme-snippets.test.ts. */
export async function frontDoor(sequelize: Sequelize, migrationsPath: string) {
  // #region example
  const Note = sequelize.define('Note', { body: DataTypes.TEXT }, { tableName: 'notes' });
  const apartment = new Apartment(sequelize, { migrationsPath }); // default 'tenant-migrations'

  await apartment.createTenant('acme'); // CREATE SCHEMA tenant_acme, then every tenant migration
  await apartment.run('acme', () => Note.create({ body: 'hello from acme' })); // INSERT INTO tenant_acme.notes

  const app = express();
  app.use(apartment.middleware({ resolve: 'subdomain' })); // acme.example.com -> 'acme'
  app.get('/notes', async (_req, res) => {
    res.json(await Note.findAll()); // this request's tenant only
  });
  // #endregion example
  return { apartment, app };
}
