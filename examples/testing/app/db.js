'use strict';
// The app under test: one Sequelize instance, one Apartment, one tenant model.
const path = require('node:path');
const { Sequelize, DataTypes } = require('sequelize');
const { Apartment } = require('sequelize-apartment');

const sequelize = new Sequelize(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', { logging: false });
const Widget = sequelize.define('Widget', { name: DataTypes.STRING }, { tableName: 'widgets' });
const apartment = new Apartment(sequelize, {
  prefix: 'example_',
  migrationsPath: path.join(__dirname, 'tenant-migrations'),
  seedersPath: path.join(__dirname, 'tenant-seeders'),
});

module.exports = { sequelize, apartment, Widget };
