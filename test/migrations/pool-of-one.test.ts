import { expect } from 'chai';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { fixture } from '../support/paths';

// The embedded demo database and small deployments run with one connection:
// the migration lock must not hold the only connection the migrations need.
describeDialects('migrations with a pool of one connection', (d) => {
  before(() => d.dropAll('migone_'));
  after(() => d.dropAll('migone_'));

  it('createTenant, migrateTenant and migrateAll finish instead of waiting forever', async () => {
    const sequelize = d.sequelize({ pool: { max: 1, acquire: 10_000 } });
    const apartment = new Apartment(sequelize, { prefix: 'migone_', migrationsPath: fixture('migrations', 'basic') });
    const created = await apartment.createTenant('a');
    expect(created.ok).to.equal(true);
    expect((created as any).versions).to.have.length.greaterThan(0);
    const down = await apartment.migrateTenant('a', { direction: 'down' });
    expect(down.ok).to.equal(true);
    const all = await apartment.migrateAll();
    expect(all.map((r) => [r.tenant, r.ok])).to.deep.equal([['a', true]]);
    expect((await apartment.migrationStatus('a')).pending).to.deep.equal([]);
  });
});
