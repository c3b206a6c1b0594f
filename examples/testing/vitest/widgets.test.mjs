import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { settle, testTenant } from 'sequelize-apartment/testing';
import { createRequire } from 'node:module';

// The app is CommonJS: load it with require, as its own modules load each other, so that
// this file and the app share one copy of it (an import would load a second one).
const require = createRequire(import.meta.url);
const { apartment, sequelize } = require('../app/db.js');
const { addWidget, widgetNames } = require('../app/widgets.js');

// #region file
// Vitest runs every test file in a fresh module graph: each file has its own pool.
let tenant;
beforeAll(async () => {
  tenant = await testTenant(apartment, { seed: true }); // this file's own tenant (VITEST_POOL_ID is in its name)
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
