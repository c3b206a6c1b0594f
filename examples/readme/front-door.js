// app.js: the README's example in CommonJS. Run: DATABASE_URL=postgres://... node app.js
const express = require('express');
const { Sequelize, DataTypes } = require('sequelize');
const { Apartment } = require('sequelize-apartment');

const sequelize = new Sequelize(process.env.DATABASE_URL, { logging: false });
const Note = sequelize.define('Note', { body: DataTypes.TEXT }, { tableName: 'notes' });
const apartment = new Apartment(sequelize, { migrationsPath: `${__dirname}/tenant-migrations` });

const app = express();
app.use(apartment.middleware({ resolve: 'subdomain' })); // acme.example.com -> 'acme'
app.get('/notes', async (_req, res) => res.json(await Note.findAll())); // this request's tenant only

(async () => {
  if (!(await apartment.exists('acme'))) await apartment.createTenant('acme'); // schema + tenant migrations
  await apartment.run('acme', () => Note.create({ body: 'hello from acme' })); // INSERT INTO tenant_acme.notes
  const server = app.listen(process.env.PORT || 3000, () => console.log(`listening on http://localhost:${server.address().port}`));
})();
