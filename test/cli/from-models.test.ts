import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { ROOT } from '../support/paths';
import { describeDialects, type DialectHarness } from '../support/dialects';
import { P, Project, expectCode } from './project';

/**
 * The app's module: the test suite's models (test/support/models.ts) plus one
 * with what those lack (sizes, ENUM, DECIMAL, a renamed column, composite and
 * single unique keys, indexes, onDelete/onUpdate), on the app's Apartment.
 */
function appModule(url: string, prefix: string, citus: boolean): string {
  return `const path = require('node:path');
const { Sequelize, DataTypes } = require('sequelize');
const { Apartment } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'index.js'))});
const { defineModels } = require(${JSON.stringify(path.join(ROOT, 'dist', 'test', 'support', 'models.js'))});
const sequelize = new Sequelize(${JSON.stringify(url)}, { logging: false });
const { Widget } = defineModels(sequelize);
const Gadget = sequelize.define('Gadget', {
  code: { type: DataTypes.STRING(40), allowNull: false, unique: true },
  kind: { type: DataTypes.ENUM('small', 'large'), allowNull: false, defaultValue: 'small' },
  price: { type: DataTypes.DECIMAL(10, 2), defaultValue: 1.5 },
  active: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
  serial: { type: DataTypes.STRING(20), field: 'serial_no', unique: 'gadgets_batch_serial' },
  batch: { type: DataTypes.INTEGER, unique: 'gadgets_batch_serial' },
  notes: DataTypes.TEXT,
}, { tableName: 'gadgets', indexes: [{ fields: ['kind', 'price'] }, { name: 'gadgets_active', fields: ['active'] }, { unique: true, fields: ['batch', 'kind'] }] });
Gadget.belongsTo(Widget, { onDelete: 'CASCADE', onUpdate: 'RESTRICT' });
// The test process loads this module too, for the tenant made by sync() (no migrations there).
const migrationsPath = path.join(__dirname, process.env.APP_MIGRATIONS || 'tenant-migrations');
module.exports = new Apartment(sequelize, { prefix: ${JSON.stringify(prefix)}, sharedModels: ['Account'], migrationsPath${citus ? ", distribute: 'citus'" : ''} });
`;
}

