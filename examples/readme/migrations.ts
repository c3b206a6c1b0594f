import type { Sequelize } from 'sequelize';
import { Apartment, MigrationError, type MigrationResult } from 'sequelize-apartment';

/** The README's tenant-migration examples, run by test/migrations/readme.test.ts. */
export async function main(sequelize: Sequelize, prefix: string): Promise<Record<string, unknown>> {
  // #region setup
  const apartment = new Apartment(sequelize, {
    prefix,
    migrationsPath: 'examples/readme/migrations', // default: 'tenant-migrations'
  });
  // #endregion setup

  // #region create
  // CREATE SCHEMA (or DATABASE) + every tenant migration, in one go
  const created = await apartment.createTenant('acme');
  // { ok: true, tenant: 'acme', schema: 'tenant_acme',
  //   versions: ['20260101120000-create-widgets.js', '20260102090000-add-widget-color.js'] }
  // #endregion create
  await apartment.createTenant('globex');

  // #region one
  // Revert back to and including a version, then apply everything again
  await apartment.migrateTenant('acme', { direction: 'down', to: '20260102090000' });
  const status = await apartment.migrationStatus('acme');
  // { executed: ['20260101120000-create-widgets.js'], pending: ['20260102090000-add-widget-color.js'] }
  const up = await apartment.migrateTenant('acme'); // direction: 'up', every pending one
  // #endregion one

  // #region all
  const results = await apartment.migrateAll({
    concurrency: 4, // default: what the connection pool fits
    onProgress: (r: MigrationResult) => console.log(r.tenant, r.ok ? r.versions : r.error.message),
  });
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) process.exitCode = 1;
  // #endregion all

  // #region errors
  try {
    await apartment.createTenant('initech');
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    // The tenant was not created; error.migration names the file,
    // error.cause is what the migration threw, error.result the MigrationResult.
    console.error(error.message);
  }
  // #endregion errors

  return { apartment, created, status, up, results, failed };
}
