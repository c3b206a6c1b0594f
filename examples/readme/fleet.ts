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

/** The guide's drift example. */
export async function drift(apartment: Apartment): Promise<boolean> {
  // #region drift
  const report = await apartment.drift({ skipTenants: ['legacy'] });
  for (const tenant of report.drifted) {
    for (const d of tenant.differences) console.log(`${tenant.tenant}: ${d.kind} ${d.table}.${d.name ?? ''} expected ${d.expected}, found ${d.actual}`);
  }
  // #endregion drift
  return report.drifted.length === 0;
}

/** The guide's doctor example. */
export async function doctor(apartment: Apartment): Promise<boolean> {
  // #region doctor
  const { ok, findings } = await apartment.doctor();
  for (const f of findings) console.log(`${f.level} ${f.code}: ${f.message}\n  fix: ${f.fix}`);
  // #endregion doctor
  return ok;
}
