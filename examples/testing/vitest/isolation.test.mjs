import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { expectIsolated, settle, testTenant } from 'sequelize-apartment/testing';
import { createRequire } from 'node:module';

// The app is CommonJS: load it with require, as its own modules load each other, so that
// this file and the app share one copy of it (an import would load a second one).
const require = createRequire(import.meta.url);
const { apartment, sequelize, Widget } = require('../app/db.js');
const { widgetNames } = require('../app/widgets.js');

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
