import type { Apartment } from 'sequelize-apartment';

/** docs/guides/running-a-fleet.md's example, type-checked with the rest of examples/. */
export async function main(apartment: Apartment): Promise<unknown> {
  // #region waves
  const results = await apartment.migrateAll({
    canary: ['internal', 'demo'],
    waveSize: 200,
    maxFailures: '1%',
    skipTenants: ['legacy'],
    onWave: (wave) => console.log(`wave ${wave.index}: ${wave.failed.length} of ${wave.tenants.length} failed`),
    ledger: true,
  });
  // #endregion waves
  return results;
}
