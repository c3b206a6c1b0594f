import { expect } from 'chai';
import * as sinon from 'sinon';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { fixture } from '../support/paths';

describeDialects('migrationStatusAll', (d) => {
  before(() => d.dropAll('migsa_'));
  after(() => d.dropAll('migsa_'));

  it("reports every tenant's executed and pending migrations in a few statements", async () => {
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix: 'migsa_', migrationsPath: fixture('migrations', 'basic') });
    const keys = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const key of keys) await apartment.createTenant(key);
    await apartment.migrateTenant('t03', { direction: 'down' });
    const spy = sinon.spy(sequelize, 'query');
    const all = await apartment.migrationStatusAll().finally(() => spy.restore());
    const statements = spy.getCalls().map((call) => String(call.args[0]));
    expect(all.map((s) => s.tenant)).to.deep.equal(keys);
    const t03 = all.find((s) => s.tenant === 't03')!;
    expect(t03.schema).to.equal('migsa_t03');
    expect(t03.pending).to.have.length(1);
    const single = await apartment.migrationStatus('t03');
    expect({ executed: t03.executed, pending: t03.pending }).to.deep.equal(single);
    expect(all.filter((s) => s.pending.length === 0)).to.have.length(11);
    expect(statements.length, statements.join('\n')).to.be.at.most(4);
  });
});
