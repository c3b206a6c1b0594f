import { expect } from 'chai';
import * as sinon from 'sinon';
import { Sequelize } from 'sequelize';
import { missingProgram } from '../support/processes';
import { hasPrivateMariadb, postgresBin, startPrivateMariadb, startPrivatePostgres, type PrivateServer } from '../support/private-servers';
import { catchingUnhandled, createStressTenants, installStress, poolState, runStress, type StressSetup } from './stress';

const OPS = Number(process.env.STRESS_OPS || 0) || 600;

const servers = {
  postgres: { available: () => postgresBin() !== undefined, start: startPrivatePostgres, hint: 'initdb/pg_ctl from the postgresql package' },
  mysql: { available: hasPrivateMariadb, start: startPrivateMariadb, hint: 'mariadbd and mariadb-install-db from mariadb-server' },
};

for (const [dialect, kind] of Object.entries(servers)) {
  // A private server: restarting the shared one would break every other suite running against it.
  describe(`reliability: the database server restarted in the middle of a run [private ${dialect} server]`, function () {
    let server: PrivateServer | undefined;
    let sequelize: Sequelize | undefined;
    let setup: StressSetup | undefined;

    before(async function () {
      this.timeout(120_000);
      if (!kind.available()) missingProgram(this, `a ${dialect} server`, kind.hint);
      server = await kind.start();
      sequelize = new Sequelize(server.url, { logging: false, pool: { max: 10, min: 0, idle: 10_000, acquire: 60_000 } });
      setup = await createStressTenants(installStress(sequelize, 'rel_rs_'), 10, 'r');
    });

    after(async function () {
      this.timeout(60_000);
      await sequelize?.close().catch(() => undefined);
      await server?.stop();
    });

    it(`${OPS} operations with a restart at 30%: the pool recovers, routing stays correct, nothing lost or misplaced`, async function () {
      this.timeout(Math.max(120_000, OPS * 60));
      let restarting: Promise<void> | undefined;
      const warn = sinon.stub(console, 'warn');
      let faulted;
      let unhandled: unknown[];
      try {
        ({ result: faulted, unhandled } = await catchingUnhandled(() =>
          runStress(setup!, {
            ops: OPS,
            concurrency: 50,
            faults: true,
            beforeVerify: async () => restarting,
            onProgress(done) {
              if (!restarting && done >= OPS * 0.3) restarting = server!.restart();
            },
          }),
        ));
        await restarting;
      } finally {
        warn.restore();
      }
      console.log(`      [${dialect}] ${faulted.ops} ops in ${faulted.durationMs} ms across a server restart: ${faulted.failed} failed, ${faulted.foreignRows} foreign, ${faulted.lostWrites} lost`);
      expect(restarting, 'the server was restarted').to.not.equal(undefined);
      expect(faulted.failed, 'operations cut by the restart').to.be.greaterThan(0);
      expect(faulted.unexpectedErrors).to.deep.equal([]);
      expect(faulted.mismatches).to.deep.equal([]);
      expect(faulted.foreignRows).to.equal(0);
      expect(faulted.lostWrites).to.equal(0);
      expect(unhandled).to.deep.equal([]);

      // After the restart: every operation succeeds and is routed correctly.
      const after = await runStress(setup!, { ops: Math.ceil(OPS / 2), concurrency: 50 });
      expect(after.unexpectedErrors).to.deep.equal([]);
      expect(after.failed).to.equal(0);
      expect(after.foreignRows).to.equal(0);
      expect(after.lostWrites).to.equal(0);
      const pool = poolState(sequelize!);
      expect(pool.using).to.equal(0);
      expect(pool.available).to.equal(pool.size);
    });
  });
}
