import { expect } from 'chai';
import { DataTypes, type Sequelize } from 'sequelize';
import { Apartment } from '../../lib';
import { describeDialects } from '../support/dialects';
import { fixture } from '../support/paths';
import { Catalog } from './catalog';

const FULL = fixture('migrations', 'full');

describeDialects('tenant migrations: every queryInterface call lands in the tenant', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let catalog: Catalog;

  before(async () => {
    await d.dropAll('mig');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: 'mig_', migrationsPath: FULL });
    catalog = new Catalog(d, d.sequelize());
    // Decoys in the default schema/database: a lookup that falls back to it
    // would describe, alter or reuse these instead of the tenant's objects.
    const admin = d.sequelize();
    await admin.query(`DROP TABLE IF EXISTS ${d.q('migfx_widgets')}`);
    await admin.query(`CREATE TABLE ${d.q('migfx_widgets')} (id INTEGER PRIMARY KEY, legacy INTEGER)`);
    if (d.name === 'postgres') {
      await admin.query('DROP TYPE IF EXISTS "enum_migfx_widgets_status"');
      await admin.query(`CREATE TYPE "enum_migfx_widgets_status" AS ENUM ('decoy')`);
    }
  });

  after(async () => {
    await d.dropAll('mig');
    const admin = d.sequelize();
    await admin.query(`DROP TABLE IF EXISTS ${d.q('migfx_widgets')}`);
    await admin.query(`DROP TABLE IF EXISTS ${d.q('migfx_synced')}`);
    if (d.name === 'postgres') await admin.query('DROP TYPE IF EXISTS "enum_migfx_widgets_status"');
  });

  async function expectMigrated(schema: string): Promise<void> {
    expect((await d.tables(schema)).sort()).to.deep.equal(['migfx_renamed', 'migfx_users', 'migfx_widgets', 'SequelizeMeta'].sort());
    expect(await catalog.columns(schema, 'migfx_widgets')).to.deep.equal(['id', 'kind', 'label', 'name', 'owner_id', 'status']);
    expect(await catalog.indexes(schema, 'migfx_widgets')).to.include('migfx_widgets_label').and.not.include('migfx_widgets_legacy_idx');
    expect(await catalog.indexes(schema, 'migfx_users')).to.include('migfx_users_email');
    expect(await catalog.constraints(schema, 'migfx_widgets')).to.include.members(['migfx_widgets_name_uk', 'migfx_widgets_owner_fk']);
    const fks = await catalog.foreignKeys(schema);
    expect(fks).to.include(`migfx_widgets.owner_id -> ${schema}.migfx_users`);
    expect(fks.every((fk) => fk.includes(`-> ${schema}.`))).to.equal(true);
    if (d.name === 'postgres') {
      expect(await catalog.enums(schema)).to.deep.equal(['enum_migfx_users_role', 'enum_migfx_widgets_kind', 'enum_migfx_widgets_status']);
    }
    const [users] = await sequelize.query(`SELECT email, role FROM ${d.q(schema)}.${d.q('migfx_users')} ORDER BY email`);
    expect(users).to.deep.equal([
      { email: 'b@example.com', role: 'admin' },
      { email: 'raw@example.com', role: 'member' },
    ]);
  }

  async function expectDefaultUntouched(): Promise<void> {
    expect(await catalog.objectsLike(d.defaultSchema, 'migfx_')).to.deep.equal(
      d.name === 'postgres' ? ['migfx_widgets', 'type enum_migfx_widgets_status'] : ['migfx_widgets'],
    );
    expect(await catalog.columns(d.defaultSchema, 'migfx_widgets')).to.deep.equal(['id', 'legacy']);
    expect(await catalog.indexes(d.defaultSchema, 'migfx_widgets')).to.deep.equal([]);
  }

  it('createTenant runs the whole set in each tenant, checked in the catalog', async () => {
    const a = await apartment.createTenant('a');
    const b = await apartment.createTenant('b');
    expect(a.ok && a.versions).to.have.length(4);
    expect(b.ok && b.versions).to.have.length(4);
    await expectMigrated('mig_a');
    await expectMigrated('mig_b');
    await expectDefaultUntouched();
  });

  it('down to the first version and up again restores the same catalog state', async () => {
    const down = await apartment.migrateTenant('a', { direction: 'down', to: '20260101000001' });
    expect(down).to.deep.include({ ok: true, tenant: 'a', schema: 'mig_a' });
    expect((down as any).versions).to.deep.equal([
      '20260101000004-seed-users.js',
      '20260101000003-alter-widgets.js',
      '20260101000002-create-widgets.js',
      '20260101000001-create-users.js',
    ]);
    expect(await d.tables('mig_a')).to.deep.equal(['SequelizeMeta']);
    expect(await catalog.enums('mig_a')).to.deep.equal([]);
    // The other tenant is untouched.
    await expectMigrated('mig_b');

    const up = await apartment.migrateTenant('a');
    expect(up.ok && up.versions).to.have.length(4);
    await expectMigrated('mig_a');
    await expectDefaultUntouched();
  });

  it('step by step: down reverts the last one, up with `to` stops there', async () => {
    const down = await apartment.migrateTenant('b', { direction: 'down' });
    expect(down.ok && down.versions).to.deep.equal(['20260101000004-seed-users.js']);
    const down2 = await apartment.migrateTenant('b', { direction: 'down' });
    expect(down2.ok && down2.versions).to.deep.equal(['20260101000003-alter-widgets.js']);
    expect(await catalog.columns('mig_b', 'migfx_widgets')).to.deep.equal(['id', 'legacy', 'name', 'owner_id', 'status', 'title']);
    // (MySQL keeps the index that backed a dropped foreign key.)
    expect(await catalog.indexes('mig_b', 'migfx_widgets')).to.include('migfx_widgets_legacy_idx').and.not.include('migfx_widgets_label');
    expect(await d.tables('mig_b')).to.include.members(['migfx_scratch', 'migfx_trash']);
    await expectDefaultUntouched();
    const up = await apartment.migrateTenant('b', { to: 20260101000003 });
    expect(up.ok && up.versions).to.deep.equal(['20260101000003-alter-widgets.js']);
    expect(await apartment.migrationStatus('b')).to.deep.equal({
      executed: ['20260101000001-create-users.js', '20260101000002-create-widgets.js', '20260101000003-alter-widgets.js'],
      pending: ['20260101000004-seed-users.js'],
    });
    await apartment.migrateTenant('b');
    await expectMigrated('mig_b');
  });

  it('getQueryInterface() inside run addresses the tenant', async () => {
    const qi = sequelize.getQueryInterface();
    await apartment.run('a', async () => {
      const described = await qi.describeTable('migfx_widgets');
      expect(Object.keys(described).sort()).to.deep.equal(['id', 'kind', 'label', 'name', 'owner_id', 'status']);
      await qi.addColumn('migfx_widgets', 'extra', { type: DataTypes.ENUM('x', 'y') });
      expect(await qi.tableExists('migfx_widgets')).to.equal(true);
      expect(await qi.tableExists('migfx_nope')).to.equal(false);
      expect((await qi.showAllTables()).map(String).sort()).to.deep.equal(['migfx_renamed', 'migfx_users', 'migfx_widgets', 'SequelizeMeta'].sort());
      await qi.removeColumn('migfx_widgets', 'extra');
    });
    expect(await catalog.columns('mig_a', 'migfx_widgets')).to.not.include('extra');
    if (d.name === 'postgres') expect(await catalog.enums('mig_a')).to.include('enum_migfx_widgets_extra');
    await expectDefaultUntouched();
  });

  // ENUM types are schema objects on PostgreSQL only (the adapter's typeScoping).
  if (d.name === 'postgres') it("pgListEnums() and dropEnum(name) inside run list and drop the tenant's ENUM types, not the default schema's", async () => {
    const qi = sequelize.getQueryInterface() as any;
    await apartment.run('a', async () => {
      await sequelize.query(`CREATE TYPE "enum_migfx_dropme" AS ENUM ('x')`);
      const listed = (await qi.pgListEnums()).map((row: any) => row.enum_name).sort();
      expect(listed).to.include.members(['enum_migfx_dropme', 'enum_migfx_widgets_status']);
      expect(listed).to.not.include('enum_migfx_widgets_status2');
      await qi.dropEnum('enum_migfx_dropme');
    });
    expect(await catalog.enums('mig_a')).to.not.include('enum_migfx_dropme');
    // The default schema's type of the same name as a tenant's is untouched by a tenant drop.
    await apartment.run('a', () => sequelize.query(`CREATE TYPE "enum_migfx_widgets_status2" AS ENUM ('x')`));
    await sequelize.query(`CREATE TYPE "public"."enum_migfx_widgets_status2" AS ENUM ('decoy')`);
    // A type only the default schema has is not reached through the search_path either.
    await sequelize.query(`CREATE TYPE "public"."enum_migfx_only_public" AS ENUM ('decoy')`);
    try {
      await apartment.run('a', () => qi.dropEnum('enum_migfx_widgets_status2'));
      await apartment.run('a', () => qi.dropEnum('enum_migfx_only_public'));
      expect(await catalog.enums('mig_a')).to.not.include('enum_migfx_widgets_status2');
      expect(await catalog.enums('public')).to.include.members(['enum_migfx_widgets_status2', 'enum_migfx_only_public']);
    } finally {
      await sequelize.query('DROP TYPE IF EXISTS "public"."enum_migfx_widgets_status2", "public"."enum_migfx_only_public"');
    }
    await expectDefaultUntouched();
  });

  it('Model.sync() and sync({ alter }) inside run create and alter the tenant table', async () => {
    const Synced = sequelize.define('MigSynced', {
      state: DataTypes.ENUM('on', 'off'),
      label: { type: DataTypes.STRING, unique: true },
    }, { tableName: 'migfx_synced', indexes: [{ fields: ['state'] }] });
    await apartment.run('a', () => Synced.sync());
    await apartment.run('a', () => Synced.sync());
    expect(await d.tables('mig_a')).to.include('migfx_synced');
    expect(await catalog.indexes('mig_a', 'migfx_synced')).to.include('migfx_synced_state');
    Synced.rawAttributes.note = { type: DataTypes.STRING } as any;
    (Synced as any).refreshAttributes();
    await apartment.run('a', () => Synced.sync({ alter: true }));
    expect(await catalog.columns('mig_a', 'migfx_synced')).to.include('note');
    if (d.name === 'postgres') expect(await catalog.enums('mig_a')).to.include('enum_migfx_synced_state');
    expect(await d.tables(d.defaultSchema)).to.not.include('migfx_synced');
    await expectDefaultUntouched();
  });
});
