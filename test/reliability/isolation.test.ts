import { runPrefix } from './stress';
import { expect } from 'chai';
import { describeDialects } from '../support/dialects';
import { catchingUnhandled, createStressTenants, expectSound, dropStressShared, installStress, poolState, runStress, type StressSetup } from './stress';

const OPS = Number(process.env.STRESS_OPS || 0) || 2000;
const TENANTS = Number(process.env.STRESS_TENANTS || 0) || 50;

describeDialects('reliability: isolation under load', (d) => {
  let setup: StressSetup | undefined;
  const prefix = runPrefix('rel_iso');

  before(async function () {
    this.timeout(120_000);
    await d.dropAll(prefix);
    const sequelize = d.sequelize({ pool: { max: 10, min: 0, idle: 10_000, acquire: 60_000 } });
    setup = await createStressTenants(installStress(sequelize, prefix), TENANTS);
  });

  after(async function () {
    this.timeout(120_000);
    if (setup) await dropStressShared(setup);
    await d.dropAll(prefix);
  });

  it(`${TENANTS} tenants, ${OPS} mixed operations at concurrency 50 on a pool of 10: zero foreign rows, zero lost writes, no leak`, async function () {
    this.timeout(Math.max(120_000, OPS * 20));
    const { result: report, unhandled } = await catchingUnhandled(() => runStress(setup!, { ops: OPS, concurrency: 50 }));
    console.log(`      [${d.name}] ${report.ops} ops in ${report.durationMs} ms, ${report.reads} reads, ${report.rowsChecked} rows checked, ${report.foreignRows} foreign, ${report.lostWrites} lost, ${report.failed} failed`);
    expectSound(report, OPS);
    for (const op of Object.keys(report.byOp)) expect(report.byOp[op], op).to.be.greaterThan(0);
    expect(Object.keys(report.byOp)).to.have.length(12);
    expect(unhandled).to.deep.equal([]);

    // The pool is back to idle: nothing in use, nobody waiting, every open connection available.
    const pool = poolState(setup!.sequelize);
    expect(pool.using, 'connections in use').to.equal(0);
    expect(pool.waiting, 'acquirers waiting').to.equal(0);
    expect(pool.available, 'idle connections').to.equal(pool.size);
    expect(pool.size).to.be.at.most(10);
  });
});
