import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sinon from 'sinon';
import type { Sequelize } from 'sequelize';
import { Apartment, ConfigurationError, MigrationError, TenantExistsError, TenantNameError, TenantNotFoundError, type MigrationResult } from '../../lib';
import { describeDialects } from '../support/dialects';
import { fixture } from '../support/paths';
import { Catalog } from './catalog';

const BASIC = fixture('migrations', 'basic');
const FAILING = fixture('migrations', 'failing');

/** A fresh migrations folder holding copies of the given fixture files. */
function folderWith(...files: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mig-'));
  for (const file of files) fs.copyFileSync(file, path.join(dir, path.basename(file)));
  return dir;
}

describeDialects('tenant migrations: migrate, status, createTenant, migrateAll', (d) => {
  let sequelize: Sequelize;
  let catalog: Catalog;

  before(async () => {
    await d.dropAll('migb_');
    sequelize = d.sequelize();
    catalog = new Catalog(d, d.sequelize());
  });
  afterEach(() => sinon.restore());
  after(() => d.dropAll('migb_'));

  describe('with .js, .cjs and .mjs migrations', () => {
    let apartment: Apartment;
    before(() => {
      apartment = new Apartment(sequelize, { prefix: 'migb_', migrationsPath: BASIC });
    });

    it('createTenant applies all three; status lists them as executed', async () => {
      const result = await apartment.createTenant('one');
      expect(result).to.deep.equal({
        ok: true,
        tenant: 'one',
        schema: 'migb_one',
        versions: ['20260201000001-create-notes.js', '20260201000002-add-color.cjs', '20260201000003-create-tags.mjs'],
      });
      expect(await catalog.columns('migb_one', 'migb_notes')).to.deep.equal(['body', 'color', 'id']);
      expect(await d.tables('migb_one')).to.include('migb_tags');
      expect(await apartment.migrationStatus('one')).to.deep.equal({ executed: result.ok ? result.versions : [], pending: [] });
      const [meta] = await sequelize.query(`SELECT name FROM ${d.q('migb_one')}.${d.q('SequelizeMeta')}`);
      expect(meta).to.have.length(3);
    });

    it('an up-to-date tenant: migrate runs nothing', async () => {
      expect(await apartment.migrateTenant('one')).to.deep.equal({ ok: true, tenant: 'one', schema: 'migb_one', versions: [] });
    });

    it('down with `to` reverts back to and including that version; up with `to` stops at it', async () => {
      const down = await apartment.migrateTenant('one', { direction: 'down', to: '20260201000002' });
      expect(down.ok && down.versions).to.deep.equal(['20260201000003-create-tags.mjs', '20260201000002-add-color.cjs']);
      expect(await apartment.migrationStatus('one')).to.deep.equal({
        executed: ['20260201000001-create-notes.js'],
        pending: ['20260201000002-add-color.cjs', '20260201000003-create-tags.mjs'],
      });
      expect(await catalog.columns('migb_one', 'migb_notes')).to.deep.equal(['body', 'id']);
      const up = await apartment.migrateTenant('one', { direction: 'up', to: 20260201000002 });
      expect(up.ok && up.versions).to.deep.equal(['20260201000002-add-color.cjs']);
      const rest = await apartment.migrateTenant('one');
      expect(rest.ok && rest.versions).to.deep.equal(['20260201000003-create-tags.mjs']);
    });

    it('down without `to` reverts only the last applied migration', async () => {
      const down = await apartment.migrateTenant('one', { direction: 'down' });
      expect(down.ok && down.versions).to.deep.equal(['20260201000003-create-tags.mjs']);
      expect(await d.tables('migb_one')).to.not.include('migb_tags');
      await apartment.migrateTenant('one');
    });

    it('createTenant of an existing tenant: TenantExistsError, nothing touched', async () => {
      const before = await d.tables('migb_one');
      const error = await apartment.createTenant('one').catch((e) => e);
      expect(error).to.be.instanceOf(TenantExistsError);
      expect(error.tenant).to.equal('one');
      expect(await d.tables('migb_one')).to.deep.equal(before);
      expect((await apartment.migrationStatus('one')).executed).to.have.length(3);
    });

    it('unknown tenants throw TenantNotFoundError, invalid keys TenantNameError (no SQL)', async () => {
      const spy = sinon.spy(sequelize, 'query');
      expect(await apartment.migrateTenant('Bad Key').catch((e) => e)).to.be.instanceOf(TenantNameError);
      expect(await apartment.migrationStatus('../x').catch((e) => e)).to.be.instanceOf(TenantNameError);
      expect(spy.callCount).to.equal(0);
      const missing = await apartment.migrateTenant('ghost').catch((e) => e);
      expect(missing).to.be.instanceOf(TenantNotFoundError);
      expect(missing.message).to.include("'ghost'");
      expect(await apartment.migrationStatus('ghost').catch((e) => e)).to.be.instanceOf(TenantNotFoundError);
      expect(await d.schemaExists('migb_ghost')).to.equal(false);
    });

    it('bad options are ConfigurationErrors before any SQL', async () => {
      const spy = sinon.spy(sequelize, 'query');
      for (const options of [{ to: '19990101' }, { direction: 'sideways' }, { to: {} }] as any[]) {
        const error = await apartment.migrateTenant('one', options).catch((e) => e);
        expect(error, JSON.stringify(options)).to.be.instanceOf(ConfigurationError);
      }
      expect(await apartment.migrateAll({ concurrency: 0 }).catch((e) => e)).to.be.instanceOf(ConfigurationError);
      expect(spy.callCount).to.equal(0);
    });
  });

  describe('a failing migration', () => {
    let apartment: Apartment;
    before(() => {
      apartment = new Apartment(d.sequelize(), { prefix: 'migb_', migrationsPath: FAILING });
    });

    it('migrateTenant returns { ok: false } naming the file; the tenant keeps its last good version', async () => {
      await new Apartment(d.sequelize(), { prefix: 'migb_', migrationsPath: folderWith() }).createTenant('half');
      const result = await apartment.migrateTenant('half');
      expect(result.ok).to.equal(false);
      const error = (result as Extract<MigrationResult, { ok: false }>).error as MigrationError;
      expect(error).to.be.instanceOf(MigrationError);
      expect(error.migration).to.equal('20260301000002-half-done.js');
      expect(error.direction).to.equal('up');
      expect(error.tenant).to.equal('half');
      expect(error.message).to.include('20260301000002-half-done.js').and.include("'half'");
      expect((error.cause as Error).message).to.match(/migf_no_such_table/);
      expect(await apartment.migrationStatus('half')).to.deep.equal({
        executed: ['20260301000001-create-ok.js'],
        pending: ['20260301000002-half-done.js', '20260301000003-never.js'],
      });
      const tables = await d.tables('migb_half');
      expect(tables).to.include('migf_ok').and.not.include('migf_never');
      if (d.name === 'postgres') {
        // Atomic: nothing of the failed migration is left.
        expect(tables).to.not.include('migf_partial');
        expect(await catalog.columns('migb_half', 'migf_ok')).to.deep.equal(['id']);
      } else {
        // MySQL commits DDL at once: what ran before the failure stays.
        expect(tables).to.include('migf_partial');
      }
    });

    it('createTenant is atomic: it rejects with the failed result and leaves no schema/database', async () => {
      const error = await apartment.createTenant('broken').catch((e) => e);
      expect(error).to.be.instanceOf(MigrationError);
      expect(error.migration).to.equal('20260301000002-half-done.js');
      expect(error.message).to.include('20260301000002-half-done.js').and.include("'broken'");
      expect(error.result).to.deep.include({ ok: false, tenant: 'broken', schema: 'migb_broken' });
      expect(error.result.error).to.equal(error);
      expect(await d.schemaExists('migb_broken')).to.equal(false);
      expect(await apartment.tenants()).to.not.include('broken');
    });
  });

  describe('the migrations folder', () => {
    it('missing: createTenant, migrate and status throw ConfigurationError naming the absolute path and the cwd; nothing is created', async () => {
      const relative = path.join('no-such-dir', 'tenant-migrations');
      const absolute = path.resolve(process.cwd(), relative);
      const apartment = new Apartment(d.sequelize(), { prefix: 'migb_', migrationsPath: relative });
      expect(apartment.migrationsPath).to.equal(absolute);
      for (const call of [
        () => apartment.createTenant('bare'),
        () => apartment.migrateTenant('bare'),
        () => apartment.migrateAll(),
        () => apartment.migrationStatus('bare'),
        () => apartment.migrationStatusAll(),
        () => apartment.prewarm(1),
      ]) {
        const error = await call().catch((e) => e);
        expect(error).to.be.instanceOf(ConfigurationError);
        expect(error.message).to.include(absolute).and.include(process.cwd()).and.include('migrationsPath: false');
      }
      expect(await d.schemaExists('migb_bare')).to.equal(false);
      expect(await apartment.tenants()).to.not.include('bare');
    });

    it('migrationsPath: false: createTenant makes an empty tenant; migrate, migrateAll and status have nothing to do', async () => {
      await d.dropAll('migf_');
      const apartment = new Apartment(d.sequelize(), { prefix: 'migf_', migrationsPath: false });
      expect(apartment.migrationsPath).to.equal(false);
      expect(await apartment.createTenant('plain')).to.deep.equal({ ok: true, tenant: 'plain', schema: 'migf_plain', versions: [] });
      expect(await d.schemaExists('migf_plain')).to.equal(true);
      expect(await d.tables('migf_plain')).to.deep.equal([]);
      expect(await apartment.migrateTenant('plain')).to.deep.equal({ ok: true, tenant: 'plain', schema: 'migf_plain', versions: [] });
      expect(await apartment.migrateTenant('plain', { direction: 'down' })).to.deep.equal({ ok: true, tenant: 'plain', schema: 'migf_plain', versions: [] });
      expect(await apartment.migrateAll()).to.deep.equal([{ ok: true, tenant: 'plain', schema: 'migf_plain', versions: [] }]);
      expect(await apartment.migrationStatus('plain')).to.deep.equal({ executed: [], pending: [] });
      expect(await apartment.migrationStatusAll()).to.deep.equal([{ tenant: 'plain', schema: 'migf_plain', executed: [], pending: [] }]);
      expect(await d.tables('migf_plain')).to.deep.equal([]); // not even a SequelizeMeta
      const wrong = await (apartment as any).migrateTenant('plain', { to: '20260101000000' }).catch((e: unknown) => e);
      expect(wrong).to.be.instanceOf(ConfigurationError);
      expect(wrong.message).to.include('migrationsPath: false');
      await apartment.dropTenant('plain');
    });

    it('migrationsPath must be a folder path or false', () => {
      for (const bad of ['', true, 0, null]) {
        expect(() => new Apartment(d.sequelize(), { migrationsPath: bad as any })).to.throw(ConfigurationError, /migrationsPath` to be a folder path or `false`/);
      }
    });
  });

  describe('migrateAll', () => {
    const FIRST = path.join(BASIC, '20260201000001-create-notes.js');
    const SECOND = path.join(BASIC, '20260201000002-add-color.cjs');

    it('migrates every tenant, continues past a failing one and reports each', async () => {
      await d.dropAll('migb_');
      const folder = folderWith(FIRST);
      const apartment = new Apartment(d.sequelize(), { prefix: 'migb_', migrationsPath: folder });
      for (const key of ['a', 'b', 'c']) await apartment.createTenant(key);
      // Tenant b cannot take the next migration: its column already exists.
      await sequelize.query(`ALTER TABLE ${d.q('migb_b')}.${d.q('migb_notes')} ADD COLUMN color INTEGER`);
      fs.copyFileSync(SECOND, path.join(folder, path.basename(SECOND)));

      const seen: string[] = [];
      const results = await apartment.migrateAll({ onProgress: (r) => seen.push(r.tenant) });
      expect(results.map((r) => [r.tenant, r.ok])).to.deep.equal([['a', true], ['b', false], ['c', true]]);
      expect(seen.sort()).to.deep.equal(['a', 'b', 'c']);
      expect((results[0] as any).versions).to.deep.equal(['20260201000002-add-color.cjs']);
      const failure = results[1] as Extract<MigrationResult, { ok: false }>;
      expect(failure.error).to.be.instanceOf(MigrationError);
      expect((failure.error as MigrationError).migration).to.equal('20260201000002-add-color.cjs');
      expect((await apartment.migrationStatus('b')).pending).to.deep.equal(['20260201000002-add-color.cjs']);

      // Again: a and c are up to date, b still fails.
      const again = await apartment.migrateAll();
      expect(again.map((r) => [r.tenant, r.ok, r.ok ? r.versions.length : 'failed'])).to.deep.equal([['a', true, 0], ['b', false, 'failed'], ['c', true, 0]]);

      // Down for all: each tenant reverts its last migration.
      const down = await apartment.migrateAll({ direction: 'down' });
      expect(down.map((r) => (r.ok ? r.versions : 'failed'))).to.deep.equal([
        ['20260201000002-add-color.cjs'],
        ['20260201000001-create-notes.js'],
        ['20260201000002-add-color.cjs'],
      ]);
    });

    it('reads the state of up-to-date tenants in a few statements, not one per tenant', async () => {
      await d.dropAll('migb_');
      const apartment = new Apartment(d.sequelize(), { prefix: 'migb_', migrationsPath: BASIC });
      const keys = Array.from({ length: 12 }, (_, i) => `n${i}`);
      for (const key of keys) await apartment.createTenant(key);
      const spy = sinon.spy(apartment.sequelize, 'query');
      const results = await apartment.migrateAll();
      expect(results).to.have.length(12);
      expect(results.every((r) => r.ok && r.versions.length === 0)).to.equal(true);
      // list tenants + tenants with SequelizeMeta + one UNION ALL read (+ listing warm spares)
      expect(spy.callCount, spy.args.map((a) => String(a[0]).slice(0, 90)).join('\n')).to.be.at.most(4);
      expect(spy.args.filter((a) => /UNION ALL/.test(String(a[0])))).to.have.length(1);
    });
  });
});
