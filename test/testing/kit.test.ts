import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sinon from 'sinon';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { Apartment, ConfigurationError } from '../../lib';
import { BUILD_MARK, SPARE_MARK } from '../../lib/migrations/warm';
import { settle, sweepTestTenants, testTenant, type TestTenant } from '../../lib/testing';
import { isBackground } from '../../lib/testing/background';
import { HOST, TEST_KEY, workerId } from '../../lib/testing/names';
import { pooledConnection, releasePooledConnection } from '../../lib/seam/sequelize';
import { MigrationSets } from '../../bench/migration-sets';
import { defineModels } from '../../bench/models';
import { describeDialects } from '../support/dialects';

const PREFIX = 'kit_';

/** Seeders (sequelize-cli format) that add two tags. */
function seedersIn(root: string): string {
  const dir = path.join(root, 'seeders');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, '00001-tags.js'),
    "module.exports = { async up(qi) { const now = new Date(); await qi.bulkInsert('tags', [{ name: 'red', createdAt: now, updatedAt: now }, { name: 'blue', createdAt: now, updatedAt: now }]); }, async down(qi) { await qi.bulkDelete('tags', {}); } };\n",
  );
  return dir;
}

describe('testing kit: test tenant names', () => {
  it('name the host, the process, the runner worker and the loaded copy of the kit, and nothing else matches', () => {
    expect(workerId({})).to.equal(0);
    expect(workerId({ MOCHA_WORKER_ID: '2' })).to.equal(2);
    expect(workerId({ JEST_WORKER_ID: '3' })).to.equal(3);
    expect(workerId({ VITEST_POOL_ID: '4', VITEST_WORKER_ID: '9' })).to.equal(4);
    expect(workerId({ VITEST_WORKER_ID: '5' })).to.equal(5);
    expect(workerId({ JEST_WORKER_ID: 'x' })).to.equal(0);
    for (const key of ['test', 'test_abc', 'test-real-customer', 'test_zzzzzz_1_0_abcdef_1', `test_${HOST}_1_0_abcdef_1_extra`, `xtest_${HOST}_1_0_abcdef_1`]) {
      expect(TEST_KEY.test(key), key).to.equal(false);
    }
    expect(TEST_KEY.test(`test_${HOST}_1_0_abcdef_1`)).to.equal(true);
  });

  it('differ between processes and between workers of one runner', () => {
    const script = "const n = require('./dist/lib/testing/names'); console.log(n.nextKey())";
    const run = (env: NodeJS.ProcessEnv) => execFileSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..', '..', '..'), env: { ...process.env, MOCHA_WORKER_ID: '', ...env }, encoding: 'utf8' }).trim();
    const a = run({ JEST_WORKER_ID: '1' });
    const b = run({ JEST_WORKER_ID: '2' });
    expect(a).to.match(TEST_KEY).and.match(/_1_[0-9a-f]{6}_1$/);
    expect(b).to.match(TEST_KEY).and.match(/_2_[0-9a-f]{6}_1$/);
    expect(a.split('_')[2]).to.not.equal(b.split('_')[2]); // two processes, two pids
  });
});

