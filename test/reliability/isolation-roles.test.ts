import { expect } from 'chai';
import { QueryTypes, Sequelize } from 'sequelize';
import { CrossTenantError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { createLoginRole, type LoginRole } from '../support/login-role';
import { connect } from '../support/servers';
import { catchingUnhandled, createStressTenants, dropStressShared, expectSound, installStress, poolState, runPrefix, runStress, type StressSetup } from './stress';

const OPS = Number(process.env.STRESS_OPS || 0) || 2000;
const TENANTS = Number(process.env.STRESS_TENANTS || 0) || 50;
/** One deliberately mis-qualified statement every FAULT_EVERY operations. */
const FAULT_EVERY = 50;

/** What an injected routing fault gave back: refused as it must be, or answered (a leak). */
interface FaultTally {
  injected: number;
  refused: number;
  answered: string[];
  wrongError: string[];
  byPath: Record<string, number>;
}

describeDialects("reliability: isolation under load with isolation: 'role' and injected routing faults", (d) => {
  const prefix = runPrefix('rel_role');
  let login: LoginRole;
  let superuser: Sequelize;
  let setup: StressSetup | undefined;

  before(async function () {
    this.timeout(300_000);
    login = await createLoginRole();
    superuser = connect('postgres', { pool: { max: 2 } });
    const app = new Sequelize(login.url, { logging: false, pool: { max: 10, min: 0, idle: 10_000, acquire: 60_000 } });
    setup = { ...(await createStressTenants(installStress(app, prefix, { isolation: 'role' }), TENANTS)), verifyWith: superuser };
  });

  after(async function () {
    this.timeout(120_000);
    if (setup) {
      await dropStressShared(setup);
      await setup.sequelize.close();
    }
    await superuser?.close();
    await login?.drop(prefix);
  });

  it(`${TENANTS} tenants, ${OPS} mixed operations at concurrency 50 on a pool of 10, a mis-qualified statement every ${FAULT_EVERY}: zero foreign rows, every fault refused`, async function () {
    this.timeout(Math.max(300_000, OPS * 40));
    const { sequelize, apartment, models, tenants } = setup!;
    const { Widget, Tag } = models;
    const tally: FaultTally = { injected: 0, refused: 0, answered: [], wrongError: [], byPath: {} };
    const q = (name: string) => `"${name}"`;
    // Each reaches tenant `other`'s widgets from inside tenant `tenant`, the way a routing mistake would.
    const paths: Record<string, (other: string) => Promise<unknown>> = {
      raw: (other) => sequelize.query(`SELECT id, owner FROM ${q(apartment.schemaFor(other))}.widgets LIMIT 5`, { type: QueryTypes.SELECT }),
      'raw bind': (other) => sequelize.query(`SELECT id, owner FROM ${q(apartment.schemaFor(other))}.widgets WHERE qty >= $1 LIMIT 5`, { type: QueryTypes.SELECT, bind: [0] }),
      literal: (other) => Widget.findAll({ where: sequelize.literal(`id IN (SELECT id FROM ${q(apartment.schemaFor(other))}.widgets)`), limit: 5 }),
      'Model.schema()': (other) => (Widget as any).schema(apartment.schemaFor(other)).findAll({ limit: 5 }),
      include: (other) => Tag.findAll({ include: [{ model: (Widget as any).schema(apartment.schemaFor(other)) }], limit: 5 }),
      'raw write': (other) => sequelize.query(`UPDATE ${q(apartment.schemaFor(other))}.widgets SET qty = qty + 1`),
      transaction: (other) =>
        sequelize.transaction(async (transaction) => {
          await Widget.count({ transaction });
          return sequelize.query(`SELECT id FROM ${q(apartment.schemaFor(other))}.widgets LIMIT 5`, { type: QueryTypes.SELECT, transaction });
        }),
    };
    const names = Object.keys(paths);
    const inject = async () => {
      const tenant = tenants[Math.floor(Math.random() * tenants.length)]!;
      let other = tenant;
      while (other === tenant) other = tenants[Math.floor(Math.random() * tenants.length)]!;
      const name = names[tally.injected % names.length]!;
      tally.injected += 1;
      tally.byPath[name] = (tally.byPath[name] ?? 0) + 1;
      try {
        const answer = await apartment.run(tenant, () => paths[name]!(other));
        tally.answered.push(`${name}: ${tenant} -> ${other} answered ${JSON.stringify(answer).slice(0, 120)}`);
      } catch (error) {
        const e = error as CrossTenantError;
        if (e instanceof CrossTenantError && e.tenant === tenant && e.instanceTenant === other) tally.refused += 1;
        else tally.wrongError.push(`${name}: ${tenant} -> ${other}: ${(error as Error).name}: ${(error as Error).message}`);
      }
    };
    const { result: report, unhandled } = await catchingUnhandled(() =>
      runStress(setup!, { ops: OPS, concurrency: 50, onProgress: (done) => (done % FAULT_EVERY === 0 ? inject() : undefined) }),
    );
    console.log(
      `      [${d.name}, isolation 'role'] ${report.ops} ops in ${report.durationMs} ms, ${report.rowsChecked} rows checked, ${report.foreignRows} foreign, ${report.lostWrites} lost; ${tally.injected} faults injected, ${tally.refused} refused, ${tally.answered.length} answered`,
    );
    expectSound(report, OPS);
    expect(unhandled).to.deep.equal([]);

    expect(tally.answered, 'faults the database answered').to.deep.equal([]);
    expect(tally.wrongError, 'faults refused with something else than CrossTenantError naming both tenants').to.deep.equal([]);
    expect(tally.injected).to.equal(Math.floor(OPS / FAULT_EVERY));
    expect(tally.refused).to.equal(tally.injected);
    for (const name of names) expect(tally.byPath[name], name).to.be.greaterThan(0);

    const pool = poolState(sequelize);
    expect(pool.using, 'connections in use').to.equal(0);
    expect(pool.waiting, 'acquirers waiting').to.equal(0);
    // Nothing stays on a pooled connection: every one is back to the login role.
    const users = await Promise.all(Array.from({ length: 10 }, () => sequelize.query('SELECT current_user AS me', { type: QueryTypes.SELECT })));
    for (const [row] of users) expect(row).to.deep.equal({ me: login.name });
  });
}, ['postgres']);
