import * as path from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../support/paths';
import { describeDialects } from '../support/dialects';
import { P, Project, expectCode } from './project';

/** The app's own copy of Sequelize (package.json devDependency alias), a different version than the package's. */
const APP_COPY = { sequelize: 'sequelize-app-copy' };
const APP_VERSION = (require(path.join(ROOT, 'node_modules', 'sequelize-app-copy', 'package.json')) as { version: string }).version;
const OWN_VERSION = (require(path.join(ROOT, 'node_modules', 'sequelize', 'package.json')) as { version: string }).version;

/** A tenant migration that records which Sequelize it was given, as a table name. */
const RECORDS_VERSION = `module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('made_by_' + Sequelize.version.replace(/\\./g, '_'), { id: { type: Sequelize.INTEGER, primaryKey: true } });
  },
  async down(queryInterface, Sequelize) {
    await queryInterface.dropTable('made_by_' + Sequelize.version.replace(/\\./g, '_'));
  },
};
`;

/** The module an app has anyway: it creates Sequelize and the Apartment, and exports them. */
function appModule(url: string, prefix: string, migrationsPath = "path.join(__dirname, 'db', 'tenant-migrations')", seedersPath = "path.join(__dirname, 'db', 'tenant-seeders')"): string {
  return `const path = require('node:path');
const { Sequelize } = require('sequelize');
const { Apartment } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'index.js'))});
const sequelize = new Sequelize(${JSON.stringify(url)}, { logging: false });
const apartment = new Apartment(sequelize, { prefix: ${JSON.stringify(prefix)}, migrationsPath: ${migrationsPath}, seedersPath: ${seedersPath} });
module.exports = { sequelize, apartment };
`;
}

