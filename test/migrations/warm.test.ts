import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sinon from 'sinon';
import type { Sequelize } from 'sequelize';
import { Apartment, ConfigurationError, MigrationError, TenantExistsError, TenantNameError } from '../../lib';
import { KEY_PATTERN } from '../../lib/tenant';
import { BUILD_MARK, SPARE_MARK, SPARES_FLAG } from '../../lib/migrations/warm';
import { MigrationSets } from '../../bench/migration-sets';
import { describeDialects } from '../support/dialects';

const PREFIX = 'bench_w_';

describeDialects('warm tenants: prewarm, claim on createTenant, spares kept current', (d) => {
  let sets: MigrationSets;
  let sequelize: Sequelize;
  let folder: string;
  let apartment: Apartment;
  let n = 0;

  const spares = async () => (await apartment.adapter.list(PREFIX + SPARE_MARK)).sort();
  const meta = async (schema: string) => {
    const [rows] = await sequelize.query(`SELECT name FROM ${d.q(schema)}.${d.q('SequelizeMeta')} ORDER BY name`, { raw: true });
    return (rows as Array<{ name: string }>).map((r) => r.name);
  };
  const files = () => fs.readdirSync(folder).sort();

  before(async () => {
    await d.dropAll(PREFIX);
    sets = new MigrationSets();
    sequelize = d.sequelize();
  });
  beforeEach(async () => {
    await d.dropAll(PREFIX);
    // A fresh folder (widgets, tags, widget_tags, a column) and a fresh Apartment per test.
    folder = sets.generate(`set${++n}`, 4);
    if (apartment) (apartment as any) = undefined;
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: PREFIX, migrationsPath: folder });
  });
  afterEach(() => sinon.restore());
  after(async () => {
    await d.dropAll(PREFIX);
    sets.cleanup();
  });

  it('prewarm builds fully migrated spares under names no key can take, invisible to tenants(), and only tops up', async () => {
    expect(await apartment.prewarm(2)).to.deep.equal({ built: 2, ready: 2 });
    const names = await spares();
    expect(names).to.have.length(2);
    for (const name of names) {
      expect(name.startsWith(PREFIX + SPARE_MARK)).to.equal(true);
      const key = name.slice(PREFIX.length);
      expect(KEY_PATTERN.test(key)).to.equal(false);
      expect(() => apartment.schemaFor(key)).to.throw(TenantNameError);
      expect(await d.tables(name)).to.include.members(['SequelizeMeta', 'tags', 'widget_tags', 'widgets']);
      expect(await meta(name)).to.deep.equal(files());
    }
    expect(await apartment.tenants()).to.deep.equal([]);
    expect(await apartment.prewarm(2)).to.deep.equal({ built: 0, ready: 2 });
    expect(await apartment.prewarm(3)).to.deep.equal({ built: 1, ready: 3 });
    expect(await spares()).to.have.length(3);
  });

  it('rejects a count that is not a whole number, before any SQL', async () => {
    const query = sinon.spy(sequelize, 'query');
    for (const bad of [-1, 1.5, '2', NaN]) {
      let error: unknown;
      await apartment.prewarm(bad as any).catch((e) => (error = e));
      expect(error).to.be.instanceOf(ConfigurationError);
    }
    expect(query.called).to.equal(false);
  });

  it('createTenant claims a spare by renaming it, and the tenant works like a built one', async () => {
    await apartment.prewarm(1);
    const [spare] = await spares();
    const rename = sinon.spy(apartment.adapter, 'rename');
    const created = sinon.spy();
    apartment.on('tenantCreated', created);
    const result = await apartment.createTenant('acme');
    expect(result).to.deep.equal({ ok: true, tenant: 'acme', schema: `${PREFIX}acme`, versions: files() });
    expect(rename.calledOnceWith(spare, `${PREFIX}acme`)).to.equal(true);
    expect(created.calledOnce).to.equal(true);
    expect(await spares()).to.deep.equal([]);
    expect(await d.schemaExists(spare)).to.equal(false);
    expect(await apartment.tenants()).to.deep.equal(['acme']);
    expect(await meta(`${PREFIX}acme`)).to.deep.equal(files());
    expect(await apartment.migrationStatus('acme')).to.deep.include({ pending: [] });
    const [rows] = await apartment.run('acme', () => sequelize.query('SELECT count(*) AS n FROM widgets', { raw: true }));
    expect(Number((rows as Array<{ n: unknown }>)[0].n)).to.equal(0);
  });

  it('falls back to building the tenant when no spare is left', async () => {
    const rename = sinon.spy(apartment.adapter, 'rename');
    const result = await apartment.createTenant('cold');
    expect(result.ok).to.equal(true);
    expect(rename.called).to.equal(false);
    expect(await meta(`${PREFIX}cold`)).to.deep.equal(files());
  });

  it("where listing reads every database (MySQL), createTenant lists spares only while prewarm's flag is up, and the claim that finds none lowers it", async () => {
    const flag = PREFIX + SPARES_FLAG;
    expect(apartment.adapter.listScansAll).to.equal(d.name !== 'postgres');
    /** createTenant's statements that list the spares (by their prefix). */
    const listings = async (key: string) => {
      const list = sinon.spy(apartment.adapter, 'list');
      try {
        expect((await apartment.createTenant(key)).ok).to.equal(true);
        return list.getCalls().filter((call) => call.args[0] === PREFIX + SPARE_MARK).length;
      } finally {
        list.restore();
      }
    };
    if (d.name === 'postgres') {
      // A name range on an index: listing is the check, and there is no flag.
      expect(await listings('p1')).to.equal(1);
      await apartment.prewarm(1);
      expect(await d.schemaExists(flag)).to.equal(false);
      expect(await listings('p2')).to.equal(2);
      expect(await spares()).to.deep.equal([]);
      return;
    }
    // Never prewarmed: no listing at all, only the flag's point lookup.
    expect(await d.schemaExists(flag)).to.equal(false);
    expect(await listings('m1')).to.equal(0);
    await apartment.prewarm(1);
    expect(await d.schemaExists(flag)).to.equal(true);
    expect(await apartment.tenants()).to.deep.equal(['m1']);
    // The flag is up: the claim lists (before and under the lock) and takes the spare.
    const rename = sinon.spy(apartment.adapter, 'rename');
    /** Renames of a spare to a tenant (prewarm renames each build to its spare name too). */
    const claims = () => rename.getCalls().filter((call) => call.args[0].startsWith(PREFIX + SPARE_MARK)).length;
    expect(await listings('m2')).to.equal(1);
    expect(claims()).to.equal(1);
    expect(await spares()).to.deep.equal([]);
    // None left: this claim lists, builds instead, and lowers the flag; the next one lists nothing.
    expect(await listings('m3')).to.equal(1);
    expect(await d.schemaExists(flag)).to.equal(false);
    expect(await listings('m4')).to.equal(0);
    expect(claims()).to.equal(1);
    // Spares made before the flag existed (an upgrade): the next prewarm raises it for them.
    await apartment.prewarm(1);
    await apartment.adapter.drop({ key: SPARES_FLAG, name: flag });
    expect(await listings('m5')).to.equal(0);
    expect(await apartment.prewarm(0)).to.deep.equal({ built: 0, ready: 1 });
    expect(await d.schemaExists(flag)).to.equal(true);
    expect(await listings('m6')).to.equal(1);
    expect(claims()).to.equal(2);
    expect(await apartment.tenants()).to.deep.equal(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });

  it('migrateAll migrates spares too, without listing them in its results', async () => {
    await apartment.createTenant('one');
    await apartment.prewarm(1);
    const [spare] = await spares();
    const added = sets.add(folder, 5);
    const results = await apartment.migrateAll();
    expect(results.map((r) => r.tenant)).to.deep.equal(['one']);
    expect(await meta(spare)).to.include(added);
    expect(await meta(`${PREFIX}one`)).to.include(added);
  });

  it('a spare that is behind is migrated before it is handed out', async () => {
    await apartment.prewarm(1);
    const [spare] = await spares();
    const added = sets.add(folder, 5);
    expect(await meta(spare)).not.to.include(added);
    const result = await apartment.createTenant('late');
    expect(result.ok && result.versions).to.include(added);
    expect(await meta(`${PREFIX}late`)).to.deep.equal(files());
    const [rows] = await apartment.run('late', () => sequelize.query(`SELECT ${d.q('extra5')} FROM widgets`, { raw: true }));
    expect(rows).to.deep.equal([]);
  });

  it('concurrent createTenants never claim the same spare; the one left over is built', async () => {
    await apartment.prewarm(2);
    const before = await spares();
    const rename = sinon.spy(apartment.adapter, 'rename');
    const results = await Promise.all(['c1', 'c2', 'c3'].map((key) => apartment.createTenant(key)));
    expect(results.every((r) => r.ok)).to.equal(true);
    expect(rename.callCount).to.equal(2);
    expect(rename.getCalls().map((c) => c.args[0]).sort()).to.deep.equal(before);
    expect(await spares()).to.deep.equal([]);
    expect(await apartment.tenants()).to.deep.equal(['c1', 'c2', 'c3']);
    for (const key of ['c1', 'c2', 'c3']) expect(await meta(`${PREFIX}${key}`)).to.deep.equal(files());
  });

  it('an existing tenant is refused and the spare stays in the pool', async () => {
    await apartment.createTenant('taken');
    await apartment.prewarm(1);
    const before = await spares();
    let error: unknown;
    await apartment.createTenant('taken').catch((e) => (error = e));
    expect(error).to.be.instanceOf(TenantExistsError);
    expect(await spares()).to.deep.equal(before);
  });

  it('a spare whose migration fails in migrateAll is dropped; createTenant then builds and reports the failure', async () => {
    await apartment.createTenant('first');
    await apartment.prewarm(1);
    fs.writeFileSync(path.join(folder, '00009-broken.js'), "module.exports = { async up(qi) { await qi.sequelize.query('SELECT * FROM no_such_table_bench'); }, async down() {} };\n");
    const results = await apartment.migrateAll();
    expect(results.map((r) => r.ok)).to.deep.equal([false]);
    expect(await spares()).to.deep.equal([]);
    let error: any;
    await apartment.createTenant('broken').catch((e) => (error = e));
    expect(error?.name).to.equal('MigrationError');
    expect(await apartment.exists('broken')).to.equal(false);
  });

  it('a claim and a build do not race: createTenants while prewarm builds (one spare ready, so the MySQL spares flag is up) all succeed, and so does prewarm', async function () {
    this.timeout(120_000);
    // 20 migrations, so each build is still running when the claims come (the reported repro).
    folder = sets.generate(`race${n}`, 20);
    // MySQL's lock holds a connection of its own while a cold build migrates on another: six at once need more than five.
    sequelize = d.sequelize({ pool: { max: 10 } });
    apartment = new Apartment(sequelize, { prefix: PREFIX, migrationsPath: folder });
    const rename = sinon.spy(apartment.adapter, 'rename');
    // One spare ready first, as when the test kit tops spares up: on MySQL/MariaDB it raises the spares
    // flag, so the claims below look for spares while the next ones are being built.
    await apartment.prewarm(1);
    const warming = apartment.prewarm(7);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const keys = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
    const results = await Promise.all(keys.map((key) => apartment.createTenant(key)));
    const warmed = await warming; // rejected before: a claimed half-built spare failed its build
    expect(warmed.built).to.equal(6);
    expect(results.every((r) => r.ok)).to.equal(true);
    for (const key of keys) expect(await meta(`${PREFIX}${key}`)).to.deep.equal(files());
    // Every spare was claimed whole: renamed from its build name first, and only then to a tenant.
    const claimed = rename.getCalls().filter((c) => c.args[1].startsWith(PREFIX) && !c.args[1].includes(SPARE_MARK));
    for (const call of claimed) {
      expect(call.args[0].startsWith(PREFIX + SPARE_MARK)).to.equal(true);
      expect(rename.getCalls().some((c) => c.args[1] === call.args[0] && c.args[0].startsWith(PREFIX + BUILD_MARK))).to.equal(true);
    }
    for (const spare of await spares()) expect(await meta(spare)).to.deep.equal(files());
    expect(await apartment.adapter.list(PREFIX + BUILD_MARK)).to.deep.equal([]);
    expect(await apartment.tenants()).to.deep.equal(keys);
  });

  it("a failing build says so once, names the spare and the migration, and leaves no build behind; a dead process's build is dropped by the next prewarm", async () => {
    fs.writeFileSync(path.join(folder, '00009-broken.js'), "module.exports = { async up(qi) { await qi.sequelize.query('SELECT * FROM no_such_table_bench'); }, async down() {} };\n");
    const error = (await apartment.prewarm(1).catch((e: unknown) => e)) as MigrationError;
    expect(error).to.be.instanceOf(MigrationError);
    expect(error.migration).to.equal('00009-broken.js');
    expect(error.message).to.match(new RegExp(`^A warm spare \\(${PREFIX}${BUILD_MARK}[0-9a-f]+\\) could not be migrated \\(00009-broken.js\\), so it was dropped again: `));
    expect(error.message.match(/Fix the migration/g)).to.have.length(1);
    expect(await apartment.adapter.list(PREFIX + BUILD_MARK)).to.deep.equal([]);
    expect(await spares()).to.deep.equal([]);
    fs.rmSync(path.join(folder, '00009-broken.js'));
    // What a process killed mid-build leaves on MySQL (DDL commits at once): a build nobody holds the lock of.
    const left = { key: `${BUILD_MARK}dead`, name: `${PREFIX}${BUILD_MARK}dead` };
    await apartment.adapter.create(left);
    expect(await apartment.prewarm(1)).to.deep.equal({ built: 1, ready: 1 });
    expect(await apartment.adapter.list(PREFIX + BUILD_MARK)).to.deep.equal([]);
    expect(await spares()).to.have.length(1);
  });
});
