'use strict';
const assert = require('node:assert/strict');
const { after, before, beforeEach, test } = require('node:test');
const { expectIsolated, settle, testTenant } = require('sequelize-apartment/testing');
const { apartment, sequelize, Widget } = require('../app/db');
const { widgetNames } = require('../app/widgets');

let tenant;
before(async () => {
  tenant = await testTenant(apartment, { seed: true });
});
beforeEach(() => tenant.reset());
after(async () => {
  await tenant.drop();
  await settle(apartment);
  await sequelize.close();
});

test('renames the seeded widget', () =>
  tenant.run(async () => {
    await Widget.update({ name: 'hello' }, { where: { name: 'welcome' } });
    assert.deepEqual(await widgetNames(), ['hello']);
  }));

test('finds the seeded widget again', () => tenant.run(async () => assert.deepEqual(await widgetNames(), ['welcome'])));

test('lists only its own tenant', () => expectIsolated(apartment, () => widgetNames()));
