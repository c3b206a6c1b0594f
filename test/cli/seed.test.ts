import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { describeDialects } from '../support/dialects';
import { P, Project, expectCode } from './project';

const S1 = '20260102000001-starter-gadgets.js';
const S2 = '20260102000002-demo-gadgets.js';

/** The db:seed commands end to end, as a user runs them, in one project on one server. */
describeDialects('apartment CLI: db:seed commands', (d) => {
  let project: Project;
  let admin: Sequelize;
  const cli = (...args: string[]) => project.run(args);
  const gadgets = async (key: string) => {
    const rows = await admin.query(`SELECT name FROM ${d.q(P + key)}.${d.q('gadgets')} ORDER BY name`, { type: QueryTypes.SELECT });
    return (rows as Array<{ name: string }>).map((r) => r.name);
  };

  before(async () => {
    await d.dropAll(P);
    admin = d.sequelize();
    project = new Project().rc({ url: d.url, 'tenant-prefix': P }).copy('tenant-migrations');
    for (const key of ['alpha', 'beta', 'bad']) expectCode(await cli('tenant:create', key), 0);
  });
  after(async () => {
    project?.remove();
    await d.dropAll(P);
  });

  it('db:seed:all refuses a missing seeders folder and says how to fix it', async () => {
    const run = await cli('db:seed:all');
    expectCode(run, 1);
    expect(run.stderr).to.include('tenant-seeders').and.include('--seeders-path');
  });

  it('db:seed:all seeds every tenant once, exits 1 naming the failing tenant and seeder, and a re-run seeds nothing more', async () => {
    project.copy('tenant-seeders', 'tenant-seeders');
    const run = await cli('db:seed:all', '--json');
    expectCode(run, 1);
    const out = run.json();
    expect(out).to.include({ command: 'db:seed:all', ok: false, direction: 'up' });
    const byTenant = Object.fromEntries(out.results.map((r: any) => [r.tenant, r]));
    expect(byTenant.alpha).to.include({ ok: true }).and.deep.include({ versions: [S1, S2] });
    expect(byTenant.bad).to.include({ ok: false });
    expect(byTenant.bad.error).to.include({ migration: S2 });
    expect(await gadgets('alpha')).to.deep.equal(['demo', 'starter']);
    if (d.name === 'postgres') expect(await gadgets('bad')).to.deep.equal([]); // the run rolled back whole

    const again = await cli('db:seed:all');
    expectCode(again, 1); // bad still fails
    expect(again.stdout).to.match(/SEEDERS RUN/).and.match(/alpha\s+ok\s+nothing to apply/);
    expect(await gadgets('alpha')).to.deep.equal(['demo', 'starter']);
  });

  it('db:seed --seed runs one seeder; --tenant limits it to one tenant', async () => {
    expectCode(await cli('tenant:create', 'gamma'), 0);
    const run = await cli('db:seed', '--seed', S1.replace(/\.js$/, ''), '--tenant', 'gamma', '--json');
    expectCode(run, 0);
    expect(run.json().results).to.deep.equal([{ ...run.json().results[0], tenant: 'gamma', ok: true, versions: [S1] }]);
    expect(await gadgets('gamma')).to.deep.equal(['starter']);
    const unknown = await cli('db:seed', '--seed', 'nope');
    expectCode(unknown, 1);
    expect(unknown.stderr).to.include('nope');
  });

  it('db:seed:undo reverts the last seeder, db:seed:undo:all every one', async () => {
    const undo = await cli('db:seed:undo', '--tenant', 'alpha', '--json');
    expectCode(undo, 0);
    expect(undo.json().results[0]).to.deep.include({ tenant: 'alpha', versions: [S2] });
    expect(await gadgets('alpha')).to.deep.equal(['starter']);
    const all = await cli('db:seed:undo:all', '--tenant', 'alpha');
    expectCode(all, 0);
    expect(all.stdout).to.match(/SEEDERS REVERTED/);
    expect(await gadgets('alpha')).to.deep.equal([]);
    expect(await gadgets('beta')).to.deep.equal(['demo', 'starter']);
  });
});
