import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as sinon from 'sinon';
import { Sequelize } from 'sequelize';
import { Apartment, ConfigurationError, type DoctorFinding, type DoctorProgress, type DoctorReport } from '../../lib';
import { describeDialects, type DialectHarness } from '../support/dialects';
import { createLoginRole, type LoginRole } from '../support/login-role';
import { fixture, ROOT } from '../support/paths';
import { startPgBouncer } from '../support/pgbouncer';
import { hasProgram, missingProgram } from '../support/processes';

const MIGRATIONS = fixture('migrations', 'drift');
const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'index.js');
const V3 = '20260101000003-create-parts.js';

const codes = (report: DoctorReport) => report.findings.map((f) => f.code);
const finding = (report: DoctorReport, code: string): DoctorFinding => {
  const found = report.findings.find((f) => f.code === code);
  expect(found, `no ${code} finding in ${JSON.stringify(report.findings, null, 2)}`).not.to.equal(undefined);
  return found!;
};

/** `apartment doctor` against this dialect's server, as a shell user runs it. */
function cli(url: string, prefix: string, ...args: string[]) {
  return spawnSync(process.execPath, [CLI, 'doctor', '--url', url, '--prefix', prefix, '--migrations-path', MIGRATIONS, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** Creates or drops a schema/database by hand (what a process that died leaves behind). */
const schemaSql = (d: DialectHarness, verb: 'CREATE' | 'DROP', name: string) =>
  d.name === 'postgres' ? `${verb} SCHEMA ${verb === 'DROP' ? 'IF EXISTS ' : ''}${d.q(name)}${verb === 'DROP' ? ' CASCADE' : ''}` : `${verb} DATABASE ${verb === 'DROP' ? 'IF EXISTS ' : ''}${d.q(name)}`;

describeDialects('doctor: each finding planted on the real server and found, with what fixes it', (d) => {
  const prefix = 'doct_';
  let apartment: Apartment;
  const sql = (text: string) => apartment.sequelize.query(text);
  const shared = () => `${d.q(d.defaultSchema)}.${d.q('gadgets')}`;

  before(async function () {
    this.timeout(120_000);
    await d.dropAll(prefix);
    apartment = new Apartment(d.sequelize(), { prefix, migrationsPath: MIGRATIONS });
    await sql(`DROP TABLE IF EXISTS ${shared()}`);
    for (const key of ['a', 'b', 'c']) await apartment.createTenant(key);
  });
  after(async () => {
    await sql(`DROP TABLE IF EXISTS ${shared()}`);
    await d.dropAll(prefix);
  });

  it('a fleet set up right: no findings, ok; each check reported to onProgress', async function () {
    this.timeout(30_000);
    const progress: DoctorProgress[] = [];
    const report = await apartment.doctor({ onProgress: (p) => progress.push(p) });
    expect(report.findings).to.deep.equal([]);
    expect(report).to.include({ ok: true, tenants: 3 });
    expect(report.checks).to.include.members(['shadowed tables', 'migrations', 'leftovers', 'migration locks']);
    if (d.name === 'postgres') expect(report.checks).to.include.members(['login role', 'tenant roles', 'search_path', 'pooler']);
    expect(progress.map((p) => p.check)).to.deep.equal(report.checks);
    expect(progress.map((p) => p.done)).to.deep.equal(report.checks.map((_, i) => i + 1));
    const typo = await apartment.doctor({ onProgres: () => undefined } as never).catch((error: unknown) => error);
    expect(typo).to.be.instanceOf(ConfigurationError);
    expect((typo as Error).message).to.contain('did you mean `onProgress`');
  });

  it('a table of the default schema named like a tenant table is an error (ok false, CLI exit code 1, --json); without it the CLI exits 0', async function () {
    this.timeout(60_000);
    await sql(`CREATE TABLE ${shared()} (id INTEGER)`);
    const report = await apartment.doctor();
    expect(report.ok).to.equal(false);
    const f = finding(report, 'shadowed-table');
    expect(f).to.include({ level: 'error' });
    expect(f.tenants).to.deep.equal(['a', 'b', 'c']);
    expect(f.message).to.contain('gadgets').and.contain(`'${d.defaultSchema}'`);
    expect(f.fix).to.contain(`ALTER TABLE ${shared()} RENAME TO`);
    const json = cli(d.url, prefix, '--json');
    expect(json.status, json.stderr).to.equal(1);
    const out = JSON.parse(json.stdout);
    expect(out).to.include({ command: 'doctor', ok: false, tenants: 3 });
    expect(out.findings.map((x: DoctorFinding) => [x.level, x.code])).to.deep.equal([['error', 'shadowed-table']]);
    const human = cli(d.url, prefix);
    expect(human.status).to.equal(1);
    expect(human.stdout).to.contain('ERROR shadowed-table: ').and.contain('  fix: If no shared model uses it, rename or drop it: ALTER TABLE').and.contain('1 finding(s), 1 error(s); 3 tenant(s)');
    expect(human.stderr, 'no progress bar when stderr is not a terminal').to.equal('');
    await sql(`DROP TABLE ${shared()}`);
    const clean = cli(d.url, prefix);
    expect(clean.status, clean.stdout + clean.stderr).to.equal(0);
    expect(clean.stdout).to.match(/^No findings\. 0 finding\(s\), 0 error\(s\); 3 tenant\(s\)/);
  });

  it('apartment doctor draws a progress bar over its checks on a terminal (util-linux `script` provides one)', function () {
    this.timeout(60_000);
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, CLI, 'doctor', '--url', d.url, '--prefix', prefix, '--migrations-path', MIGRATIONS].map(quote).join(' ');
    const terminal = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(terminal.error, 'util-linux `script` is needed for this test').to.equal(undefined);
    expect(terminal.status, terminal.stdout).to.equal(0);
    expect(terminal.stdout).to.match(/checking \[[=-]+\] \d+\/\d+ checks/);
    expect(terminal.stdout).to.contain('No findings.');
  });

  it('a tenant whose applied migrations are not in the folder: a warning, with the status command that shows it', async function () {
    this.timeout(60_000);
    await sql(`INSERT INTO ${d.q(`${prefix}b`)}.${d.q('SequelizeMeta')} (name) VALUES ('20990101000000-gone.js')`);
    try {
      const report = await apartment.doctor();
      expect(report.ok, 'a warning is not an error').to.equal(true);
      const f = finding(report, 'unknown-migrations');
      expect(f).to.include({ level: 'warning' });
      expect(f.tenants).to.deep.equal(['b']);
      expect(f.message).to.contain('20990101000000-gone.js').and.contain(MIGRATIONS);
      expect(f.fix).to.contain("migrationStatus('b')");
      const run = cli(d.url, prefix, '--json');
      expect(run.status, run.stderr).to.equal(0);
      expect(JSON.parse(run.stdout).findings[0].fix).to.contain('apartment db:migrate:status --tenant b').and.not.contain('migrationStatus(');
    } finally {
      await sql(`DELETE FROM ${d.q(`${prefix}b`)}.${d.q('SequelizeMeta')} WHERE name = '20990101000000-gone.js'`);
    }
  });

  it('a tenant whose migration lock is held: who holds it, and how to end it', async function () {
    this.timeout(30_000);
    const other = new Apartment(d.sequelize(), { migrationsPath: false });
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = other.adapter.withLock(`${prefix}c`, () => {
      locked();
      return new Promise<void>((resolve) => (release = resolve));
    });
    await isLocked;
    try {
      const f = finding(await apartment.doctor(), 'held-lock');
      expect(f.tenants).to.deep.equal(['c']);
      expect(f.fix).to.match(d.name === 'postgres' ? /SELECT pg_terminate_backend\(\d+\);/ : /KILL \d+;/);
    } finally {
      release();
      await holding;
    }
    expect(codes(await apartment.doctor())).not.to.include('held-lock');
  });

  it('a spare behind the migrations, and scratch schemas a dead process left', async function () {
    this.timeout(60_000);
    await apartment.prewarm(1);
    const [spare] = await apartment.migrator.warm.spares();
    await sql(`DELETE FROM ${d.q(spare!)}.${d.q('SequelizeMeta')} WHERE name = '${V3}'`);
    const leftovers = [`${prefix}_build_dead`, `${prefix}_drift_dead_0`];
    for (const name of leftovers) await sql(schemaSql(d, 'CREATE', name));
    try {
      const report = await apartment.doctor();
      expect(finding(report, 'stale-spare').message).to.contain(spare!);
      const f = finding(report, 'leftover-schema');
      expect(f.message).to.contain(leftovers[0]).and.contain(leftovers[1]);
      expect(f.fix).to.contain('prewarm()').and.contain(`${d.q(leftovers[1]!)}`);
      expect(report.ok).to.equal(true);
    } finally {
      for (const name of [...leftovers, spare!]) await sql(schemaSql(d, 'DROP', name));
    }
    expect(codes(await apartment.doctor())).to.deep.equal([]);
  });

  it('reads in a few statements: the count does not grow with the number of tenants', async function () {
    this.timeout(120_000);
    const statements = async () => {
      const spy = sinon.spy(apartment.sequelize, 'query');
      try {
        await apartment.doctor();
        return spy.getCalls().map((call) => String(call.args[0]));
      } finally {
        spy.restore();
      }
    };
    const before = await statements();
    const more = ['m1', 'm2', 'm3', 'm4', 'm5'];
    for (const key of more) await apartment.createTenant(key);
    const after = await statements();
    for (const key of more) await apartment.dropTenant(key);
    expect(after.length, after.join('\n')).to.equal(before.length);
  });
});

describeDialects('doctor on PostgreSQL: roles, search_path and poolers', (d) => {
  const prefix = 'docr_';
  let login: LoginRole;
  let apartment: Apartment;
  let admin: Sequelize;

  before(async function () {
    this.timeout(120_000);
    await d.dropAll(prefix);
    login = await createLoginRole();
    admin = d.sequelize();
    apartment = new Apartment(new Sequelize(login.url, { logging: false }), { prefix, isolation: 'role', migrationsPath: MIGRATIONS });
    for (const key of ['x', 'y']) await apartment.createTenant(key);
  });
  after(async function () {
    this.timeout(60_000);
    await apartment?.sequelize.close();
    await login?.drop(prefix);
  });

  it("isolation: 'role' set up right: no findings", async function () {
    this.timeout(30_000);
    expect((await apartment.doctor()).findings).to.deep.equal([]);
  });

  it('tenants without their role, roles with no tenant, a login role whose search_path names a tenant schema', async function () {
    this.timeout(60_000);
    await admin.query(`CREATE SCHEMA "${prefix}norole"`);
    await admin.query(`CREATE ROLE "${prefix}ghost" NOLOGIN`);
    await admin.query(`ALTER ROLE "${login.name}" SET search_path = "${prefix}x", public`);
    try {
      const report = await apartment.doctor();
      expect(report.ok).to.equal(true);
      const without = finding(report, 'tenant-without-role');
      expect(without.tenants).to.deep.equal(['norole']);
      expect(without.fix).to.equal('apartment.syncRoles()');
      const orphan = finding(report, 'orphan-role');
      expect(orphan.message).to.contain(`${prefix}ghost`);
      expect(orphan.fix).to.contain(`DROP ROLE "${prefix}ghost";`);
      const pathFinding = finding(report, 'search-path');
      expect(pathFinding.message).to.contain(`login role '${login.name}'`).and.contain(`${prefix}x`);
      expect(pathFinding.tenants).to.deep.equal(['x']);
      expect(pathFinding.fix).to.equal(`ALTER ROLE "${login.name}" RESET search_path;`);
      // The CLI (no --apartment, so no isolation option) sees the tenant roles' group and runs the role checks too.
      const run = cli(login.url, prefix, '--json');
      expect(run.status, run.stderr).to.equal(0);
      const out = JSON.parse(run.stdout);
      expect(out.findings.map((f: DoctorFinding) => f.code).sort()).to.deep.equal(['orphan-role', 'search-path', 'tenant-without-role']);
      expect(out.findings.find((f: DoctorFinding) => f.code === 'tenant-without-role').fix).to.equal('apartment tenant:roles');
    } finally {
      await admin.query(`ALTER ROLE "${login.name}" RESET search_path`);
      await admin.query(`DROP ROLE "${prefix}ghost"`);
      await admin.query(`DROP SCHEMA "${prefix}norole"`);
    }
  });

  it("an INHERIT login role, or a superuser, under isolation: 'role' is an error (CLI exit code 1)", async function () {
    this.timeout(60_000);
    await admin.query(`ALTER ROLE "${login.name}" INHERIT`);
    try {
      const report = await apartment.doctor();
      expect(report.ok).to.equal(false);
      const f = finding(report, 'unfit-login-role');
      expect(f).to.include({ level: 'error', fix: `ALTER ROLE "${login.name}" NOINHERIT; (as a superuser)` });
      expect(f.message).to.contain('INHERIT');
      const run = cli(login.url, prefix);
      expect(run.status, run.stdout + run.stderr).to.equal(1);
      expect(run.stdout).to.contain('ERROR unfit-login-role');
    } finally {
      await admin.query(`ALTER ROLE "${login.name}" NOINHERIT`);
    }
    // The test server's own login is a superuser: fine without roles, an error with them.
    const plain = new Apartment(d.sequelize(), { prefix: 'docs_', migrationsPath: MIGRATIONS });
    expect(codes(await plain.doctor())).to.deep.equal([]);
    const superuser = new Apartment(d.sequelize(), { prefix, isolation: 'role', migrationsPath: MIGRATIONS });
    const f = finding(await superuser.doctor(), 'unfit-login-role');
    expect(f.message).to.contain('superuser');
  });

  it('a pooler in transaction mode in front of the app is found (PgBouncer); one in session mode is not', async function () {
    this.timeout(60_000);
    if (!hasProgram('pgbouncer')) missingProgram(this, 'pgbouncer', '.ci/run installs it with apt-get; locally: apt-get install -y pgbouncer');
    for (const [poolMode, found] of [['transaction', true], ['session', false]] as const) {
      // Room for the app's own pooled connection and the probe's two: a session-mode pool that ran out would only make the probe wait.
      const bouncer = await startPgBouncer({ poolMode, poolSize: 5 });
      const through = new Apartment(new Sequelize(bouncer.url, { logging: false }), { prefix, migrationsPath: MIGRATIONS });
      try {
        const report = await through.doctor();
        expect(codes(report).includes('transaction-pooler'), `${poolMode}: ${JSON.stringify(report.findings)}`).to.equal(found);
        if (found) expect(finding(report, 'transaction-pooler').message).to.contain('SET without LOCAL');
      } finally {
        await through.sequelize.close();
        await bouncer.stop();
      }
    }
  });
}, ['postgres']);
