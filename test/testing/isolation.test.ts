import { expect } from 'chai';
import { AssertionError } from 'node:assert';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { Apartment } from '../../lib';
import { expectIsolated, isolationReport, settle } from '../../lib/testing';
import { MigrationSets } from '../../bench/migration-sets';
import { defineModels } from '../../bench/models';
import { describeDialects } from '../support/dialects';

const PREFIX = 'kiti_';

describeDialects('testing kit: expectIsolated and isolationReport', (d) => {
  let sets: MigrationSets;
  let folder: string;
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Widget: ModelStatic<Model>;
  const build = (options: { strict?: boolean } = {}) => {
    sequelize = d.sequelize();
    ({ Widget } = defineModels(sequelize));
    apartment = new Apartment(sequelize, { prefix: PREFIX, migrationsPath: folder, ...d.apartmentOptions, ...options });
  };
  const kinds = (report: { findings: Array<{ kind: string }> }) => [...new Set(report.findings.map((f) => f.kind))].sort();

  before(async () => {
    await d.dropAll(PREFIX);
    sets = new MigrationSets();
    folder = sets.generate('iso', 4);
  });
  beforeEach(() => build());
  afterEach(async () => {
    await settle(apartment);
    await d.dropAll(PREFIX);
  });
  after(() => sets.cleanup());

  it('code that stays in its tenant passes, sees no marker row, and both test tenants are dropped afterwards', async () => {
    const report = await isolationReport(apartment, async ({ tenant }) => {
      expect(apartment.current()).to.equal(tenant);
      await Widget.create({ name: 'mine' });
      await sequelize.query('SELECT * FROM widgets');
      return (await Widget.findAll()).map((w) => w.get('name'));
    });
    expect(report.findings).to.deep.equal([]);
    expect(report.value).to.deep.equal(['mine']);
    expect(report.statements).to.be.greaterThan(2);
    expect(report.marked).to.include.members(['widgets', 'tags', 'widget_tags']);
    expect(report.unmarked).to.deep.equal([]);
    expect(await expectIsolated(apartment, () => Widget.count())).to.equal(0);
    await settle(apartment);
    expect(await apartment.tenants()).to.deep.equal([]);
  });

  it('tables only migrations know (no model) get a marker row too, and a raw query reading one in the other tenant is caught', async () => {
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: PREFIX, migrationsPath: folder, ...d.apartmentOptions });
    const leak = ({ other }: { other: string }) => sequelize.query(`SELECT * FROM ${d.q(apartment.schemaFor(other))}.${d.q('tags')}`, { raw: true });
    const report = await isolationReport(apartment, leak);
    expect(report.marked).to.include.members(['widgets', 'tags', 'widget_tags']);
    expect(report.marked).to.not.include.members(['SequelizeMeta']);
    expect(report.unmarked).to.deep.equal([]);
    expect(kinds(report)).to.deep.equal(['marker-row', 'other-tenant']);
  });

  it('catches a raw query naming the other tenant\'s schema (the statement and the marker row it returns)', async () => {
    const leak = ({ other }: { other: string }) => sequelize.query(`SELECT * FROM ${d.q(apartment.schemaFor(other))}.${d.q('widgets')}`, { raw: true });
    const report = await isolationReport(apartment, leak);
    expect(kinds(report)).to.deep.equal(['marker-row', 'other-tenant']);
    expect((report.findings[0] as { sql: string }).sql).to.include(apartment.schemaFor(report.other));
    const error = await expectIsolated(apartment, leak).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(AssertionError);
    expect((error as Error).message).to.match(/^Not isolated: code run in tenant 'test_/).and.include('a statement reached tenant').and.include('a marker row');
  });

  it('catches a model pinned to the other tenant with Model.schema()', async () => {
    const report = await isolationReport(apartment, ({ other }) => Widget.schema(apartment.schemaFor(other)).findAll());
    expect(kinds(report)).to.deep.equal(['marker-row', 'other-tenant']);
    const error = await expectIsolated(apartment, ({ other }) => Widget.schema(apartment.schemaFor(other)).count()).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(AssertionError);
  });

  it('catches a query with no tenant reading the default schema (strict: false)', async () => {
    build({ strict: false });
    // Made outside any tenant: it runs with none wherever it is called from (a lost context).
    const noTenant = apartment.bind(() => Widget.findAll());
    const report = await isolationReport(apartment, () => noTenant());
    expect(kinds(report)).to.deep.equal(['default-schema']);
    expect(report.findings[0]).to.deep.include({ kind: 'default-schema', table: 'widgets' });
    const error = await expectIsolated(apartment, () => noTenant()).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(AssertionError);
    expect((error as Error).message).to.include('tenant table widgets was used with no tenant');
  });

  it('catches an instance loaded in one tenant and saved in the other', async () => {
    const report = await isolationReport(apartment, async ({ other }) => {
      const mine = await Widget.create({ name: 'mine' });
      mine.set('name', 'moved');
      await apartment.run(other, () => mine.save());
    });
    expect(kinds(report)).to.deep.equal(['cross-tenant']);
    expect(report).to.not.have.property('error');
    const error = await expectIsolated(apartment, async ({ other }) => {
      const theirs = await Widget.findOne({ tenant: other });
      theirs!.set('name', 'taken');
      await theirs!.save();
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(AssertionError);
    expect((error as Error).message).to.include('a statement reached tenant').and.include('a marker row');
  });

  it('rethrows what fn threw when nothing leaked', async () => {
    const error = await expectIsolated(apartment, () => Promise.reject(new RangeError('mine'))).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RangeError);
  });
});
