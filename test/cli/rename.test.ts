import { expect } from 'chai';
import { describeDialects } from '../support/dialects';
import { P, Project, expectCode } from './project';

describeDialects('apartment CLI: tenant:rename', (d) => {
  let project: Project;
  const cli = (...args: string[]) => project.run(args);

  before(async () => {
    await d.dropAll(P);
    project = new Project().rc({ url: d.url, 'tenant-prefix': P }).copy('tenant-migrations');
    for (const key of ['old', 'taken']) expectCode(await cli('tenant:create', key), 0);
  });
  after(async () => {
    project?.remove();
    await d.dropAll(P);
  });

  it('renames a tenant with its tables (--json), and refuses an existing target with exit code 1', async () => {
    const run = await cli('tenant:rename', 'old', 'new', '--json');
    expectCode(run, 0);
    expect(run.json()).to.deep.equal({ command: 'tenant:rename', ok: true, from: 'old', to: 'new', schemas: { from: `${P}old`, to: `${P}new` } });
    expect(await d.schemaExists(`${P}old`)).to.equal(false);
    expect(await d.tables(`${P}new`)).to.include.members(['gadgets', 'parts', 'SequelizeMeta']);
    const human = await cli('tenant:rename', 'new', 'taken');
    expectCode(human, 1);
    expect(human.stderr).to.include("Tenant 'taken' already exists");
    expect((await cli('tenant:rename', 'ghost', 'x', '--json')).json().error).to.include({ name: 'TenantNotFoundError' });
  });
});
