import { expect } from 'chai';
import { describeDialects } from '../support/dialects';
import { P, Project, expectCode } from './project';

const V1 = '20260101000001-create-gadgets.js';
const V2 = '20260101000002-add-gadget-color.js';
const V3 = '20260101000003-create-parts.js';

/** db:migrate(:undo) --dry-run, the uneven-undo guard and status --verbose, over tenants at different versions. */
describeDialects('apartment CLI: dry runs and tenants at different versions', (d) => {
  const prefix = `${P}p`;
  let project: Project;
  const cli = (...args: string[]) => project.run(args);
  /** What a user would check by hand: each tenant's tables and applied migrations. */
  const catalog = async () => {
    const status = (await cli('db:migrate:status', '--json')).json().tenants;
    return Promise.all(status.map(async (t: any) => [t.tenant, await d.tables(t.schema), t.executed]));
  };

  before(async () => {
    await d.dropAll(prefix);
    project = new Project().rc({ url: d.url, 'tenant-prefix': prefix }).copy('tenant-migrations');
    for (const key of ['a', 'b', 'c']) expectCode(await cli('tenant:create', key), 0);
    expectCode(await cli('db:migrate:undo', '--tenant', 'a'), 0); // a at V2, b and c at V3
  });
  after(async () => {
    project?.remove();
    await d.dropAll(prefix);
  });

  it('db:migrate:undo refuses when tenants are at different migrations, says which are where, and changes nothing', async () => {
    const before = await catalog();
    const run = await cli('db:migrate:undo');
    expectCode(run, 1);
    expect(run.stderr).to.contain(`a at ${V2}`).and.contain(`b, c at ${V3}`);
    expect(run.stderr).to.contain('--force').and.contain('apartment db:migrate:undo --tenant <key>').and.contain('--to <version>');
    expect(await catalog()).to.deep.equal(before);
    expect((await cli('db:migrate:undo', '--json')).json().error.name).to.equal('ConfigurationError');
  });

  it('db:migrate:undo --dry-run --force shows what each tenant would revert; nothing changes', async () => {
    const before = await catalog();
    const run = await cli('db:migrate:undo', '--dry-run', '--force', '--json');
    expectCode(run, 0);
    expect(run.json()).to.include({ command: 'db:migrate:undo', ok: true, dryRun: true, direction: 'down' });
    expect(run.json().plans.map((p: any) => [p.tenant, p.last, p.versions])).to.deep.equal([
      ['a', V2, [V2]],
      ['b', V3, [V3]],
      ['c', V3, [V3]],
    ]);
    const human = await cli('db:migrate:undo', '--dry-run', '--force');
    expect(human.stdout).to.match(/TENANT\s+LAST APPLIED\s+WOULD REVERT/).and.match(new RegExp(`a\\s+${V2}\\s+${V2}`));
    expect(human.stdout).to.contain('Dry run: nothing was changed; 3 of 3 tenant(s) would revert.');
    expect(await catalog()).to.deep.equal(before);
  });

  it('db:migrate:undo --to needs no --force: every tenant goes back to the same version', async () => {
    const run = await cli('db:migrate:undo', '--to', V2, '--dry-run', '--json');
    expectCode(run, 0);
    expect(run.json().plans.map((p: any) => [p.tenant, p.versions])).to.deep.equal([['a', [V2]], ['b', [V3, V2]], ['c', [V3, V2]]]);
  });

  it('db:migrate --dry-run shows what would be applied per tenant; nothing changes', async () => {
    const before = await catalog();
    const all = await cli('db:migrate', '--dry-run', '--json');
    expectCode(all, 0);
    expect(all.json().plans.map((p: any) => [p.tenant, p.versions])).to.deep.equal([['a', [V3]], ['b', []], ['c', []]]);
    const one = await cli('db:migrate', '--dry-run', '--tenant', 'a');
    expectCode(one, 0);
    expect(one.stdout).to.match(new RegExp(`a\\s+${V2}\\s+${V3}`)).and.contain('1 of 1 tenant(s) would migrate');
    expect(await catalog()).to.deep.equal(before);
    expect(await d.tables(`${prefix}a`)).not.to.include('parts');
  });

  it('db:migrate:status over all tenants shows counts; --verbose lists the pending names per tenant', async () => {
    const plain = await cli('db:migrate:status');
    expectCode(plain, 0);
    expect(plain.stdout).to.match(new RegExp(`a\\s+2\\s+1\\s+${V2}`)).and.match(new RegExp(`b\\s+3\\s+0\\s+${V3}`));
    expect(plain.stdout).not.to.contain('a pending');
    expect(plain.stdout).to.contain('1 with pending migrations. --verbose lists them.');
    const verbose = await cli('db:migrate:status', '--verbose');
    expect(verbose.stdout).to.contain(`a pending:\n  ${V3}`).and.not.contain('b pending');
  });

  it('db:migrate:undo --force reverts each tenant\'s last migration', async () => {
    const run = await cli('db:migrate:undo', '--force', '--json');
    expectCode(run, 0);
    expect(run.json().results.map((r: any) => [r.tenant, r.versions])).to.deep.equal([['a', [V2]], ['b', [V3]], ['c', [V3]]]);
    expect((await catalog()).map(([t, , executed]: any) => [t, executed])).to.deep.equal([['a', [V1]], ['b', [V1, V2]], ['c', [V1, V2]]]);
  });
});
