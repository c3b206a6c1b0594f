'use strict';
const assert = require('node:assert/strict');
const { testTenant } = require('sequelize-apartment/testing');
const { apartment } = require('../app/db');
const { addWidget, widgetNames } = require('../app/widgets');

// #region file
describe('widgets', () => {
  let tenant;
  before(async () => {
    tenant = await testTenant(apartment, { seed: true }); // this file's own tenant, migrated and seeded
  });
  beforeEach(() => tenant.reset()); // every test starts from the seeded state
  after(() => tenant.drop());

  it('adds a widget next to the seeded one', () =>
    tenant.run(async () => {
      const widget = await addWidget('gear');
      assert.equal(widget.id, 2);
      assert.deepEqual(await widgetNames(), ['welcome', 'gear']);
    }));

  it('starts every test from the seeded state', () =>
    tenant.run(async () => {
      assert.deepEqual(await widgetNames(), ['welcome']); // the gear is gone
      assert.equal((await addWidget('cog')).id, 2); // identities restarted
    }));
});
// #endregion file
