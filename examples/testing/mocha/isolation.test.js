'use strict';
const assert = require('node:assert/strict');
const { expectIsolated, testTenant } = require('sequelize-apartment/testing');
const { apartment, Widget } = require('../app/db');
const { widgetNames } = require('../app/widgets');

// #region file
describe('widget isolation', () => {
  let tenant;
  before(async () => {
    tenant = await testTenant(apartment, { seed: true });
  });
  beforeEach(() => tenant.reset());
  after(() => tenant.drop());

  it('renames the seeded widget', () =>
    tenant.run(async () => {
      await Widget.update({ name: 'hello' }, { where: { name: 'welcome' } });
      assert.deepEqual(await widgetNames(), ['hello']);
    }));

  it('finds the seeded widget again', () => tenant.run(async () => assert.deepEqual(await widgetNames(), ['welcome'])));

  it('lists only its own tenant', () => expectIsolated(apartment, () => widgetNames()));
});
// #endregion file