describeDialects('testing kit: testTenant, reset, drop, sweep', (d) => {
  let sets: MigrationSets;
  let folder: string;
  let seeders: string;
  let sequelize: Sequelize;
  let apartment: Apartment;
  let models: { Widget: ModelStatic<Model>; Tag: ModelStatic<Model>; WidgetTag: ModelStatic<Model> };
  const meta = async (schema: string) => {
    const [rows] = await sequelize.query(`SELECT name FROM ${d.q(schema)}.${d.q('SequelizeMeta')} ORDER BY name`, { raw: true });
    return (rows as Array<{ name: string }>).map((r) => r.name);
  };
  const build = (options: object = {}) => {
    sequelize = d.sequelize(options);
    models = defineModels(sequelize);
    apartment = new Apartment(sequelize, { prefix: PREFIX, migrationsPath: folder, seedersPath: seeders });
  };

  before(async () => {
    await d.dropAll(PREFIX);
    sets = new MigrationSets();
    folder = sets.generate('kit', 6);
    seeders = seedersIn(sets.root);
  });
  beforeEach(() => build());
  afterEach(async () => {
    sinon.restore();
    await settle(apartment);
    await d.dropAll(PREFIX);
  });
  after(() => sets.cleanup());

  it('testTenant gives a migrated tenant with a unique test key, claimed from spares it keeps topped up; drop removes it', async () => {
    const first = await testTenant(apartment); // no spare yet: built, and the kit starts warming
    expect(first.key).to.match(TEST_KEY);
    expect(first.key.startsWith(`test_${HOST}_${process.pid}_${workerId()}_`)).to.equal(true);
    expect(await meta(apartment.schemaFor(first.key))).to.deep.equal(fs.readdirSync(folder).sort());
    await settle(apartment);
    expect(await apartment.adapter.list(PREFIX + SPARE_MARK)).to.have.length(2);
    const rename = sinon.spy(apartment.adapter, 'rename');
    const second = await testTenant(apartment);
    expect(second.key).to.not.equal(first.key);
    expect(rename.getCalls().some((c) => c.args[0].startsWith(PREFIX + SPARE_MARK) && c.args[1] === apartment.schemaFor(second.key))).to.equal(true);
    expect(await meta(apartment.schemaFor(second.key))).to.deep.equal(fs.readdirSync(folder).sort());
    await settle(apartment);
    expect(await apartment.adapter.list(PREFIX + SPARE_MARK)).to.have.length(2); // topped up again
    expect(await apartment.adapter.list(PREFIX + BUILD_MARK)).to.deep.equal([]);
    const created = await second.run(() => models.Widget.create({ name: 'gear' }));
    expect(apartment.tenantOf(created)).to.equal(second.key);
    expect(await first.run(() => models.Widget.count())).to.equal(0);
    await second.drop();
    await second.drop(); // gone already: fine
    expect(await apartment.exists(second.key)).to.equal(false);
    expect(await apartment.exists(first.key)).to.equal(true);
  });

  it('from the second testTenant on, hands out a whole test tenant kept ready under its own key, without a statement; settle makes the unused ones spares again', async () => {
    const first = await testTenant(apartment);
    await settle(apartment);
    const create = sinon.spy(apartment, 'createTenant');
    const second = await testTenant(apartment); // the kit keeps 2 ready from now on
    await Promise.all(create.getCalls().map((c) => c.returnValue));
    create.restore();
    const kept = String(create.getCall(1).args[0]);
    // Statements sent for the test, not the kit's background work (it builds the next one kept ready meanwhile).
    const sent: string[] = [];
    const query = sequelize.query.bind(sequelize);
    sinon.stub(sequelize, 'query').callsFake(((sql: unknown, options?: object) => {
      if (!isBackground()) sent.push(String(sql));
      return query(sql as string, options);
    }) as typeof sequelize.query);
    const tenant = await testTenant(apartment);
    sinon.restore();
    expect(tenant.key).to.equal(kept);
    expect(tenant.key).to.match(TEST_KEY);
    expect(sent).to.deep.equal([]);
    expect(await meta(apartment.schemaFor(tenant.key))).to.deep.equal(fs.readdirSync(folder).sort());
    expect(await tenant.run(() => models.Widget.count())).to.equal(0);
    // Two kept ready and handed to no test: settle makes them spares (up to `spares`), and no test tenant of theirs stays.
    await settle(apartment);
    expect(await apartment.tenants()).to.deep.equal([first.key, second.key, tenant.key].sort());
    expect(await apartment.adapter.list(PREFIX + SPARE_MARK)).to.have.length(2);
  });

  it('settle drops the tenants kept ready for no test when `spares` spares are there already', async () => {
    const first = await testTenant(apartment, { spares: 0 });
    const create = sinon.spy(apartment, 'createTenant');
    const second = await testTenant(apartment, { spares: 2 }); // keeps 2 ready from now on
    await Promise.all(create.getCalls().map((c) => c.returnValue));
    create.restore();
    await apartment.prewarm(2);
    const spares = await apartment.adapter.list(PREFIX + SPARE_MARK);
    await settle(apartment);
    expect(await apartment.adapter.list(PREFIX + SPARE_MARK)).to.deep.equal(spares);
    expect(await apartment.tenants()).to.deep.equal([first.key, second.key].sort());
  });

  it('a tenant kept ready is handed out only once its build is done, and seeded then with `seed`', async () => {
    await testTenant(apartment, { spares: 1 });
    const create = sinon.spy(apartment, 'createTenant');
    await testTenant(apartment, { spares: 1 }); // starts building the one kept ready
    const building = create.getCall(1); // the first is this test's own tenant
    let done = false;
    void (building.returnValue as Promise<unknown>).then(() => (done = true), () => (done = true));
    const tenant = await testTenant(apartment, { seed: true, spares: 1 });
    create.restore();
    expect(tenant.key).to.equal(String(building.args[0]));
    expect(done).to.equal(true);
    expect(await meta(apartment.schemaFor(tenant.key))).to.deep.equal(fs.readdirSync(folder).sort());
    expect(await tenant.run(async () => (await models.Tag.findAll({ order: [['id', 'ASC']] })).map((t) => t.get('name')))).to.deep.equal(['red', 'blue']);
  });

  it('a tenant kept ready is unseeded without `seed`, even when the Apartment seeds after create', async () => {
    await sequelize.close();
    sequelize = d.sequelize();
    models = defineModels(sequelize);
    apartment = new Apartment(sequelize, { prefix: PREFIX, migrationsPath: folder, seedersPath: seeders, seedAfterCreate: true });
    await testTenant(apartment, { seed: false, spares: 1 });
    const create = sinon.spy(apartment, 'createTenant');
    await testTenant(apartment, { seed: false, spares: 1 }); // starts building the one kept ready
    await Promise.all(create.getCalls().map((c) => c.returnValue));
    create.restore();
    const tenant = await testTenant(apartment, { seed: false, spares: 1 });
    expect(tenant.key).to.equal(String(create.getCall(1).args[0]));
    expect(await tenant.run(() => models.Tag.count())).to.equal(0);
  });

  it('a tenant kept ready whose build failed is built again for the test that gets it', async () => {
    await testTenant(apartment, { spares: 1 });
    // The kept-ready build fails once (a connection dropped, say); the test's own build then succeeds.
    const create = sinon.stub(apartment, 'createTenant');
    create.onCall(1).rejects(new Error('connection lost'));
    create.callThrough();
    await testTenant(apartment, { spares: 1 });
    const tenant = await testTenant(apartment, { spares: 1 });
    create.restore();
    expect(await meta(apartment.schemaFor(tenant.key))).to.deep.equal(fs.readdirSync(folder).sort());
  });

  it('seed: the tenant is seeded, and reset() seeds it again', async () => {
    const tenant = await testTenant(apartment, { seed: true, spares: 0 });
    const tags = () => tenant.run(async () => (await models.Tag.findAll({ order: [['id', 'ASC']] })).map((t) => [t.get('id'), t.get('name')]));
    expect(await tags()).to.deep.equal([[1, 'red'], [2, 'blue']]);
    await tenant.run(() => models.Tag.create({ name: 'green' }));
    await tenant.reset();
    expect(await tags()).to.deep.equal([[1, 'red'], [2, 'blue']]);
    const [records] = await sequelize.query(`SELECT name FROM ${d.q(apartment.schemaFor(tenant.key))}.${d.q('SequelizeData')}`, { raw: true });
    expect(records).to.deep.equal([{ name: '00001-tags.js' }]);
  });

  it('refuses bad options before creating anything', async () => {
    for (const bad of [{ seed: 'yes' }, { spares: -1 }, { nope: true }, null]) {
      let error: unknown;
      await testTenant(apartment, bad as any).catch((e) => (error = e));
      expect(error, JSON.stringify(bad)).to.be.instanceOf(ConfigurationError);
    }
    expect(await apartment.tenants()).to.deep.equal([]);
  });

  it('reset() empties every table but the migration records and restarts identities', async () => {
    const tenant = await testTenant(apartment, { spares: 0 });
    const fill = () =>
      tenant.run(async () => {
        const widget = await models.Widget.create({ name: 'gear' });
        const tag = await models.Tag.create({ name: 'red' });
        await models.WidgetTag.create({ widgetId: widget.get('id'), tagId: tag.get('id') });
        await models.Widget.create({ name: 'cog' });
        return widget.get('id');
      });
    expect(await fill()).to.equal(1);
    const query = sinon.spy(sequelize, 'query');
    await tenant.reset();
    const sent = query.getCalls().map((c) => String(c.args[0]));
    query.restore();
    if (d.name === 'postgres') {
      // One statement: the catalog read, the DELETEs (tags refused until widget_tags is empty) and the sequences' restart are one DO block.
      expect(sent).to.have.length(1);
      expect(sent[0]).to.match(/^DO \$apartment\$/);
      // Its transaction alone skipped waiting for the WAL flush: nothing of it stays on the pooled connections.
      const settings = await Promise.all(Array.from({ length: 3 }, () => sequelize.query('SHOW synchronous_commit', { plain: true })));
      expect(settings.map((row) => (row as { synchronous_commit: string }).synchronous_commit)).to.deep.equal(['on', 'on', 'on']);
    }
    const counts = await tenant.run(() => Promise.all([models.Widget.count(), models.Tag.count(), models.WidgetTag.count()]));
    expect(counts).to.deep.equal([0, 0, 0]);
    expect(await meta(apartment.schemaFor(tenant.key))).to.deep.equal(fs.readdirSync(folder).sort());
    expect(await fill()).to.equal(1); // identities restarted
    await tenant.reset();
    await tenant.reset(); // nothing to empty: fine
  });

  it('reset() restarts the identity of a table emptied by the test itself, and empties a row whose key never moved the counter', async () => {
    const tenant = await testTenant(apartment, { spares: 0 });
    // Emptied by the test: no row left, but the identity moved.
    await tenant.run(async () => (await models.Widget.create({ name: 'gear' })).destroy());
    // An explicit key below the counter: the row is there, the counter did not move.
    await tenant.run(() => models.Tag.create({ id: -1, name: 'red' }));
    await tenant.reset();
    expect(await tenant.run(() => models.Tag.count())).to.equal(0);
    expect(await tenant.run(async () => (await models.Widget.create({ name: 'cog' })).get('id'))).to.equal(1);
  });

  it('reset() of a tenant made without seed keeps the seeder records too (SequelizeData) and seeds nothing', async () => {
    const tenant = await testTenant(apartment, { spares: 0 });
    expect((await apartment.seedTenant(tenant.key)).ok).to.equal(true); // the app seeds it itself
    await tenant.reset();
    expect(await tenant.run(() => models.Tag.count())).to.equal(0);
    const [records] = await sequelize.query(`SELECT name FROM ${d.q(apartment.schemaFor(tenant.key))}.${d.q('SequelizeData')}`, { raw: true });
    expect(records).to.deep.equal([{ name: '00001-tags.js' }]);
  });

  // Not on a Citus coordinator: Citus refuses triggers on distributed tables (citus.enable_unsafe_triggers is off).
  if (d.name === 'postgres' && !d.citus) {
    it('reset() never fires a table\'s own triggers (such a table is truncated), and a foreign key RESTRICT it cannot DELETE past falls back to TRUNCATE', async () => {
      const tenant = await testTenant(apartment, { spares: 0 });
      const schema = d.q(apartment.schemaFor(tenant.key));
      // A delete trigger on tags that writes into an audit table (empty, so reset() leaves it alone).
      await sequelize.query(
        `CREATE TABLE ${schema}.audit (what text);` +
          `CREATE FUNCTION ${schema}.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO ${schema}.audit VALUES ('tag deleted'); RETURN OLD; END $$;` +
          `CREATE TRIGGER audit AFTER DELETE ON ${schema}.tags FOR EACH ROW EXECUTE FUNCTION ${schema}.audit();` +
          // A self-reference with RESTRICT: its DELETE of every row is refused row by row.
          `ALTER TABLE ${schema}.widgets ADD COLUMN "parentId" integer REFERENCES ${schema}.widgets (id) ON DELETE RESTRICT;`,
      );
      await tenant.run(async () => {
        await models.Tag.create({ name: 'red' });
        const parent = await models.Widget.create({ name: 'parent' });
        await sequelize.query(`INSERT INTO ${schema}.widgets (name, "parentId", "createdAt", "updatedAt") VALUES ('child', ${Number(parent.get('id'))}, now(), now())`);
      });
      await tenant.reset();
      expect(await tenant.run(() => Promise.all([models.Widget.count(), models.Tag.count()]))).to.deep.equal([0, 0]);
      const [audit] = await sequelize.query(`SELECT what FROM ${schema}.audit`, { raw: true });
      expect(audit).to.deep.equal([]);
      expect(await tenant.run(async () => (await models.Widget.create({ name: 'gear' })).get('id'))).to.equal(1);
    });
  }

  it('reset() of a dropped tenant is TenantNotFoundError', async () => {
    const tenant: TestTenant = await testTenant(apartment, { spares: 0 });
    await tenant.drop();
    const error = await tenant.reset().catch((e: unknown) => e);
    expect((error as Error)?.name).to.equal('TenantNotFoundError');
  });

  it("sweepTestTenants drops test tenants whose process is gone, and never a real tenant, another host's or a live process's", async () => {
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).trim());
    const keys = {
      dead: `test_${HOST}_${dead}_0_abcdef_1`,
      deadWorker: `test_${HOST}_${dead}_3_abcdef_2`,
      live: `test_${HOST}_1_0_abcdef_1`, // pid 1 is alive
      otherHost: `test_${HOST === '000000' ? '111111' : '000000'}_${dead}_0_abcdef_1`,
      real: 'test-customer',
      lookalike: `test_${HOST}_${dead}_0_abcdef_1_x`,
    };
    for (const key of Object.values(keys)) await apartment.createTenant(key);
    const dropped = await sweepTestTenants(apartment);
    expect(dropped.sort()).to.deep.equal([keys.dead, keys.deadWorker].sort());
    expect(await apartment.tenants()).to.deep.equal([keys.live, keys.otherHost, keys.real, keys.lookalike].sort());
  });

  it("the next run's first testTenant sweeps a crashed run's test tenants by itself, and no real tenant", async () => {
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).trim());
    const crashed = `test_${HOST}_${dead}_1_abcdef_1`;
    for (const key of [crashed, 'customer']) await apartment.createTenant(key);
    // A new Apartment, as the next run makes: its first testTenant starts the sweep.
    build();
    const tenant = await testTenant(apartment, { spares: 0 });
    await settle(apartment);
    expect(await apartment.tenants()).to.deep.equal(['customer', tenant.key].sort());
  });
});

