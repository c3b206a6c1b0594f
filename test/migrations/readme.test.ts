import { expect } from 'chai';
import { main } from '../../examples/readme/migrations';
import { describeDialects } from '../support/dialects';
import { Catalog } from './catalog';

describeDialects('README: tenant migrations examples', (d) => {
  before(() => d.dropAll('migr_'));
  after(() => d.dropAll('migr_'));

  it('examples/readme/migrations.ts runs as the README says', async () => {
    const log = console.log;
    console.log = () => undefined;
    let out: Record<string, any>;
    try {
      out = await main(d.sequelize(), 'migr_');
    } finally {
      console.log = log;
    }
    const versions = ['20260101120000-create-widgets.js', '20260102090000-add-widget-color.js'];
    expect(out.created).to.deep.equal({ ok: true, tenant: 'acme', schema: 'migr_acme', versions });
    expect(out.status).to.deep.equal({ executed: [versions[0]], pending: [versions[1]] });
    expect(out.up.versions).to.deep.equal([versions[1]]);
    expect(out.results.map((r: any) => [r.tenant, r.ok])).to.deep.equal([['acme', true], ['globex', true]]);
    expect(out.failed).to.deep.equal([]);
    expect(process.exitCode ?? 0).to.equal(0);
    const catalog = new Catalog(d, d.sequelize());
    expect(await catalog.columns('migr_acme', 'widgets')).to.include('color');
    expect(await catalog.foreignKeys('migr_globex')).to.deep.equal(['widgets.ownerId -> migr_globex.users']);
    expect(await out.apartment.tenants()).to.deep.equal(['acme', 'globex', 'initech']);
  });
});
