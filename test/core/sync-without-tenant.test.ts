import { expect } from 'chai';
import { DataTypes, type Sequelize } from 'sequelize';
import { Apartment, NoTenantError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';

/**
 * A start-up `sequelize.sync()` with tenant models and no tenant (issue 22,
 * what a real app hit): the error says that tenant tables come from
 * migrations, and which command writes one from the models.
 */
describeDialects('sequelize.sync() without a tenant', (d) => {
  let sequelize: Sequelize;

  before(async () => {
    await d.dropAll('syncnt_');
    sequelize = d.sequelize();
    new Apartment(sequelize, { prefix: 'syncnt_', migrationsPath: false });
    sequelize.define('Gadget', { name: DataTypes.STRING }, { tableName: 'gadgets' });
  });
  after(() => d.dropAll('syncnt_'));

  it('is refused with NoTenantError pointing at `apartment migration:generate --from-models`; nothing is created', async () => {
    const error = await sequelize.sync().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(NoTenantError);
    expect((error as Error).message).to.match(/^Gadget\.sync\(\) needs a tenant and none is set \(strict mode\): tenant tables are created by tenant migrations/);
    expect((error as Error).message).to.contain('`apartment migration:generate --from-models`');
    expect(await d.tables(d.defaultSchema)).to.not.include('gadgets');
  });

  it('other operations keep the run-inside-apartment.run advice', async () => {
    const error = await sequelize.models.Gadget.findAll().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).to.contain('Run it inside apartment.run(tenant, fn)');
  });
});
