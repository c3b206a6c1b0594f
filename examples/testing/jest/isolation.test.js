'use strict';
const { expectIsolated, settle, testTenant } = require('sequelize-apartment/testing');
const { apartment, sequelize, Widget } = require('../app/db');
const { widgetNames } = require('../app/widgets');

let tenant;
beforeAll(async () => {
  tenant = await testTenant(apartment, { seed: true });
});
beforeEach(() => tenant.reset());
afterAll(async () => {
  await tenant.drop();
  await settle(apartment);
  await sequelize.close();
});

test('renames the seeded widget', () =>
  tenant.run(async () => {
    await Widget.update({ name: 'hello' }, { where: { name: 'welcome' } });
    expect(await widgetNames()).toEqual(['hello']);
  }));

test('finds the seeded widget again', () => tenant.run(async () => expect(await widgetNames()).toEqual(['welcome'])));

test('lists only its own tenant', () => expectIsolated(apartment, () => widgetNames()));
