'use strict';
const assert = require('node:assert/strict');
const { after, before, beforeEach, test } = require('node:test');
const { settle, testTenant } = require('sequelize-apartment/testing');
const { apartment, sequelize } = require('../app/db');
const { addWidget, widgetNames } = require('../app/widgets');

// #region file
// node --test runs every file in a process of its own: each file has its own pool.
let tenant;
before(async () => {
  tenant = await testTenant(apartment, { seed: true }); // this file's own tenant (its pid is in its name)
});
beforeEach(() => tenant.reset());
after(async () => {
  await tenant.drop();
  await settle(apartment);
  await sequelize.close();
});

test('adds a widget next to the seeded one', () =>
  tenant.run(async () => {
    const widget = await addWidget('gear');
    assert.equal(widget.id, 2);
    assert.deepEqual(await widgetNames(), ['welcome', 'gear']);
  }));

test('starts every test from the seeded state', () =>
  tenant.run(async () => {
    assert.deepEqual(await widgetNames(), ['welcome']);
    assert.equal((await addWidget('cog')).id, 2);
  }));
// #endregion file
