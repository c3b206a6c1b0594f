import { DataTypes, type Sequelize } from 'sequelize';
import { Apartment } from 'sequelize-apartment';

/** The README's "Scale out with Citus" guide, run against a real cluster by test/citus/readme.test.ts (when CITUS_URL is set). */
export async function scaleOut(sequelize: Sequelize, { prefix = 'tenant_', migrationsPath = 'tenant-migrations' } = {}) {
  // #region setup
  // sequelize is connected to the Citus coordinator
  const Account = sequelize.define('Account', { name: DataTypes.STRING }, { tableName: 'accounts' });
  const apartment = new Apartment(sequelize, {
    distribute: 'citus', // every tenant schema is created distributed (on one worker)
    sharedModels: ['Account'],
    prefix,
    migrationsPath,
  });

  await Account.sync();
  await apartment.citus.reference(Account); // once: tenant tables may now reference accounts
  // #endregion setup

  // #region operate
  await apartment.createTenant('acme'); // CREATE SCHEMA (distributed) + tenant migrations, one transaction
  const where = await apartment.placement('acme'); // { host: '10.0.0.2', port: 5432 }
  const other = (await apartment.placements()).get('acme'); // every tenant at once
  // #endregion operate
  return { apartment, where, other };
}

/** Moves a tenant to another worker (kept apart: the test picks the target). */
export async function move(apartment: Apartment, host: string, port: number) {
  // #region move
  await apartment.moveTenant('acme', { host, port }); // online: citus_schema_move
  // #endregion move
}
