import { expect } from 'chai';
import { describeDialects } from '../support/dialects';
import { Project, deadUrl, expectCode } from './project';

/** sequelize-cli's config/config.json section for a URL. */
function section(url: string, extra: Record<string, unknown> = {}) {
  const u = new URL(url);
  return {
    username: decodeURIComponent(u.username),
    password: u.password ? decodeURIComponent(u.password) : null,
    database: u.pathname.slice(1),
    host: u.hostname,
    port: Number(u.port),
    dialect: u.protocol.replace(':', ''),
    ...extra,
  };
}

describeDialects('apartment CLI: configuration', (d) => {
  const dead = deadUrl(d.url);
  let project: Project;

  beforeEach(() => {
    project = new Project();
  });
  afterEach(() => project.remove());

  async function list(args: string[] = [], env: Record<string, string> = {}) {
    return project.run(['tenant:list', '--json', ...args], env);
  }

  it('fails with a dead URL (the control for the precedence tests below)', async () => {
    const run = await list([], { DATABASE_URL: dead });
    expectCode(run, 1);
    expect(run.json()).to.include({ command: 'tenant:list', ok: false });
  });

  it('uses DATABASE_URL when nothing else is configured', async () => {
    const run = await list([], { DATABASE_URL: d.url });
    expectCode(run, 0);
    expect(run.json()).to.include({ ok: true, prefix: 'tenant_' });
  });

  it('prefers config/config.json (the NODE_ENV section, default development) over DATABASE_URL', async () => {
    project.write('config/config.json', { development: section(d.url), production: section(dead) });
    expectCode(await list([], { DATABASE_URL: dead }), 0);
    expectCode(await list([], { DATABASE_URL: dead, NODE_ENV: 'production' }), 1);
    expectCode(await list(['--env', 'development'], { DATABASE_URL: dead, NODE_ENV: 'production' }), 0);
  });

  it('reads config/config.js and use_env_variable like sequelize-cli', async () => {
    project.write('config/config.js', `module.exports = { staging: { use_env_variable: 'CLI_TEST_DB', logging: false } };\n`);
    expectCode(await list(['--env', 'staging'], { CLI_TEST_DB: d.url, DATABASE_URL: dead }), 0);
    const unset = await list(['--env', 'staging']);
    expectCode(unset, 1);
    expect(unset.stderr).to.contain('CLI_TEST_DB').and.contain('not set');
  });

  it('prefers .sequelizerc (url, env, config) over config/config.json', async () => {
    project.write('config/config.json', { development: section(dead) });
    project.rc({ url: d.url });
    expectCode(await list([], { DATABASE_URL: dead }), 0);

    project.write('db/config.json', { development: section(dead), qa: section(d.url) });
    project.rc({ config: 'db/config.json', env: 'qa' });
    expectCode(await list([], { DATABASE_URL: dead }), 0);
  });

  it('prefers flags (--url, --config) over .sequelizerc', async () => {
    project.rc({ url: dead, 'tenant-prefix': 'cli_rc_' });
    expectCode(await list(), 1);
    const byUrl = await list(['--url', d.url]);
    expectCode(byUrl, 0);
    expect(byUrl.json()).to.include({ prefix: 'cli_rc_' });

    project.write('other.json', { development: section(d.url) });
    expectCode(await list(['--config', 'other.json']), 0);
    expect((await list(['--url', d.url, '--prefix', 'cli_flag_'])).json()).to.include({ prefix: 'cli_flag_' });
  });

  it('takes the migrations folder from --migrations-path, else .sequelizerc, else tenant-migrations', async () => {
    const generate = async (args: string[] = []) => (await project.run(['migration:generate', '--name', 'x', '--json', ...args])).json().file;
    expect(await generate()).to.equal(project.path('tenant-migrations', project.files()[0]!));
    project.rc({ 'tenant-migrations-path': 'db/tenant' });
    expect(await generate()).to.match(/\/db\/tenant\/\d{14}-x\.js$/);
    expect(await generate(['--migrations-path', 'elsewhere'])).to.match(/\/elsewhere\/\d{14}-x\.js$/);
  });

  it('says what to fix when no database is configured', async () => {
    const run = await project.run(['db:migrate:status']);
    expectCode(run, 1);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.contain('No database configured').and.contain('--url').and.contain('DATABASE_URL').and.not.contain('    at ');
    const json = await project.run(['tenant:list', '--json']);
    expectCode(json, 1);
    expect(json.json()).to.deep.include({ ok: false, error: json.json().error });
    expect(json.json().error).to.include({ name: 'ConfigurationError' });
  });

  it('says which section is missing from the config file', async () => {
    project.write('config/config.json', { production: section(d.url) });
    const run = await list();
    expectCode(run, 1);
    expect(run.stderr).to.contain('no "development" section');
  });

  it('says what to fix when the tenant migrations folder is missing, naming it and the current folder (tenant:create too: no empty tenant)', async () => {
    project.rc({ url: d.url, 'tenant-migrations-path': 'db/tenant-migrations' });
    for (const command of [['tenant:create', 'cfgmissing'], ['db:migrate'], ['db:migrate:undo'], ['db:migrate:status']]) {
      const run = await project.run(command);
      expectCode(run, 1);
      expect(run.stderr, command.join(' '))
        .to.contain(project.path('db', 'tenant-migrations'))
        .and.contain('does not exist')
        .and.contain(`the current directory is ${project.dir}`)
        .and.contain('--migrations-path');
    }
    expect(await d.schemaExists('tenant_cfgmissing')).to.equal(false);
  });

  it('shows the stack only with --debug', async () => {
    const run = await project.run(['tenant:list', '--debug']);
    expectCode(run, 1);
    expect(run.stderr).to.contain('ConfigurationError').and.contain('    at ');
  });

  it('rejects a bad --concurrency before connecting', async () => {
    project.rc({ url: dead }).copy('tenant-migrations');
    const run = await project.run(['db:migrate', '--concurrency', '0']);
    expectCode(run, 1);
    expect(run.stderr).to.contain('Expected `--concurrency` to be a number from 1 and up, got `"0"` (string)');
  });
});
