import { runPrefix } from './stress';
import { expect } from 'chai';
import * as sinon from 'sinon';
import { describeDialects } from '../support/dialects';
import { catchingUnhandled, createStressTenants, dropStressShared, installStress, poolState, runStress, type StressSetup } from './stress';

const OPS = Number(process.env.STRESS_OPS || 0) || 1000;
const TENANTS = Number(process.env.STRESS_TENANTS || 0) || 20;

describeDialects('reliability: backends killed at random during the stress', (d) => {
  const prefix = runPrefix('rel_kill');
  let setup: StressSetup | undefined;
  /** Server-side ids (PG backend pid / MySQL thread id) of the stress pool's live connections. */
  const live = new Set<number>();

  before(async function () {
    this.timeout(120_000);
    await d.dropAll(prefix);
    const sequelize = d.sequelize({ pool: { max: 10, min: 0, idle: 10_000, acquire: 60_000 } });
    const idOf = (connection: any): number => (d.name === 'postgres' ? connection.processID : connection.threadId);
    sequelize.addHook('afterConnect', (connection: any) => {
      live.add(idOf(connection));
    });
    sequelize.addHook('beforeDisconnect', (connection: any) => {
      live.delete(idOf(connection));
    });
    setup = await createStressTenants(installStress(sequelize, prefix), TENANTS, 'k');
  });

  after(async function () {
    this.timeout(120_000);
    if (setup) await dropStressShared(setup);
    await d.dropAll(prefix);
  });

  it(`${OPS} operations while a killer terminates random backends: in-flight operations fail, nothing lands in another tenant, nothing is lost`, async function () {
    this.timeout(Math.max(180_000, OPS * 40));
    const admin = d.sequelize();
    let kills = 0;
    let running = true;
    let killer: Promise<void> | undefined;
    const stopKiller = async () => {
      running = false;
      await killer;
    };
    killer = (async () => {
      while (running) {
        await new Promise((r) => setTimeout(r, 15 + Math.random() * 60));
        const ids = [...live];
        if (!running || ids.length === 0) continue;
        const victim = ids[Math.floor(Math.random() * ids.length)];
        try {
          if (d.name === 'postgres') {
            const [rows] = await admin.query('SELECT pg_terminate_backend(?) AS killed', { replacements: [victim] });
            if ((rows as any[])[0]?.killed) kills += 1;
          } else {
            await admin.query(`KILL ${Number(victim)}`);
            kills += 1;
          }
        } catch {
          // Already gone (Unknown thread id): the pool closed it meanwhile.
        }
        live.delete(victim);
      }
    })();
    // Sequelize warns on stderr for every transaction whose rollback hit a dead connection.
    const warn = sinon.stub(console, 'warn');
    let faulted;
    let unhandled: unknown[];
    try {
      ({ result: faulted, unhandled } = await catchingUnhandled(() => runStress(setup!, { ops: OPS, concurrency: 50, faults: true, beforeVerify: stopKiller })));
    } finally {
      await stopKiller();
      warn.restore();
    }
    console.log(`      [${d.name}] ${faulted.ops} ops in ${faulted.durationMs} ms with ${kills} backends killed: ${faulted.failed} failed, ${faulted.foreignRows} foreign, ${faulted.lostWrites} lost`);
    expect(kills, 'backends killed').to.be.greaterThan(0);
    expect(faulted.failed, 'operations that failed because their backend was killed').to.be.greaterThan(0);
    expect(faulted.unexpectedErrors, 'failures that were not the connection dying').to.deep.equal([]);
    expect(faulted.mismatches).to.deep.equal([]);
    expect(faulted.foreignRows).to.equal(0);
    expect(faulted.lostWrites).to.equal(0);
    expect(unhandled).to.deep.equal([]);

    // Every later operation is routed correctly and succeeds: the same tenants, the same ledger.
    const after = await runStress(setup!, { ops: Math.ceil(OPS / 3), concurrency: 50 });
    expect(after.unexpectedErrors).to.deep.equal([]);
    expect(after.failed).to.equal(0);
    expect(after.mismatches).to.deep.equal([]);
    expect(after.foreignRows).to.equal(0);
    expect(after.lostWrites).to.equal(0);

    const pool = poolState(setup!.sequelize);
    expect(pool.using).to.equal(0);
    expect(pool.waiting).to.equal(0);
    expect(pool.available).to.equal(pool.size);
  });
});
