import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { describeDialects } from '../support/dialects';
import { CLI, P, Project, expectCode } from './project';

const V1 = '20260101000001-create-gadgets.js';
const V2 = '20260101000002-add-gadget-color.js';
const V3 = '20260101000003-create-parts.js';
const V4 = '20260101000004-create-gizmos.js';
const V5 = '20260101000005-fails-for-bad-tenants.js';

/** Every command end to end, as a user runs them, in one project on one server. */
describeDialects('apartment CLI: commands', (d) => {
  let project: Project;
  const cli = (...args: string[]) => project.run(args);

  before(async () => {
    await d.dropAll(P);
    project = new Project().rc({ url: d.url, 'tenant-prefix': P }).copy('tenant-migrations');
  });
  after(async () => {
    project?.remove();
    await d.dropAll(P);
  });

  it('tenant:create creates the schema/database and runs every tenant migration (--json)', async () => {
    const run = await cli('tenant:create', 'alpha', '--json');
    expectCode(run, 0);
    const out = run.json();
    expect(out).to.include({ command: 'tenant:create', ok: true });
    expect(out.results).to.have.length(1);
    expect(out.results[0]).to.include({ tenant: 'alpha', schema: `${P}alpha`, ok: true });
    expect(out.results[0].versions).to.deep.equal([V1, V2, V3]);
    expect(await d.tables(`${P}alpha`)).to.include.members(['gadgets', 'parts', 'SequelizeMeta']);
  });

  it('tenant:create prints a summary table for humans', async () => {
    const run = await cli('tenant:create', 'beta');
    expectCode(run, 0);
    expect(run.stdout).to.match(/TENANT\s+STATUS\s+VERSIONS APPLIED\s+TIME/);
    expect(run.stdout).to.match(/beta\s+ok\s+20260101000001-create-gadgets\.js/);
    expect(run.stderr).to.equal('');
    expect(await d.schemaExists(`${P}beta`)).to.equal(true);
  });

  it('tenant:create refuses an existing tenant and an invalid key with exit code 1', async () => {
    const exists = await cli('tenant:create', 'alpha', '--json');
    expectCode(exists, 1);
    expect(exists.json().error).to.include({ name: 'TenantExistsError' });
    const invalid = await cli('tenant:create', 'Not Valid');
    expectCode(invalid, 1);
    expect(invalid.stderr).to.contain('Not Valid').and.not.contain('    at ');
    expect((await cli('tenant:create', 'Not Valid', '--json')).json().error).to.include({ name: 'TenantNameError' });
  });

  it('tenant:list lists the tenants with their schema/database and state', async () => {
    await cli('tenant:create', 'bad');
    const run = await cli('tenant:list', '--json');
    expectCode(run, 0);
    expect(run.json()).to.deep.equal({
      command: 'tenant:list',
      ok: true,
      prefix: P,
      tenants: [
        { tenant: 'alpha', schema: `${P}alpha`, state: 'active' },
        { tenant: 'bad', schema: `${P}bad`, state: 'active' },
        { tenant: 'beta', schema: `${P}beta`, state: 'active' },
      ],
    });
    const human = await cli('tenant:list');
    expect(human.stdout).to.match(new RegExp(`alpha\\s+${P}alpha\\s+active`)).and.to.contain('3 tenant(s)');
  });

  it('db:migrate:status shows executed and pending per tenant', async () => {
    project.copy('more');
    const one = await cli('db:migrate:status', '--tenant', 'alpha', '--json');
    expectCode(one, 0);
    expect(one.json().tenants).to.deep.equal([{ tenant: 'alpha', schema: `${P}alpha`, ok: true, executed: [V1, V2, V3], pending: [V4] }]);
    const all = await cli('db:migrate:status', '--json');
    expectCode(all, 0);
    expect(all.json().tenants.map((t: any) => [t.tenant, t.pending])).to.deep.equal([['alpha', [V4]], ['bad', [V4]], ['beta', [V4]]]);
    const human = await cli('db:migrate:status', '--tenant', 'alpha');
    expect(human.stdout).to.contain(`up   ${V3}`).and.contain(`down ${V4}`);
  });

  it('db:migrate applies pending migrations in every tenant', async () => {
    const run = await cli('db:migrate', '--json', '--concurrency', '2');
    expectCode(run, 0);
    const out = run.json();
    expect(out).to.include({ command: 'db:migrate', ok: true, direction: 'up', to: null });
    expect(out.results.map((r: any) => [r.tenant, r.ok, r.versions])).to.deep.equal([
      ['alpha', true, [V4]],
      ['bad', true, [V4]],
      ['beta', true, [V4]],
    ]);
    for (const r of out.results) expect(r.elapsedMs).to.be.a('number');
    for (const schema of [`${P}alpha`, `${P}bad`, `${P}beta`]) expect(await d.tables(schema)).to.include('gizmos');
    const again = await cli('db:migrate');
    expectCode(again, 0);
    expect(again.stdout).to.match(/alpha\s+ok\s+nothing to apply/).and.contain('3 of 3 tenant(s) ok');
    expect(again.stderr, 'no progress bar when stderr is not a terminal').to.equal('');
  });

  it('draws a progress bar on a terminal (util-linux `script` provides one)', () => {
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const terminal = spawnSync('script', ['-qec', [process.execPath, CLI, 'db:migrate'].map(quote).join(' '), '/dev/null'], {
      cwd: project.dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(terminal.error, 'util-linux `script` is needed for this test').to.equal(undefined);
    expect(terminal.status, terminal.stdout).to.equal(0);
    expect(terminal.stdout).to.match(/migrating \[[=-]+\] \d\/3 tenants/);
    expect(terminal.stdout).to.contain('3 of 3 tenant(s) ok');
  });

  it('db:migrate:undo reverts the last migration of each tenant', async () => {
    const run = await cli('db:migrate:undo', '--json');
    expectCode(run, 0);
    expect(run.json().results.map((r: any) => [r.tenant, r.versions])).to.deep.equal([['alpha', [V4]], ['bad', [V4]], ['beta', [V4]]]);
    for (const schema of [`${P}alpha`, `${P}bad`, `${P}beta`]) expect(await d.tables(schema)).not.to.include('gizmos');
  });

  it('db:migrate:undo --tenant --to reverts back to and including that version, db:migrate --to re-applies up to it', async () => {
    const undo = await cli('db:migrate:undo', '--tenant', 'alpha', '--to', '20260101000002', '--json');
    expectCode(undo, 0);
    expect(undo.json().results).to.have.length(1);
    expect(undo.json().results[0]).to.deep.include({ tenant: 'alpha', ok: true, versions: [V3, V2] });
    expect(await d.tables(`${P}alpha`)).not.to.include('parts');
    expect(await d.tables(`${P}beta`)).to.include('parts');

    const up = await cli('db:migrate', '--tenant', 'alpha', '--to', '20260101000003', '--json');
    expectCode(up, 0);
    expect(up.json().results[0]).to.deep.include({ tenant: 'alpha', ok: true, versions: [V2, V3] });
    const status = (await cli('db:migrate:status', '--tenant', 'alpha', '--json')).json();
    expect(status.tenants[0].pending).to.deep.equal([V4]);
    expectCode(await cli('db:migrate', '--tenant', 'alpha'), 0);
  });

  it('db:migrate exits 1 when one tenant fails, migrates the others and names the failing migration', async () => {
    project.copy('failing');
    const run = await cli('db:migrate', '--json');
    expectCode(run, 1);
    const byTenant = Object.fromEntries(run.json().results.map((r: any) => [r.tenant, r]));
    expect(run.json().ok).to.equal(false);
    expect(byTenant.alpha).to.deep.include({ ok: true, versions: [V5] });
    expect(byTenant.beta).to.deep.include({ ok: true, versions: [V4, V5] }); // V4 was undone in beta above
    expect(byTenant.bad.ok).to.equal(false);
    expect(byTenant.bad.error.message).to.contain(V5.replace(/\.js$/, ''));
    expect(await d.tables(`${P}bad`)).not.to.include('widgets_ok');

    const human = await cli('db:migrate');
    expectCode(human, 1);
    expect(human.stdout).to.match(/bad\s+failed/).and.contain(`refusing to migrate ${P}bad`).and.contain('1 failed');
  });

  it('tenant:create exits 1 when a migration fails and leaves no schema/database behind', async () => {
    const run = await cli('tenant:create', 'bad2', '--json');
    expectCode(run, 1);
    expect(run.json().results[0]).to.deep.include({ tenant: 'bad2', ok: false });
    expect(run.json().results[0].error.message).to.contain(V5.replace(/\.js$/, ''));
    expect(await d.schemaExists(`${P}bad2`)).to.equal(false);
  });

  it('tenant:drop drops the schema/database', async () => {
    const run = await cli('tenant:drop', 'bad', '--json');
    expectCode(run, 0);
    expect(run.json()).to.deep.equal({ command: 'tenant:drop', ok: true, tenant: 'bad', schema: `${P}bad` });
    expect(await d.schemaExists(`${P}bad`)).to.equal(false);
    const missing = await cli('tenant:drop', 'bad');
    expectCode(missing, 1);
    expect(missing.stderr).to.contain('bad');
    expect((await cli('db:migrate')).code).to.equal(0);
  });
});
