import { expect } from 'chai';
import * as path from 'node:path';
import type { Sequelize } from 'sequelize';
import { Apartment, ConfigurationError, MigrationError, TenantNotFoundError } from '../../lib';
import { SPARE_MARK } from '../../lib/migrations/warm';
import { describeDialects } from '../support/dialects';

const PREFIX = 'seed_';
const MIGRATIONS = path.resolve('test/fixtures/migrations/basic');
const OK = path.resolve('test/fixtures/seeders/ok');
const FAILING = path.resolve('test/fixtures/seeders/failing');
const WELCOME = '20260301000001-welcome-note.js';
const HELP = '20260301000002-help-notes.js';

describeDialects('tenant seeders: seedTenant, seedAll, undo, seed on create', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;

  const build = (options: ConstructorParameters<typeof Apartment>[1] = {}) => {
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: PREFIX, migrationsPath: MIGRATIONS, seedersPath: OK, ...options });
    return apartment;
  };
  /** What the user sees in a tenant: its notes, and which seeders its SequelizeData records. */
  const notes = async (key: string) => {
    const [rows] = await sequelize.query(`SELECT body FROM ${d.q(PREFIX + key)}.${d.q('migb_notes')} ORDER BY body`);
    return (rows as Array<{ body: string }>).map((r) => r.body);
  };
  const seeded = async (schema: string) => {
    if (!(await d.tables(schema)).includes('SequelizeData')) return undefined;
    const [rows] = await sequelize.query(`SELECT name FROM ${d.q(schema)}.${d.q('SequelizeData')} ORDER BY name`);
    return (rows as Array<{ name: string }>).map((r) => r.name);
  };

  beforeEach(async () => {
    await d.dropAll(PREFIX);
    build();
  });
  after(() => d.dropAll(PREFIX));

  it('seedTenant runs every seeder once in that tenant and records it in its SequelizeData; a second run seeds nothing', async () => {
    await apartment.createTenant('a');
    await apartment.createTenant('b');
    expect(await seeded(PREFIX + 'a')).to.equal(undefined); // createTenant does not seed by default
    expect(await apartment.seedTenant('a')).to.deep.equal({ ok: true, tenant: 'a', schema: PREFIX + 'a', versions: [WELCOME, HELP] });
    expect(await apartment.seedTenant('a')).to.deep.include({ ok: true, versions: [] });
    expect(await notes('a')).to.deep.equal(['help-1', 'help-2', 'welcome']);
    expect(await notes('b')).to.deep.equal([]);
    expect(await seeded(PREFIX + 'a')).to.deep.equal([WELCOME, HELP]);
    expect(await d.tables(PREFIX + 'b')).to.not.include('SequelizeData');
    expect(await apartment.seedStatus('b')).to.deep.equal({ executed: [], pending: [WELCOME, HELP] });
    // sequelize-cli's shape: one `name` column, the primary key.
    const [columns] = await sequelize.query(
      'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?',
      { replacements: [PREFIX + 'a', 'SequelizeData'] },
    );
    expect((columns as Array<{ name: string }>).map((c) => c.name)).to.deep.equal(['name']);
  });

  it('seedAll seeds every tenant, concurrently, and seeds each once however often it runs', async () => {
    for (const key of ['a', 'b', 'c']) await apartment.createTenant(key);
    await apartment.seedTenant('b', { only: WELCOME });
    const progress: string[] = [];
    const first = await apartment.seedAll({ onProgress: (r) => void progress.push(r.tenant) });
    expect(first.map((r) => [r.tenant, r.ok && r.versions])).to.deep.equal([['a', [WELCOME, HELP]], ['b', [HELP]], ['c', [WELCOME, HELP]]]);
    expect(progress.sort()).to.deep.equal(['a', 'b', 'c']);
    const second = await apartment.seedAll();
    expect(second.map((r) => r.ok && r.versions)).to.deep.equal([[], [], []]);
    for (const key of ['a', 'b', 'c']) expect(await notes(key)).to.deep.equal(['help-1', 'help-2', 'welcome']);
  });

  it('only runs the named seeders (with or without .js); an unknown name is refused before anything runs', async () => {
    await apartment.createTenant('a');
    expect(await apartment.seedTenant('a', { only: HELP.replace(/\.js$/, '') })).to.deep.include({ ok: true, versions: [HELP] });
    expect(await notes('a')).to.deep.equal(['help-1', 'help-2']);
    const error = await apartment.seedTenant('a', { only: 'nope' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigurationError);
    expect((error as Error).message).to.include('nope').and.include(OK);
    expect(await seeded(PREFIX + 'a')).to.deep.equal([HELP]);
  });

  it("undo reverts the last seeder, the named ones, or with all every one, and SequelizeData follows", async () => {
    await apartment.createTenant('a');
    await apartment.seedTenant('a');
    expect(await apartment.seedTenant('a', { direction: 'down' })).to.deep.include({ ok: true, versions: [HELP] });
    expect(await notes('a')).to.deep.equal(['welcome']);
    await apartment.seedTenant('a');
    expect(await apartment.seedTenant('a', { direction: 'down', only: WELCOME })).to.deep.include({ ok: true, versions: [WELCOME] });
    expect(await seeded(PREFIX + 'a')).to.deep.equal([HELP]);
    await apartment.seedTenant('a');
    expect(await apartment.seedTenant('a', { direction: 'down', all: true })).to.deep.include({ ok: true, versions: [HELP, WELCOME] });
    expect(await notes('a')).to.deep.equal([]);
    expect(await seeded(PREFIX + 'a')).to.deep.equal([]);
  });

  it(d.name === 'postgres' ? 'a failing seeder leaves nothing of the run behind in that tenant (one transaction)' : 'a failing seeder is reported with its name; seeders before it stay recorded', async () => {
    build({ seedersPath: FAILING });
    await apartment.createTenant('a');
    const result = await apartment.seedTenant('a');
    expect(result.ok).to.equal(false);
    const error = (result as unknown as { error: MigrationError }).error;
    expect(error).to.be.instanceOf(MigrationError);
    expect(error.migration).to.equal('20260301000002-broken.js');
    expect(error.message).to.include("tenant 'a'").and.include('seed again');
    if (d.name === 'postgres') {
      expect(await notes('a')).to.deep.equal([]);
      expect(await seeded(PREFIX + 'a') ?? []).to.deep.equal([]);
    } else {
      expect(await seeded(PREFIX + 'a')).to.deep.equal([WELCOME]);
    }
  });

  it('createTenant(key, { seed: true }) and the seedAfterCreate option seed the new tenant; a failing seeder leaves no tenant', async () => {
    expect(await apartment.createTenant('a', { seed: true })).to.deep.include({ ok: true });
    expect(await notes('a')).to.deep.equal(['help-1', 'help-2', 'welcome']);
    build({ seedAfterCreate: true });
    await apartment.createTenant('b');
    expect(await seeded(PREFIX + 'b')).to.deep.equal([WELCOME, HELP]);
    await apartment.createTenant('c', { seed: false });
    expect(await seeded(PREFIX + 'c')).to.equal(undefined);

    build({ seedersPath: FAILING });
    const error = await apartment.createTenant('bad', { seed: true }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MigrationError);
    expect((error as MigrationError).message).to.include("Creating tenant 'bad' failed").and.include('20260301000002-broken.js');
    expect(await d.schemaExists(PREFIX + 'bad')).to.equal(false);
  });

  it('warm spares are not seeded; a claimed spare is seeded when createTenant asks', async () => {
    await apartment.prewarm(1);
    const [spare] = await apartment.adapter.list(PREFIX + SPARE_MARK);
    expect(await seeded(spare!)).to.equal(undefined);
    await apartment.createTenant('a', { seed: true });
    expect(await apartment.adapter.list(PREFIX + SPARE_MARK)).to.deep.equal([]); // the spare was claimed
    expect(await seeded(PREFIX + 'a')).to.deep.equal([WELCOME, HELP]);
    await apartment.prewarm(1);
    await apartment.seedAll();
    const [next] = await apartment.adapter.list(PREFIX + SPARE_MARK);
    expect(await seeded(next!)).to.equal(undefined);
  });

  it('prewarm(n, { seed: true }) seeds the spares it builds; claiming one seeds nothing again', async () => {
    await apartment.prewarm(1, { seed: true });
    const [spare] = await apartment.adapter.list(PREFIX + SPARE_MARK);
    expect(await seeded(spare!)).to.deep.equal([WELCOME, HELP]);
    await apartment.createTenant('a', { seed: true });
    expect(await notes('a')).to.deep.equal(['help-1', 'help-2', 'welcome']); // once, not twice
  });

  it('folders: a missing one (default or set) is a ConfigurationError naming the path and the cwd when seeding, and creates nothing; false means none', async () => {
    build({ seedersPath: undefined });
    expect(apartment.seedersPath).to.equal(path.resolve('tenant-seeders'));
    await apartment.createTenant('a'); // no seeding asked for: the folder is not read
    for (const missing of [undefined, 'test/fixtures/seeders/missing']) {
      build({ seedersPath: missing });
      const absolute = path.resolve(missing ?? 'tenant-seeders');
      for (const call of [() => apartment.createTenant('b', { seed: true }), () => apartment.seedTenant('a'), () => apartment.seedAll(), () => apartment.seedStatus('a')]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).to.be.instanceOf(ConfigurationError);
        expect((error as Error).message).to.include(absolute).and.include(process.cwd()).and.include('seedersPath: false');
      }
      expect(await d.schemaExists(PREFIX + 'b')).to.equal(false);
    }
    build({ seedersPath: undefined, seedAfterCreate: true });
    expect(await apartment.createTenant('b').catch((e: unknown) => e)).to.be.instanceOf(ConfigurationError);
    expect(await d.schemaExists(PREFIX + 'b')).to.equal(false);

    build({ seedersPath: false, seedAfterCreate: true });
    expect(apartment.seedersPath).to.equal(false);
    await apartment.createTenant('b');
    expect(await apartment.seedAll()).to.have.length(2);
    expect(await apartment.seedStatus('b')).to.deep.equal({ executed: [], pending: [] });
    expect(() => build({ seedersPath: '' })).to.throw(ConfigurationError, /seedersPath/);
  });

  it('a tenant that does not exist is TenantNotFoundError', async () => {
    expect(await apartment.seedTenant('ghost').catch((e: unknown) => e)).to.be.instanceOf(TenantNotFoundError);
  });
});