// The same harness, for the MySQL/MariaDB-only promise of reset().
describeDialects(
  'testing kit: reset() on MySQL/MariaDB',
  (d) => {
    let sets: MigrationSets;
    let sequelize: Sequelize;
    let apartment: Apartment;
    before(async () => {
      await d.dropAll(PREFIX);
      sets = new MigrationSets();
      // A pool of one: the connection inspected afterwards is the one reset() used.
      sequelize = d.sequelize({ pool: { max: 1, min: 0 } });
      defineModels(sequelize);
      apartment = new Apartment(sequelize, { prefix: PREFIX, migrationsPath: sets.generate('kit-fk', 4) });
    });
    after(async () => {
      await settle(apartment);
      await d.dropAll(PREFIX);
      sets.cleanup();
    });

    it('reset() turns foreign-key checks off for its connection only, and they are on again on that pooled connection afterwards', async () => {
      const { Widget, Tag, WidgetTag } = sequelize.models as Record<string, ModelStatic<Model>>;
      const tenant = await testTenant(apartment, { spares: 0 });
      const session = async () => {
        const [rows] = await sequelize.query('SELECT CONNECTION_ID() AS id, @@SESSION.foreign_key_checks AS fk', { raw: true });
        return (rows as Array<{ id: number; fk: number | string }>)[0]!;
      };
      const before = await session();
      await tenant.run(async () => {
        const widget = await Widget!.create({ name: 'gear' });
        const tag = await Tag!.create({ name: 'red' });
        await WidgetTag!.create({ widgetId: widget.get('id'), tagId: tag.get('id') });
      });
      const query = sinon.spy(sequelize, 'query');
      await tenant.reset();
      query.restore();
      // The checks were off for the TRUNCATE/DELETEs, which went to the driver connection, not through sequelize.query.
      expect(query.getCalls().map((c) => String(c.args[0])).some((sql) => /foreign_key_checks/i.test(sql))).to.equal(false);
      const after = await session();
      expect(after.id).to.equal(before.id);
      expect(Number(after.fk)).to.equal(1);
      expect(await tenant.run(() => Promise.all([Widget!.count(), Tag!.count(), WidgetTag!.count()]))).to.deep.equal([0, 0, 0]);
      await tenant.drop();
    });

    it('reset() destroys its connection when turning foreign-key checks on again fails, instead of returning it to the pool with them off', async () => {
      const { Widget } = sequelize.models as Record<string, ModelStatic<Model>>;
      const tenant = await testTenant(apartment, { spares: 0 });
      await tenant.run(() => Widget!.create({ name: 'gear' }));
      const session = async () => {
        const [rows] = await sequelize.query('SELECT CONNECTION_ID() AS id, @@SESSION.foreign_key_checks AS fk', { raw: true });
        return (rows as Array<{ id: number; fk: number | string }>)[0]!;
      };
      const before = await session();
      // The pool's only connection: the statement that turns the checks on again fails on it (the server stays real).
      const connection = await pooledConnection(sequelize);
      const query = connection.query;
      (sinon.stub(connection, 'query') as sinon.SinonStub).callsFake(function (this: unknown, options: any, ...rest: unknown[]) {
        if (/foreign_key_checks\s*=\s*1/.test(typeof options === 'string' ? options : String(options?.sql))) {
          const error = new Error('Connection lost: The server closed the connection.');
          const callback = rest.find((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
          if (!callback) return Promise.reject(error); // the mariadb driver: promises
          setImmediate(() => callback(error));
          return undefined;
        }
        return query.call(this, options, ...rest);
      });
      releasePooledConnection(sequelize, connection);
      await tenant.reset();
      expect(await tenant.run(() => Widget!.count())).to.equal(0);
      // The next statement gets a new connection, with the checks on; the old one (checks off) is gone from the pool.
      const after = await session();
      expect(after.id).to.not.equal(before.id);
      expect(Number(after.fk)).to.equal(1);
      const next = await pooledConnection(sequelize);
      releasePooledConnection(sequelize, next);
      expect(next).to.not.equal(connection);
      await tenant.drop();
    });
  },
  ['mysql', 'mariadb'],
);