describeDialects("apartment CLI: the app's own Sequelize and Apartment", (d) => {
  const prefix = `${P}a`;
  let project: Project;

  before(() => expect(APP_VERSION, 'the test needs two different copies').not.to.equal(OWN_VERSION));
  beforeEach(async () => d.dropAll(prefix));
  afterEach(async () => {
    project?.remove();
    await d.dropAll(prefix);
  });

  it("builds Sequelize from the project's node_modules, not the package's own copy", async () => {
    project = new Project(APP_COPY).rc({ url: d.url, 'tenant-prefix': prefix }).write('tenant-migrations/20260101000001-records-version.js', RECORDS_VERSION);
    const run = await project.run(['tenant:create', 'acme', '--debug']);
    expectCode(run, 0);
    expect(run.stderr).to.contain(`sequelize ${APP_VERSION} from ${path.join(ROOT, 'node_modules', 'sequelize-app-copy')}`);
    expect(await d.tables(`${prefix}acme`)).to.include(`made_by_${APP_VERSION.replace(/\./g, '_')}`);
  });

  it('stops with what to install when the project has no sequelize', async () => {
    project = new Project({}).rc({ url: d.url, 'tenant-prefix': prefix }).write('tenant-migrations/20260101000001-records-version.js', RECORDS_VERSION);
    const run = await project.run(['tenant:create', 'acme', '--json']);
    expectCode(run, 1);
    expect(run.json().error.name).to.equal('ConfigurationError');
    expect(run.json().error.message).to.contain(`Cannot find the package \`sequelize\` from ${project.dir}`).and.contain('npm install sequelize');
    expect(await d.schemaExists(`${prefix}acme`)).to.equal(false);
  });

  it('--apartment takes the database, prefix and migrations folder from the app\'s instance', async () => {
    project = new Project(APP_COPY).write('src/db.js', appModule(d.url, prefix)).write('src/db/tenant-migrations/20260101000001-records-version.js', RECORDS_VERSION);
    const run = await project.run(['tenant:create', 'acme', '--apartment', './src/db.js', '--json']);
    expectCode(run, 0);
    expect(run.json().results[0]).to.deep.include({ tenant: 'acme', schema: `${prefix}acme`, ok: true, versions: ['20260101000001-records-version.js'] });
    // The app's Sequelize ran the migration: its copy, not the CLI's.
    expect(await d.tables(`${prefix}acme`)).to.include(`made_by_${APP_VERSION.replace(/\./g, '_')}`);
    // The same from a .sequelizerc key, so no flag needs repeating.
    project.rc({ apartment: './src/db.js' });
    const list = await project.run(['tenant:list', '--json']);
    expectCode(list, 0);
    expect(list.json()).to.deep.include({ prefix, tenants: [{ tenant: 'acme', schema: `${prefix}acme`, state: 'active' }] });
    expectCode(await project.run(['db:migrate:status', '--tenant', 'acme']), 0);
  });

  it('an Apartment with migrationsPath: false: tenant:create makes an empty tenant, db:migrate has nothing to do, migration:generate says where to set a folder', async () => {
    project = new Project(APP_COPY).write('src/db.js', appModule(d.url, prefix, 'false'));
    const created = await project.run(['tenant:create', 'acme', '--apartment', './src/db.js', '--json']);
    expectCode(created, 0);
    expect(created.json().results[0]).to.deep.include({ tenant: 'acme', ok: true, versions: [] });
    expect(await d.tables(`${prefix}acme`)).to.deep.equal([]);
    expectCode(await project.run(['db:migrate', '--apartment', './src/db.js']), 0);
    const generate = await project.run(['migration:generate', '--name', 'first', '--apartment', './src/db.js']);
    expectCode(generate, 1);
    expect(generate.stderr).to.contain('migrationsPath: false').and.contain('src/db.js');
  });

  it('refuses flags the instance already answers, and a module without an Apartment', async () => {
    project = new Project(APP_COPY).write('src/db.js', appModule(d.url, prefix)).write('src/none.js', 'module.exports = { answer: 42 };\n');
    const clash = await project.run(['tenant:list', '--apartment', './src/db.js', '--prefix', 'other_', '--url', d.url]);
    expectCode(clash, 1);
    expect(clash.stderr).to.contain('--url, --prefix cannot be combined with').and.contain('src/db.js');
    const none = await project.run(['tenant:list', '--apartment', './src/none.js']);
    expectCode(none, 1);
    expect(none.stderr).to.contain('exports no Apartment instance').and.contain('module.exports = apartment');
    const missing = await project.run(['tenant:list', '--apartment', './src/nope.js']);
    expectCode(missing, 1);
    expect(missing.stderr).to.contain(`${project.path('src', 'nope.js')}`).and.contain('does not exist');
  });

  it("db:seed:all --apartment reads the instance's own seedersPath; --seeders-path beside it is refused, not ignored", async () => {
    project = new Project(APP_COPY).write('src/db.js', appModule(d.url, prefix)).copy('tenant-migrations', 'src/db/tenant-migrations').copy('tenant-seeders', 'src/db/tenant-seeders');
    expectCode(await project.run(['tenant:create', 'acme', '--apartment', './src/db.js']), 0);
    // No ./tenant-seeders (the flag/.sequelizerc default) in the project: only src/db/tenant-seeders, the instance's.
    const seeded = await project.run(['db:seed', '--seed', '20260102000001-starter-gadgets', '--apartment', './src/db.js', '--json']);
    expectCode(seeded, 0);
    expect(seeded.json().results[0]).to.deep.include({ tenant: 'acme', ok: true, versions: ['20260102000001-starter-gadgets.js'] });
    const clash = await project.run(['db:seed:all', '--apartment', './src/db.js', '--seeders-path', './tenant-seeders']);
    expectCode(clash, 1);
    expect(clash.stderr).to.contain('--seeders-path cannot be combined with').and.contain('src/db.js');
    // The instance's folder missing: the message names it, and where to set it.
    project.write('src/nofolder.js', appModule(d.url, prefix, undefined, "path.join(__dirname, 'nowhere')"));
    const missing = await project.run(['db:seed:all', '--apartment', './src/nofolder.js']);
    expectCode(missing, 1);
    expect(missing.stderr).to.contain(project.path('src', 'nowhere')).and.contain('`seedersPath` of the Apartment in');
  });

  it('db:migrate:status refuses --concurrency (it reads every tenant in batched queries) instead of ignoring it', async () => {
    project = new Project(APP_COPY).write('src/db.js', appModule(d.url, prefix)).copy('tenant-migrations', 'src/db/tenant-migrations');
    const run = await project.run(['db:migrate:status', '--concurrency', '4', '--apartment', './src/db.js']);
    expectCode(run, 1);
    expect(run.stderr).to.match(/unknown option '--concurrency'/);
    expectCode(await project.run(['db:migrate', '--concurrency', '4', '--apartment', './src/db.js']), 0);
  });
});
