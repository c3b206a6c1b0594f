import { expect } from 'chai';
import { main } from '../../examples/readme/concepts';
import { describeDialects } from '../support/dialects';

describeDialects("README 'Concepts' snippets", (d) => {
  before(() => d.dropAll('tenant_acme').then(() => d.dropAll('tenant_globex')));
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
