import { expect } from 'chai';
import { Apartment } from '../../lib';
import { describeDialects } from '../support/dialects';
import { fixture } from '../support/paths';
import { P, Project, expectCode } from './project';

const V5 = '20260101000005-fails-for-bad-tenants.js';

/** The fleet flags of db:migrate, db:migrate:undo and db:seed:all, and db:migrate:status --failed, as a user runs them. */
describeDialects('apartment CLI: fleet runs (canary, waves, --tenants, --resume, status --failed)', (d) => {
  let project: Project;
  const cli = (...args: string[]) => project.run(args);
  const pending = async () =>
    (await cli('db:migrate:status', '--json')).json().tenants.filter((t: any) => t.pending.length).map((t: any) => t.tenant);

  beforeEach(async function () {
    this.timeout(60_000);
    await d.dropAll(P);
    project?.remove();
    project = new Project().rc({ url: d.url, 'tenant-prefix': P }).copy('tenant-migrations');
    // Created through the API: five CLI starts per test would be most of this file's time.
    const apartment = new Apartment(d.sequelize(), { prefix: P, migrationsPath: fixture('cli', 'tenant-migrations') });
    for (const key of ['a', 'b', 'bad', 'c', 'd']) await apartment.createTenant(key);
    project.copy('failing');
  });
  after(async () => {
    project?.remove();
    await d.dropAll(P);
  });

  it('db:migrate --canary: a failing canary stops the run with exit code 2 and says so; nothing else ran', async () => {
    const run = await cli('db:migrate', '--canary', 'bad', '--json');
    expectCode(run, 2);
    const out = run.json();
    expect(out.ok).to.equal(false);
    expect(out.stopped).to.deep.include({ reason: 'canary' });
    expect(out.stopped.message).to.contain('--resume');
    expect(out.waves).to.have.length(1);
    expect(await pending()).to.deep.equal(['a', 'b', 'bad', 'c', 'd']);
    const human = await cli('db:migrate', '--canary', 'bad');
    expectCode(human, 2);
    expect(human.stdout).to.contain('canary: 1 tenant(s), 1 failed (bad): stopping').and.contain("STOPPED: The canary failed ('bad')");
  });

  it('db:migrate --wave-size with --max-failures stops before the next wave (exit code 3); --resume continues; status --failed lists the failures', async () => {
    const run = await cli('db:migrate', '--canary', '1', '--wave-size', '2', '--json');
    expectCode(run, 3);
    expect(run.json().waves.map((w: any) => w.tenants)).to.deep.equal([['a'], ['b', 'bad']]);
    expect(await pending()).to.deep.equal(['bad', 'c', 'd']);

    const failed = await cli('db:migrate:status', '--failed', '--json');
    expectCode(failed, 0);
    expect(failed.json().run).to.include({ state: 'stopped', direction: 'up' });
    expect(failed.json().failed.map((t: any) => [t.tenant, t.migration])).to.deep.equal([['bad', V5]]);
    expect(failed.json().failed[0].error).to.contain(`refusing to migrate ${P}bad`);
    expect(failed.json().notReached).to.deep.equal(['c', 'd']);
    const human = await cli('db:migrate:status', '--failed');
    expect(human.stdout).to.match(/bad\s+20260101000005-fails-for-bad-tenants\.js\s+/).and.contain('2 tenant(s) not reached').and.contain('db:migrate --resume');

    const resumed = await cli('db:migrate', '--resume', '--max-failures', '1', '--json');
    expectCode(resumed, 1);
    expect(resumed.json().results.map((r: any) => [r.tenant, r.ok])).to.deep.equal([['bad', false], ['c', true], ['d', true]]);
    expect(await pending()).to.deep.equal(['bad']);
    const nothing = await cli('db:migrate', '--resume', '--skip-tenants', 'bad', '--json');
    expectCode(nothing, 0);
    expect(nothing.json().results).to.deep.equal([]);
  });

  it('--tenants key,key and @file, --skip-tenants; unknown keys are refused before anything runs; --tenant with fleet flags is refused', async () => {
    project.write('list.txt', '# the first wave\nc\n\nd  # trailing comment\n');
    const file = await cli('db:migrate', '--tenants', '@list.txt', '--json');
    expectCode(file, 0);
    expect(file.json().results.map((r: any) => r.tenant)).to.deep.equal(['c', 'd']);
    const list = await cli('db:migrate', '--tenants', 'a,b', '--json');
    expectCode(list, 0);
    expect(await pending()).to.deep.equal(['bad']);
    const unknown = await cli('db:migrate', '--tenants', 'bad,ghost', '--json');
    expectCode(unknown, 1);
    expect(unknown.json().error).to.include({ name: 'TenantNotFoundError' });
    expect(await pending()).to.deep.equal(['bad']);
    const skip = await cli('db:migrate', '--skip-tenants', 'bad', '--json');
    expectCode(skip, 0);
    const both = await cli('db:migrate', '--tenant', 'a', '--canary', '1');
    expectCode(both, 1);
    expect(both.stderr).to.contain('--tenant runs one tenant');
    const waves = await cli('db:migrate', '--waves', '2', '--wave-size', '2');
    expectCode(waves, 1);
    expect(waves.stderr).to.contain('not both');
    const bad = await cli('db:migrate', '--max-failures', 'lots');
    expectCode(bad, 1);
    expect(bad.stderr).to.contain('--max-failures');
  });

  it('db:migrate:undo takes the same flags: a canary first, then the rest', async () => {
    expectCode(await cli('db:migrate', '--skip-tenants', 'bad'), 0);
    const run = await cli('db:migrate:undo', '--canary', 'a', '--waves', '2', '--skip-tenants', 'bad', '--json');
    expectCode(run, 0);
    expect(run.json().waves.map((w: any) => [w.canary, w.tenants])).to.deep.equal([[true, ['a']], [false, ['b', 'c']], [false, ['d']]]);
    expect(run.json().results.map((r: any) => r.versions)).to.deep.equal([[V5], [V5], [V5], [V5]]);
  });

  it('db:seed:all takes the same flags', async () => {
    project.copy('tenant-seeders', 'tenant-seeders');
    const run = await cli('db:seed:all', '--canary', 'a', '--tenants', 'a,b', '--json');
    expectCode(run, 0);
    expect(run.json().waves.map((w: any) => w.tenants)).to.deep.equal([['a'], ['b']]);
    expect(run.json().results.map((r: any) => r.tenant)).to.deep.equal(['a', 'b']);
    const again = await cli('db:seed:all', '--resume', '--json');
    expectCode(again, 0);
    expect(again.json().results).to.deep.equal([]);
  });
});