/** Columns, indexes and constraints of a schema/database, with its own name replaced by <tenant>. */
async function catalog(d: DialectHarness, admin: Sequelize, schema: string): Promise<unknown> {
  const q = async (sql: string) => admin.query(sql, { replacements: [schema], type: QueryTypes.SELECT }); // typed: mariadb 3.1+ (sequelize#15701)
  const parts = d.name === 'postgres'
    ? {
        columns: await q(`SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, character_maximum_length, numeric_precision, numeric_scale
          FROM information_schema.columns WHERE table_schema = ? AND table_name <> 'SequelizeMeta' ORDER BY table_name, column_name`),
        indexes: await q(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = ? AND tablename <> 'SequelizeMeta' ORDER BY tablename, indexname`),
        constraints: await q(`SELECT conname, contype, conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE connamespace = (SELECT oid FROM pg_namespace WHERE nspname = ?) AND conrelid::regclass::text NOT LIKE '%SequelizeMeta%' ORDER BY conname`),
        enums: await q(`SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS labels FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
          WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = ?) GROUP BY t.typname ORDER BY 1`),
      }
    : {
        columns: await q(`SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLUMN_KEY
          FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> 'SequelizeMeta' ORDER BY TABLE_NAME, COLUMN_NAME`),
        indexes: await q(`SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS
          WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> 'SequelizeMeta' ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`),
        constraints: await q(`SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE
          FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
          WHERE k.TABLE_SCHEMA = ? ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME`),
      };
  return JSON.parse(JSON.stringify(parts).split(schema).join('<tenant>'));
}

/** The rows each catalog has that the other lacks, to show what differs when they do. */
function differences(a: any, b: any): string {
  const out: string[] = [];
  for (const key of Object.keys(a)) {
    const as = a[key].map((r: unknown) => JSON.stringify(r));
    const bs = b[key].map((r: unknown) => JSON.stringify(r));
    for (const r of as) if (!bs.includes(r)) out.push(`generated only: ${r}`);
    for (const r of bs) if (!as.includes(r)) out.push(`sync() only: ${r}`);
  }
  return out.join('\n');
}

describeDialects('apartment migration:generate --from-models', (d) => {
  const prefix = `${P}m`;
  let project: Project;
  let app: { sequelize: Sequelize; createTenant(k: string): Promise<unknown>; run<T>(k: string, fn: () => T): T; schemaFor(k: string): string };
  let admin: Sequelize;

  before(async () => {
    await d.dropAll(prefix);
    project = new Project().write('src/db.js', appModule(d.url, prefix, d.citus));
    fs.mkdirSync(project.path('src', 'empty'));
    admin = d.sequelize();
    // The tenant a sync() user has: made in this process with the app's own module and models.
    process.env.APP_MIGRATIONS = 'empty';
    try {
      app = require(project.path('src', 'db.js'));
    } finally {
      delete process.env.APP_MIGRATIONS;
    }
    await app.sequelize.models.Account!.sync();
    await app.createTenant('synced');
    await app.run('synced', () => app.sequelize.sync());
  });
  after(async () => {
    await app?.sequelize.close();
    project?.remove();
    await d.dropAll(prefix);
  });

  it("writes one tenant migration for the app's tenant models, in dependency order, shared models left out", async () => {
    const run = await project.run(['migration:generate', '--name', 'initial', '--from-models', './src/db.js', '--json']);
    expectCode(run, 0);
    const file = run.json().file as string;
    expect(path.dirname(file), "the Apartment's migrations folder").to.equal(project.path('src', 'tenant-migrations'));
    const source = fs.readFileSync(file, 'utf8');
    const order = ['widgets', 'tags', 'parts', 'widget_tags', 'gadgets'].map((t) => source.indexOf(`createTable("${t}"`));
    for (const at of order) expect(at).to.be.greaterThan(-1);
    expect(source.indexOf('createTable("widgets"')).to.be.lessThan(source.indexOf('createTable("parts"'));
    expect(source.indexOf('createTable("tags"')).to.be.lessThan(source.indexOf('createTable("widget_tags"'));
    expect(source).not.to.contain('createTable("core_accounts"');
    expect(source).to.contain('schema: SHARED_SCHEMA').and.contain(`const SHARED_SCHEMA = "${d.defaultSchema}"`);
  });

  it('the generated migration makes the same catalog as sync(): columns, types, nullability, defaults, indexes, keys', async () => {
    const created = await project.run(['tenant:create', 'generated', '--apartment', './src/db.js']);
    expectCode(created, 0);
    const generated = await catalog(d, admin, app.schemaFor('generated'));
    const synced = await catalog(d, admin, app.schemaFor('synced'));
    expect((generated as any).columns.length).to.be.greaterThan(25);
    expect((generated as any).constraints.length).to.be.greaterThan(3);
    expect(generated, differences(generated, synced)).to.deep.equal(synced);
  });

  it('its down drops every table it created', async () => {
    const undo = await project.run(['db:migrate:undo', '--tenant', 'generated', '--apartment', './src/db.js']);
    expectCode(undo, 0);
    expect(await d.tables(app.schemaFor('generated'))).to.deep.equal(['SequelizeMeta']);
    expectCode(await project.run(['db:migrate', '--tenant', 'generated', '--apartment', './src/db.js']), 0);
    expect(await catalog(d, admin, app.schemaFor('generated'))).to.deep.equal(await catalog(d, admin, app.schemaFor('synced')));
  });

  it('needs a module, and refuses one without an Apartment or Sequelize', async () => {
    const none = await project.run(['migration:generate', '--name', 'x', '--from-models']);
    expectCode(none, 1);
    expect(none.stderr).to.contain('--from-models needs the module');
    project.write('src/nothing.js', 'module.exports = {};\n');
    const bad = await project.run(['migration:generate', '--name', 'x', '--from-models', './src/nothing.js']);
    expectCode(bad, 1);
    expect(bad.stderr).to.contain('exports neither an Apartment nor a Sequelize instance');
  });
});
