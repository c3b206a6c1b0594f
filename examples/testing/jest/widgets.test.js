'use strict';
const { settle, testTenant } = require('sequelize-apartment/testing');
const { apartment, sequelize } = require('../app/db');
const { addWidget, widgetNames } = require('../app/widgets');

// #region file
// Jest loads the modules again for every test file: each file has its own pool.
let tenant;
beforeAll(async () => {
  tenant = await testTenant(apartment, { seed: true }); // this file's own tenant (JEST_WORKER_ID is in its name)
});
beforeEach(() => tenant.reset());
afterAll(async () => {
  await tenant.drop();
  await settle(apartment);
  await sequelize.close();
});

test('adds a widget next to the seeded one', () =>
  tenant.run(async () => {
    const widget = await addWidget('gear');
    expect(widget.id).toBe(2);
    expect(await widgetNames()).toEqual(['welcome', 'gear']);
  }));

test('starts every test from the seeded state', () =>
  tenant.run(async () => {
    expect(await widgetNames()).toEqual(['welcome']);
    expect((await addWidget('cog')).id).toBe(2);
  }));
// #endregion file
