import express from 'express';
import { DataTypes, type Sequelize } from 'sequelize';
import { Apartment } from 'sequelize-apartment';

/** The README's quick start, run end to end on both dialects by test/examples/readme-snippets.test.ts. */
export async function quickstart(sequelize: Sequelize, { prefix = 'tenant_', migrationsPath = 'tenant-migrations' } = {}) {
  // #region setup
  const Note = sequelize.define('Note', { body: DataTypes.TEXT }, { tableName: 'notes' });

  const apartment = new Apartment(sequelize, {
    prefix, //         default 'tenant_': tenant 'acme' lives in schema (MySQL: database) tenant_acme
    migrationsPath, // default 'tenant-migrations': run in every new tenant
  });
  // #endregion setup

  // #region tenants
  await apartment.createTenant('acme'); // CREATE SCHEMA tenant_acme, then the tenant migrations
  await apartment.createTenant('globex');

  await apartment.run('acme', async () => {
    await Note.create({ body: 'hello from acme' }); // INSERT INTO tenant_acme.notes
  });
  const globexNotes = await apartment.run('globex', () => Note.findAll()); // [] (tenant_globex.notes)
  // #endregion tenants

  // #region middleware
  const app = express();
  app.use(apartment.middleware({ resolve: 'subdomain' })); // acme.example.com -> 'acme'
  app.get('/notes', async (_req, res) => {
    res.json(await Note.findAll()); // this request's tenant only
  });
  // #endregion middleware

  return { apartment, app, globexNotes };
}
