// app.js: the quick start in CommonJS, a whole app in one file. Run by test/examples/readme-snippets.test.ts.
'use strict';
const path = require('node:path');
const express = require('express');
const { Sequelize, DataTypes } = require('sequelize');
const { Apartment } = require('sequelize-apartment');

const sequelize = new Sequelize(process.env.DATABASE_URL, { logging: false });
const Note = sequelize.define('Note', { body: DataTypes.TEXT }, { tableName: 'notes' });
const apartment = new Apartment(sequelize, {
  migrationsPath: path.join(__dirname, 'tenant-migrations'), // absolute: works whatever folder node starts in
});

const app = express();
app.use(apartment.middleware({ resolve: 'subdomain' })); // acme.example.com -> 'acme'
app.get('/notes', async (_req, res) => {
  res.json(await Note.findAll()); // this request's tenant only
});

async function main() {
  if (!(await apartment.exists('acme'))) {
    await apartment.createTenant('acme'); // CREATE SCHEMA tenant_acme, then the tenant migrations
    await apartment.run('acme', () => Note.create({ body: 'hello from acme' }));
  }
  const server = app.listen(process.env.PORT || 3000, () => {
    console.log(`listening on http://localhost:${server.address().port}`);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
