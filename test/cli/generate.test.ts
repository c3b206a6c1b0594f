import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { describeDialects } from '../support/dialects';
import { ROOT, fixture } from '../support/paths';
import { CLI, P, Project, expectCode } from './project';

/** Fills the `up`/`down` of a generated skeleton with a createTable/dropTable of `table`. */
function fill(file: string, table: string): void {
  let text = fs.readFileSync(file, 'utf8');
  const up = /(async (?:function )?up ?\([^)]*\)[^{]*\{)/;
  const down = /(async (?:function )?down ?\([^)]*\)[^{]*\{)/;
  expect(text).to.match(up).and.to.match(down);
  text = text
    .replace(up, `$1\n    await queryInterface.createTable('${table}', { id: { type: Sequelize.INTEGER, primaryKey: true } });`)
    .replace(down, `$1\n    await queryInterface.dropTable('${table}');`);
  fs.writeFileSync(file, text);
}

describeDialects('apartment CLI: migration:generate', (d) => {
  let project: Project;

  beforeEach(async () => {
    await d.dropAll(P);
    project = new Project().rc({ url: d.url, 'tenant-prefix': P, 'tenant-migrations-path': 'db/tenant-migrations' });
  });
  afterEach(async () => {
    project.remove();
    await d.dropAll(P);
  });

  it('writes YYYYMMDDHHMMSS-<name>.js from migration-templates/, creating the folder', async () => {
    const before = new Date().toISOString().replace(/\D/g, '').slice(0, 8);
    const run = await project.run(['migration:generate', '--name', 'create-gadgets']);
    expectCode(run, 0);
    const [file] = project.files('db/tenant-migrations');
    expect(file).to.match(/^\d{14}-create-gadgets\.js$/);
    expect(run.stdout).to.contain(path.join('db', 'tenant-migrations', file!));
    expect(fs.readFileSync(project.path('db/tenant-migrations', file!), 'utf8')).to.equal(fs.readFileSync(path.join(ROOT, 'migration-templates', 'migration.js'), 'utf8'));
    // The version is the UTC time, as sequelize-cli's.
    const after = new Date().toISOString().replace(/\D/g, '').slice(0, 8);
    expect([before, after]).to.include(file!.slice(0, 8));
  });

  it('never gives two files the same version', async () => {
    const files: string[] = [];
    for (const name of ['a', 'b', 'c']) files.push((await project.run(['migration:generate', '--name', name, '--json'])).json().version);
    expect(new Set(files).size).to.equal(3);
  });

  it('refuses a name that is not file-name-safe', async () => {
    const run = await project.run(['migration:generate', '--name', '../escape']);
    expectCode(run, 1);
    expect(run.stderr).to.contain('--name');
    expect(fs.existsSync(project.path('db'))).to.equal(false);
  });

  it('a generated .js migration runs in every tenant', async () => {
    fs.mkdirSync(project.path('db/tenant-migrations'), { recursive: true });
    expectCode(await project.run(['tenant:create', 'gen']), 0);
    const generated = (await project.run(['migration:generate', '--name', 'create-cli-gen', '--json'])).json();
    fill(generated.file, 'cli_gen_js');
    const run = await project.run(['db:migrate', '--json']);
    expectCode(run, 0);
    expect(run.json().results).to.deep.equal([{ ...run.json().results[0], tenant: 'gen', ok: true, versions: [path.basename(generated.file)] }]);
    expect(await d.tables(`${P}gen`)).to.include('cli_gen_js');
  });

  it('a generated --ts migration type-checks and runs where the process loads TypeScript', async () => {
    fs.mkdirSync(project.path('db/tenant-migrations'), { recursive: true });
    expectCode(await project.run(['tenant:create', 'gen']), 0);
    const generated = (await project.run(['migration:generate', '--name', 'create-cli-gen', '--ts', '--json'])).json();
    expect(generated.file).to.match(/\d{14}-create-cli-gen\.ts$/);
    expect(fs.readFileSync(generated.file, 'utf8')).to.equal(fs.readFileSync(path.join(ROOT, 'migration-templates', 'migration.ts'), 'utf8'));
    fill(generated.file, 'cli_gen_ts');

    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--skipLibCheck', '--esModuleInterop', generated.file], {
      cwd: project.dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);

    const run = await project.run(['db:migrate', '--json'], {}, ['-r', fixture('cli', 'ts-hook.js'), CLI]);
    expectCode(run, 0);
    expect(run.json().results[0]).to.deep.include({ tenant: 'gen', ok: true, versions: [path.basename(generated.file)] });
    expect(await d.tables(`${P}gen`)).to.include('cli_gen_ts');

    const undo = await project.run(['db:migrate:undo', '--tenant', 'gen', '--json'], {}, ['-r', fixture('cli', 'ts-hook.js'), CLI]);
    expectCode(undo, 0);
    expect(await d.tables(`${P}gen`)).not.to.include('cli_gen_ts');
  }).timeout(120_000);
});
