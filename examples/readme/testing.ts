import { after, before, beforeEach, it } from 'mocha';
import type { Apartment } from 'sequelize-apartment';
import { expectIsolated, isolationReport, settle, testTenant, type TestTenant } from 'sequelize-apartment/testing';

/** docs/reference/testing.md's example, type-checked with the rest of examples/. */
export function widgetTests(apartment: Apartment, listWidgets: () => Promise<unknown[]>): void {
  // #region kit
  let tenant: TestTenant;
  before(async () => {
    tenant = await testTenant(apartment, { seed: true }); // one per test file
  });
  beforeEach(() => tenant.reset()); // every table emptied, seeders run again
  after(async () => {
    await tenant.drop();
    await settle(apartment); // the kit's background work, before sequelize.close()
  });

  it('lists the seeded widget', () => tenant.run(async () => (await listWidgets()).length));
  it('never reads another tenant', () => expectIsolated(apartment, () => listWidgets()));
  // #endregion kit
}

/** docs/guides/testing.md's isolationReport example. */
export async function report(apartment: Apartment, listWidgets: () => Promise<unknown[]>): Promise<void> {
  // #region report
  const report = await isolationReport(apartment, () => listWidgets());
  for (const finding of report.findings) {
    if (finding.kind === 'other-tenant') console.log(`reached ${report.other}: ${finding.sql}`);
  }
  // report: { tenant, other, statements, findings, marked: ['widgets'], unmarked: [], value }
  // #endregion report
}
