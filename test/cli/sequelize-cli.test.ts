import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { describeDialects } from '../support/dialects';
import { ROOT } from '../support/paths';
import { P, Project, expectCode } from './project';

const SEQUELIZE_CLI = path.join(ROOT, 'node_modules', 'sequelize-cli', 'lib', 'sequelize');
// Shared tables this run creates in the default schema/database (the fixture reads CLI_PLANS_TABLE).
const PLANS = `${P}plans`;
const META = `${P}meta`;
const ENV = { CLI_PLANS_TABLE: PLANS };

/**
 * .sequelizerc.example in a project: sequelize-cli runs the shared migrations
 * into the default schema/database, `apartment` the tenant ones into each
 * tenant, from the same .sequelizerc and config/config.json.
 */
describeDialects('apartment CLI beside sequelize-cli (.sequelizerc.example)', (d) => {
  let project: Project;

  async function dropShared(): Promise<void> {
    const sequelize = d.sequelize();
    for (const table of [PLANS, META]) await sequelize.getQueryInterface().dropTable(table);
  }

  /** config/config.json in sequelize-cli's shape, for this dialect's test server. */
  function config(): object {
    const url = new URL(d.url);
    return {
      development: {
        username: decodeURIComponent(url.username),
        password: url.password ? decodeURIComponent(url.password) : null,
        database: url.pathname.slice(1),
        host: url.hostname,
        port: Number(url.port),
        dialect: url.protocol.replace(':', ''),
        // Keeps this test's sequelize-cli bookkeeping apart from anything else on the shared server.
        migrationStorageTableName: META,
      },
    };
  }

  before(async () => {
    await d.dropAll(P);
    await dropShared();
    project = new Project();
    fs.copyFileSync(path.join(ROOT, '.sequelizerc.example'), project.path('.sequelizerc'));
    project.write('config/config.json', config());
    project.copy('shared-migrations', 'db/migrations').copy('tenant-migrations', 'db/tenant-migrations');
  });
  after(async () => {
    project?.remove();
    await d.dropAll(P);
    await dropShared();
  });

  it('sequelize-cli db:migrate runs the shared migrations, apartment db:migrate the tenant ones', async () => {
    const shared = await project.run(['db:migrate'], ENV, [SEQUELIZE_CLI]);
    expectCode(shared, 0);
    expect(shared.stdout).to.contain('20260101000000-create-cli-plans');
    expect(await d.tables(d.defaultSchema)).to.include.members([PLANS, META]);

    // apartment reads the example's (non-enumerable) tenant keys; the tests keep to their own prefix.
    const listed = await project.run(['tenant:list', '--json']);
    expectCode(listed, 0);
    expect(listed.json().prefix).to.equal('tenant_');
    expectCode(await project.run(['tenant:create', 'one', '--prefix', P]), 0);
    expectCode(await project.run(['tenant:create', 'two', '--prefix', P]), 0);
    const run = await project.run(['db:migrate', '--prefix', P, '--json']);
    expectCode(run, 0);
    expect(run.json().results.map((r: any) => [r.tenant, r.ok])).to.deep.equal([['one', true], ['two', true]]);
    const status = (await project.run(['db:migrate:status', '--prefix', P, '--json'])).json();
    expect(status.tenants.map((t: any) => t.executed.length)).to.deep.equal([3, 3]);

    for (const schema of [`${P}one`, `${P}two`]) {
      const tables = await d.tables(schema);
      expect(tables).to.include.members(['gadgets', 'parts', 'SequelizeMeta']);
      expect(tables).not.to.include(PLANS);
    }
    expect(await d.tables(d.defaultSchema)).not.to.include('gadgets');
    expect(await d.tables(d.defaultSchema)).not.to.include('parts');

    // And sequelize-cli sees nothing of the tenants.
    const sharedStatus = await project.run(['db:migrate:status'], ENV, [SEQUELIZE_CLI]);
    expectCode(sharedStatus, 0);
    expect(sharedStatus.stdout).to.contain('up 20260101000000-create-cli-plans.js').and.not.contain('gadgets');
  }).timeout(120_000);

  // Issue 22 point 7: the app's Apartment named in .sequelizerc, in the form both CLIs accept.
  // How .sequelizerc is read does not depend on the dialect: PostgreSQL only.
  if (d.name === 'postgres') it("the `apartment` key: non-enumerable (examples/readme/sequelizerc.js), both CLIs run; as a plain key sequelize-cli refuses it", async () => {
    const app = new Project();
    try {
      fs.copyFileSync(path.join(ROOT, 'examples/readme/sequelizerc.js'), app.path('.sequelizerc'));
      app.write('config/config.json', config()).copy('shared-migrations', 'db/migrations').copy('tenant-migrations', 'src/tenant-migrations');
      app.write('src/db.js', `const path = require('node:path');
const { Sequelize } = require('sequelize');
const { Apartment } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'index.js'))});
const sequelize = new Sequelize(${JSON.stringify(d.url)}, { logging: false });
module.exports = new Apartment(sequelize, { prefix: ${JSON.stringify(`${P}rc_`)}, migrationsPath: path.join(__dirname, 'tenant-migrations') });
`);
      const shared = await app.run(['db:migrate:status'], ENV, [SEQUELIZE_CLI]);
      expectCode(shared, 0);
      expect(shared.stdout).to.contain('20260101000000-create-cli-plans');
      // apartment reads the key: prefix and migrations folder come from src/db.js's instance.
      expectCode(await app.run(['tenant:create', 'acme']), 0);
      const listed = await app.run(['tenant:list', '--json']);
      expectCode(listed, 0);
      expect(listed.json()).to.deep.include({ prefix: `${P}rc_`, tenants: [{ tenant: 'acme', schema: `${P}rc_acme`, state: 'active' }] });
      expect(await d.tables(`${P}rc_acme`)).to.include.members(['gadgets', 'parts']);
      const status = await app.run(['db:migrate:status', '--json']);
      expectCode(status, 0);
      expect(status.json().tenants.map((t: any) => t.executed.length)).to.deep.equal([3]);
      // .sequelizerc.example shows the same key, in the same form.
      expect(fs.readFileSync(path.join(ROOT, '.sequelizerc.example'), 'utf8')).to.contain("//   apartment: { value: path.resolve('src', 'db.js') },");

      // The plain keys: sequelize-cli refuses to start.
      for (const [key, value] of [['apartment', './src/db.js'], ['tenant-prefix', 'tenant_'], ['tenant-migrations-path', './src/tenant-migrations']]) {
        app.rc({ config: app.path('config', 'config.json'), 'migrations-path': app.path('db', 'migrations'), [key]: value });
        const refused = await app.run(['db:migrate:status'], ENV, [SEQUELIZE_CLI]);
        expect(refused.code, `sequelize-cli with a plain '${key}' key:\n${refused.stdout}\n${refused.stderr}`).to.equal(1);
        expect(refused.stderr).to.match(new RegExp(`Unknown arguments?: (.*, )?${key}(,|\\n)`));
      }
    } finally {
      app.remove();
    }
  }).timeout(120_000);
});
