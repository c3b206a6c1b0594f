import { QueryTypes } from 'sequelize';
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ARCHIVE_VERSION } from '../../lib';
import { describeDialects } from '../support/dialects';
import { CLI, P, Project, expectCode } from './project';

/** tenant:export / tenant:import / tenant:clone / tenant:suspend / tenant:resume (issue 25). */
describeDialects('apartment CLI: export, import, clone, suspend', (d) => {
  let project: Project;
  const cli = (...args: string[]) => project.run(args);
  const sql = (statement: string) => d.sequelize().query(statement);
  // SELECT-typed: an untyped raw query on a plain Sequelize fails with the mariadb driver 3.1+ (sequelize#15701).
  const select = (statement: string) => d.sequelize().query(statement, { type: QueryTypes.SELECT });

  before(async function () {
    this.timeout(120_000);
    await d.dropAll(P);
    project = new Project().rc({ url: d.url, 'tenant-prefix': P }).copy('tenant-migrations');
    expectCode(await cli('tenant:create', 'src'), 0);
    const values = Array.from({ length: 20_000 }, (_, i) => `('gadget ${i}', ${i % 3 ? `'red'` : 'NULL'})`).join(', ');
    await sql(`INSERT INTO ${d.q(`${P}src`)}.${d.q('gadgets')} (name, color) VALUES ${values}`);
  });
  after(async () => {
    project?.remove();
    await d.dropAll(P);
  });

  const count = async (key: string) => Number(((await select(`SELECT COUNT(*) AS n FROM ${d.q(`${P}${key}`)}.${d.q('gadgets')}`)) as Array<{ n: unknown }>)[0].n);

  it('tenant:export --file and tenant:import --file (--json), then stdout piped into stdin, then tenant:clone', async function () {
    this.timeout(120_000);
    const run = await cli('tenant:export', 'src', '--file', 'src.archive.gz', '--json');
    expectCode(run, 0);
    expect(run.json()).to.include({ command: 'tenant:export', ok: true, tenant: 'src', file: 'src.archive.gz', rows: 20_000, version: ARCHIVE_VERSION, migrations: 3 });
    const imported = await cli('tenant:import', 'copy1', '--file', 'src.archive.gz', '--json');
    expectCode(imported, 0);
    expect(imported.json()).to.include({ command: 'tenant:import', ok: true, tenant: 'copy1', schema: `${P}copy1`, rows: 20_000 });
    expect(await count('copy1')).to.equal(20_000);

    execFileSync('sh', ['-c', `"${process.execPath}" "${CLI}" tenant:export src | "${process.execPath}" "${CLI}" tenant:import copy2`], { cwd: project.dir, stdio: 'pipe' });
    expect(await count('copy2')).to.equal(20_000);

    const clone = await cli('tenant:clone', 'src', 'copy3');
    expectCode(clone, 0);
    expect(clone.stdout).to.match(/^Cloned tenant src into copy3 \(.*copy3\): 20000 row\(s\) in \d+ ms\.\n$/);
    expect(await count('copy3')).to.equal(20_000);
    const again = await cli('tenant:import', 'copy1', '--file', 'src.archive.gz');
    expectCode(again, 1);
    expect(again.stderr).to.include("Tenant 'copy1' already exists");
  });

  it('an import killed halfway (SIGKILL) leaves no tenant; apartment doctor lists what MySQL/MariaDB left, with the command that drops it', async function () {
    this.timeout(120_000);
    const file = path.join(project.dir, 'src.archive');
    expectCode(await cli('tenant:export', 'src', '--file', 'src.archive'), 0);
    const archive = fs.readFileSync(file);
    const child = spawn(process.execPath, [CLI, 'tenant:import', 'killed'], { cwd: project.dir, stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Half the archive, then nothing: the import is inside its load when it is killed.
    child.stdin.write(archive.subarray(0, Math.floor(archive.length / 2)));
    for (let i = 0; i < 100 && !(await d.schemaExists(`${P}killed`)) && !(await importing()); i++) await sleep(100);
    await sleep(500);
    child.kill('SIGKILL');
    await exited;
    // The server notices the dropped connection and rolls its transaction back (PostgreSQL); MySQL/MariaDB built it under a temporary name.
    for (let i = 0; i < 50 && (await d.schemaExists(`${P}killed`)); i++) await sleep(100);
    expect(await d.schemaExists(`${P}killed`)).to.equal(false);
    const list = await cli('tenant:list', '--json');
    expect(list.json().tenants.map((t: { tenant: string }) => t.tenant)).to.not.include('killed');

    // What is left: nothing on PostgreSQL (rolled back); on MySQL/MariaDB the temporary database, which doctor names with its DROP.
    const doctor = await cli('doctor', '--json');
    const leftover = (doctor.json().findings as Array<{ code: string; message: string; fix: string }>).find((f) => f.code === 'leftover-schema');
    if (d.name === 'postgres') {
      expect(leftover).to.equal(undefined);
      return;
    }
    const [temporary] = (await select(`SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${P}\\_import\\_%'`)) as Array<{ name: string }>;
    expect(temporary, 'the killed import left its temporary database').not.to.equal(undefined);
    expect(leftover, JSON.stringify(doctor.json().findings)).not.to.equal(undefined);
    expect(leftover!.message).to.contain(temporary!.name).and.contain('importTenant()/cloneTenant()');
    const drop = `DROP DATABASE ${d.q(temporary!.name)};`;
    expect(leftover!.fix).to.contain(drop);
    await sql(drop);
    expect(await importing()).to.equal(false);
  });

  /** MySQL/MariaDB: whether a temporary import database exists. */
  async function importing(): Promise<boolean> {
    if (d.name === 'postgres') return false;
    const rows = await select(`SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${P}\\_import%'`);
    return (rows as unknown[]).length > 0;
  }

  it('progress on a terminal: tenant:export --file and tenant:clone draw a bar on stderr; with --json, only the JSON', () => {
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const terminal = (...args: string[]) =>
      spawnSync('script', ['-qec', [process.execPath, CLI, ...args].map(quote).join(' '), '/dev/null'], { cwd: project.dir, encoding: 'utf8', timeout: 60_000 });
    const exported = terminal('tenant:export', 'src', '--file', 'tty.archive');
    expect(exported.error, 'util-linux `script` is needed for this test').to.equal(undefined);
    expect(exported.status, exported.stdout).to.equal(0);
    expect(exported.stdout).to.match(/export src \[[^\]]*\] \d+\/\d+ tables \| \d+ rows/);
    expect(exported.stdout).to.match(/Exported tenant src: \d+ table\(s\), 20000 row\(s\)/);
    const cloned = terminal('tenant:clone', 'src', 'ttycopy');
    expect(cloned.status, cloned.stdout).to.equal(0);
    expect(cloned.stdout).to.match(/clone src -> ttycopy \[[^\]]*\] \d+\/\d+ tables/);
    const json = terminal('tenant:clone', 'src', 'ttycopy2', '--json');
    expect(json.status, json.stdout).to.equal(0);
    expect(json.stdout).to.not.match(/tables \|/);
    expect(JSON.parse(json.stdout.trim())).to.include({ command: 'tenant:clone', ok: true, from: 'src', to: 'ttycopy2', rows: 20_000 });
  });

  it('tenant:suspend [--read-only], tenant:resume, and the state in tenant:list', async () => {
    const suspended = await cli('tenant:suspend', 'src', '--read-only', '--json');
    expectCode(suspended, 0);
    expect(suspended.json()).to.deep.equal({ command: 'tenant:suspend', ok: true, tenant: 'src', state: 'read-only' });
    expect((await cli('tenant:list', '--json')).json().tenants.find((t: { tenant: string }) => t.tenant === 'src')).to.deep.equal({ tenant: 'src', schema: `${P}src`, state: 'read-only' });
    expectCode(await cli('tenant:suspend', 'src'), 0);
    expect((await cli('tenant:list')).stdout).to.match(/src\s+\S+src\s+closed/);
    const resumed = await cli('tenant:resume', 'src', '--json');
    expect(resumed.json()).to.deep.equal({ command: 'tenant:resume', ok: true, tenant: 'src', state: 'active' });
    expect((await cli('tenant:suspend', 'ghost', '--json')).json().error).to.include({ name: 'TenantNotFoundError' });
  });
}, ['postgres', 'mariadb']);
