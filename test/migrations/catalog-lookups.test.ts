import { expect } from 'chai';
import * as sinon from 'sinon';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { fixture } from '../support/paths';

/**
 * Per-tenant state reads are direct catalog lookups by name (pg_class joined
 * to pg_namespace on PostgreSQL), never a plan that grows with the number of
 * tenants (information_schema.tables scans every tenant's tables there), and
 * createTenant reads nothing it just created.
 */
describeDialects('catalog lookups per tenant', (d) => {
  const prefix = 'migcl_';
  before(() => d.dropAll(prefix));
  after(() => d.dropAll(prefix));

  function record(sequelize: ReturnType<typeof d.sequelize>): { statements: string[]; stop(): void } {
    const spy = sinon.spy(sequelize, 'query');
    return {
      get statements() {
        return spy.getCalls().map((call) => String(call.args[0]));
      },
      stop: () => spy.restore(),
    };
  }
  /** Statements that ask whether a tenant's SequelizeMeta exists (the name as a value, not as an identifier). */
  const metaLookups = (statements: string[]) => statements.filter((sql) => /'SequelizeMeta'|table_name\s*=\s*\?|relname\s*=\s*\?/i.test(sql));

  it('createTenant never asks whether the SequelizeMeta it is about to create exists', async () => {
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: fixture('migrations', 'basic') });
    const recording = record(sequelize);
    const result = await apartment.createTenant('fresh').finally(() => recording.stop());
    expect(result.ok).to.equal(true);
    expect(metaLookups(recording.statements), recording.statements.join('\n')).to.deep.equal([]);
    expect(await apartment.migrationStatus('fresh')).to.deep.equal({ executed: result.ok ? result.versions : [], pending: [] });
    expect(await d.tables(`${prefix}fresh`)).to.include('SequelizeMeta');
  });

  it('a migration run looks SequelizeMeta up once, by name in the catalog, and migrates a schema that has none', async () => {
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: fixture('migrations', 'basic') });
    // An existing, empty schema/database (say, made by hand): no SequelizeMeta yet.
    await sequelize.query(d.name === 'postgres' ? `CREATE SCHEMA ${d.q(`${prefix}bare`)}` : `CREATE DATABASE ${d.q(`${prefix}bare`)}`);
    const recording = record(sequelize);
    const result = await apartment.migrateTenant('bare').finally(() => recording.stop());
    expect(result.ok).to.equal(true);
    expect(result.ok && result.versions).to.have.length(3);
    const lookups = metaLookups(recording.statements);
    expect(lookups, recording.statements.join('\n')).to.have.length(1);
    if (d.name === 'postgres') {
      expect(recording.statements.filter((sql) => /information_schema/i.test(sql)), recording.statements.join('\n')).to.deep.equal([]);
      expect(lookups[0]).to.match(/pg_catalog\.pg_class/);
    }
    expect((await apartment.migrationStatus('bare')).pending).to.deep.equal([]);
    // Nothing pending: still one lookup, and no migration runs.
    const again = record(sequelize);
    const second = await apartment.migrateTenant('bare').finally(() => again.stop());
    expect(second.ok && second.versions).to.deep.equal([]);
    expect(metaLookups(again.statements)).to.have.length(1);
  });

  it("the query interface's tableExists and showAllTables in a tenant read the catalog by name", async () => {
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: fixture('migrations', 'basic') });
    await apartment.createTenant('qi');
    const qi = sequelize.getQueryInterface();
    const recording = record(sequelize);
    const [exists, missing, tables] = await apartment
      .run('qi', async () => [await qi.tableExists('migb_notes'), await qi.tableExists('nope'), (await qi.showAllTables()).map(String).sort()] as const)
      .finally(() => recording.stop());
    expect(exists).to.equal(true);
    expect(missing).to.equal(false);
    expect(tables).to.deep.equal((await d.tables(`${prefix}qi`)).sort());
    expect(tables).to.include.members(['migb_notes', 'SequelizeMeta']);
    if (d.name === 'postgres') expect(recording.statements.filter((sql) => /information_schema/i.test(sql))).to.deep.equal([]);
  });
});

describeDialects(
  'foreign-key lookups of removeColumn stay in the tenant database',
  (d) => {
    const prefix = 'migfk_';
    before(() => d.dropAll(prefix));
    after(() => d.dropAll(prefix));

    it("removeColumn of a foreign-key column drops the key, asking only the tenant's database", async () => {
      const sequelize = d.sequelize();
      const apartment = new Apartment(sequelize, { prefix, migrationsPath: fixture('migrations', 'basic') });
      await apartment.createTenant('a');
      const qi = sequelize.getQueryInterface();
      const { DataTypes } = require('sequelize');
      const spy = sinon.spy(sequelize, 'query');
      try {
        await apartment.run('a', async () => {
          await qi.createTable('owners', { id: { type: DataTypes.INTEGER, primaryKey: true } });
          await qi.createTable('pets', { id: { type: DataTypes.INTEGER, primaryKey: true }, ownerId: { type: DataTypes.INTEGER, references: { model: 'owners', key: 'id' } } });
          await qi.removeColumn('pets', 'ownerId');
        });
      } finally {
        spy.restore();
      }
      const lookups = spy.getCalls().map((call) => String(call.args[0])).filter((sql) => /KEY_COLUMN_USAGE/.test(sql) && /OR/.test(sql));
      expect(lookups).to.have.length.at.least(1);
      // A constant TABLE_SCHEMA in front of the OR: the server scans one database, not all of them.
      for (const sql of lookups) expect(sql).to.match(new RegExp(`WHERE TABLE_SCHEMA = '${prefix}a' AND \\(\\(`));
      const [keys] = await sequelize.query(
        "SELECT CONSTRAINT_NAME AS name FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'pets' AND REFERENCED_TABLE_NAME IS NOT NULL",
        { replacements: [`${prefix}a`] },
      );
      expect(keys).to.deep.equal([]);
      const [columns] = await sequelize.query("SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'pets'", { replacements: [`${prefix}a`] });
      expect((columns as Array<{ name: string }>).map((c) => c.name)).to.deep.equal(['id']);
    });
  },
  ['mysql'],
);
