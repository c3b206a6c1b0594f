import { expect } from 'chai';
import { DataTypes } from 'sequelize';
import { main } from '../../examples/readme/concepts';
import { describeDialects } from '../support/dialects';

describeDialects("README 'Concepts' snippets", (d) => {
  before(async () => {
    await d.dropAll('tenant_acme');
    await d.dropAll('tenant_globex');
    if (d.citus) {
      // The one step Citus adds (README "Scale out with Citus"): the shared table tenant tables reference is a reference table.
      const s = d.sequelize();
      s.define('Account', { name: DataTypes.STRING }, { tableName: 'accounts' });
      await s.sync();
      await s.query("SELECT create_reference_table('public.accounts')");
    }
  });
  after(async () => {
    await d.dropAll('tenant_acme');
    await d.dropAll('tenant_globex');
    const s = d.sequelize();
    await s.query('DROP TABLE IF EXISTS accounts');
  });

  it('run as written and do what the README says', async () => {
    const seen = await main(d.sequelize());
    expect(seen).to.deep.equal({
      schema: 'tenant_acme',
      widgets: [['gear', ['blue'], 'Acme Inc.']],
      strict: true,
      bound: 'acme',
      cross: true,
      raw: [{ name: 'gear v2' }],
      globex: ['cog'],
    });
  });
});
