import * as path from 'node:path';
import { expect } from 'chai';
import { QueryTypes, Sequelize } from 'sequelize';
import { Apartment, CrossTenantError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { createLoginRole, rolesWithPrefix, type LoginRole } from '../support/login-role';
import { connect } from '../support/servers';
import { ROOT } from '../support/paths';
import { P, Project, expectCode } from './project';

/** The app's module: its Apartment with isolation 'role' and a shared model. */
function appModule(url: string, prefix: string, shared: string): string {
  return `const path = require('node:path');
const { Sequelize, DataTypes } = require('sequelize');
const { Apartment } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'index.js'))});
const sequelize = new Sequelize(${JSON.stringify(url)}, { logging: false });
const apartment = new Apartment(sequelize, { prefix: ${JSON.stringify(prefix)}, migrationsPath: path.join(__dirname, 'tenant-migrations'), sharedModels: ['Plan'], isolation: 'role' });
sequelize.define('Plan', { name: DataTypes.STRING }, { tableName: ${JSON.stringify(shared)}, timestamps: false });
module.exports = { sequelize, apartment };
`;
}

describeDialects('apartment CLI: tenant:roles', (d) => {
  const prefix = `${P}r`;
  const shared = `${P}plans`;
  let login: LoginRole;
  let project: Project;
  const cli = (...args: string[]) => project.run(args);

  before(async function () {
    this.timeout(60_000);
    login = await createLoginRole();
    project = new Project().rc({ url: login.url, 'tenant-prefix': prefix }).copy('tenant-migrations');
    // A deployment that ran without isolation: tenants made by the login role, a shared table too.
    for (const key of ['one', 'two']) expectCode(await cli('tenant:create', key), 0);
    const app = new Sequelize(login.url, { logging: false });
    await app.query(`CREATE TABLE "${shared}" (id serial PRIMARY KEY, name text)`);
    await app.close();
  });
  after(async function () {
    this.timeout(60_000);
    project?.remove();
    await login?.drop(prefix);
  });

  it('creates and grants the roles of existing tenants (--json), idempotent; then the database refuses cross-tenant reads', async () => {
    const first = await cli('tenant:roles', '--json');
    expectCode(first, 0);
    expect(first.json()).to.deep.equal({ command: 'tenant:roles', ok: true, tenants: 2, created: 2, group: `${prefix}_shared`, shared: [] });
    expect(await rolesWithPrefix(prefix)).to.deep.equal([`${prefix}_shared`, `${prefix}one`, `${prefix}two`]);
    const again = await cli('tenant:roles', '--json');
    expectCode(again, 0);
    expect(again.json()).to.include({ tenants: 2, created: 0 });

    const sequelize = new Sequelize(login.url, { logging: false });
    try {
      const apartment = new Apartment(sequelize, { prefix, migrationsPath: project.path('tenant-migrations'), isolation: 'role' });
      await apartment.run('one', async () => {
        const [me] = await sequelize.query('SELECT current_user AS me', { type: QueryTypes.SELECT });
        expect(me).to.deep.equal({ me: `${prefix}one` });
        const error = await sequelize.query(`SELECT * FROM "${prefix}two"."SequelizeMeta"`).then(() => undefined, (e: unknown) => e);
        expect(error).to.be.instanceOf(CrossTenantError);
      });
    } finally {
      await sequelize.close();
    }
  });

  it("prints what it did, and says that shared tables need the app's Apartment; with --apartment it grants them", async () => {
    const human = await cli('tenant:roles');
    expectCode(human, 0);
    expect(human.stdout).to.include('Roles of 2 tenant(s) and spare(s) are created and granted (0 new)').and.include('run with --apartment <module>');
    project.write('app.js', appModule(login.url, prefix, shared));
    const withApp = await cli('tenant:roles', '--apartment', 'app.js', '--json');
    expectCode(withApp, 0);
    expect(withApp.json()).to.deep.include({ tenants: 2, created: 0, shared: [shared] });
    const admin = connect('postgres', { pool: { max: 1 } });
    try {
      const [row] = await admin.query('SELECT has_table_privilege(?, ?, \'SELECT\') AS group_reads, has_table_privilege(?, ?, \'SELECT\') AS tenant_reads', {
        type: QueryTypes.SELECT,
        replacements: [`${prefix}_shared`, `"${shared}"`, `${prefix}one`, `"${shared}"`],
      });
      expect(row).to.deep.equal({ group_reads: true, tenant_reads: true });
    } finally {
      await admin.close();
    }
  });

  it("refuses an app Apartment without isolation: 'role' (exit code 1, what to change)", async () => {
    project.write('plain.js', appModule(login.url, prefix, shared).replace(", isolation: 'role'", ''));
    const run = await cli('tenant:roles', '--apartment', 'plain.js');
    expectCode(run, 1);
    expect(run.stderr).to.include("isolation: 'role'").and.include('apartment tenant:roles');
  });
}, ['postgres']);

describeDialects('apartment CLI: tenant:roles on MySQL/MariaDB', (d) => {
  it('exits 1 with a ConfigurationError: roles there are per session', async () => {
    const project = new Project().rc({ url: d.url, 'tenant-prefix': `${P}m` });
    try {
      const run = await project.run(['tenant:roles', '--json']);
      expectCode(run, 1);
      expect(run.json().error).to.include({ name: 'ConfigurationError' });
      expect(run.json().error.message).to.include('per session');
    } finally {
      project.remove();
    }
  });
}, ['mysql']);
