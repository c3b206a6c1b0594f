import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as sinon from 'sinon';
import { QueryTypes, Sequelize } from 'sequelize';
import { Apartment, ConfigurationError, type DriftProgress } from '../../lib';
import { describeDialects } from '../support/dialects';
import { createLoginRole, type LoginRole } from '../support/login-role';
import { fixture, ROOT } from '../support/paths';

const MIGRATIONS = fixture('migrations', 'drift');
const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'index.js');
const V2 = '20260101000002-add-gadget-color.js';
const V3 = '20260101000003-create-parts.js';

describeDialects('drift: each tenant compared with a reference built from its own applied migrations', (d) => {
  const prefix = 'driftt_';
  let apartment: Apartment;
  const sql = (text: string) => apartment.sequelize.query(text);
  const t = (key: string) => `${d.q(`${prefix}${key}`)}.gadgets`;

  before(async function () {
    this.timeout(120_000);
    await d.dropAll(prefix);
    apartment = new Apartment(d.sequelize(), { prefix, migrationsPath: MIGRATIONS });
    for (const key of ['a', 'b', 'c', 'e', 'f', 'g', 'd', 'k']) await apartment.createTenant(key);
    // d and k are one version behind: compared with a reference at that version, not the latest.
    for (const key of ['d', 'k']) await apartment.migrateTenant(key, { direction: 'down', to: '20260101000003' });
    const pg = d.name === 'postgres';
    // Hand fixes, one kind each.
    await sql(pg ? `ALTER TABLE ${t('b')} ALTER COLUMN name TYPE text` : `ALTER TABLE ${t('b')} MODIFY name TEXT NOT NULL`);
    await sql(pg ? `ALTER TABLE ${t('c')} ALTER COLUMN name DROP NOT NULL` : `ALTER TABLE ${t('c')} MODIFY name VARCHAR(255) NULL`);
    await sql(`ALTER TABLE ${t('e')} ALTER COLUMN price SET DEFAULT 5`);
    await sql(pg ? `DROP INDEX ${d.q(`${prefix}f`)}.gadgets_color` : `DROP INDEX gadgets_color ON ${t('f')}`);
    await sql(`ALTER TABLE ${t('g')} ADD COLUMN note VARCHAR(20)`);
    await sql(`CREATE INDEX gadgets_note ON ${t('g')} (note)`);
    await sql(`DROP TABLE ${d.q(`${prefix}g`)}.parts`);
    await sql(`ALTER TABLE ${t('k')} ALTER COLUMN price SET DEFAULT 7`);
  });
  after(() => d.dropAll(prefix));

  it('reports each tenant that differs and how; identical tenants and tenants behind but true to their version report nothing; references are dropped', async function () {
    this.timeout(60_000);
    const progress: DriftProgress[] = [];
    const report = await apartment.drift({ onProgress: (p) => progress.push(p) });
    expect(report.tenants).to.equal(8);
    expect(report.references, 'one reference per version in use').to.equal(2);
    expect(report.drifted.map((x) => x.tenant)).to.deep.equal(['b', 'c', 'e', 'f', 'g', 'k']);
    const by = new Map(report.drifted.map((x) => [x.tenant, x]));
    const only = (key: string) => {
      expect(by.get(key)!.differences, key).to.have.length(1);
      return by.get(key)!.differences[0]!;
    };
    // A column's type altered by hand.
    const b = only('b');
    expect(b).to.include({ table: 'gadgets', kind: 'column', name: 'name' });
    expect(b.expected).to.match(/char/i).and.match(/NOT NULL/);
    expect(b.actual).to.match(/text/i).and.match(/NOT NULL/);
    // Its nullability.
    const c = only('c');
    expect(c).to.include({ table: 'gadgets', kind: 'column', name: 'name' });
    expect(c.expected).to.match(/NOT NULL/);
    expect(c.actual).not.to.match(/NOT NULL/);
    // A default.
    const e = only('e');
    expect(e).to.include({ table: 'gadgets', kind: 'column', name: 'price' });
    expect(e.expected).to.match(/DEFAULT '?0'?$/);
    expect(e.actual).to.match(/DEFAULT '?5'?$/);
    // An index dropped.
    const f = only('f');
    expect(f).to.include({ table: 'gadgets', kind: 'index', name: 'gadgets_color', actual: null });
    expect(f.expected).to.contain('color');
    // A column and an index added, a table dropped.
    expect(by.get('g')!.differences.map((x) => [x.kind, x.table, x.name ?? null, x.expected === null, x.actual === null])).to.deep.equal([
      ['column', 'gadgets', 'note', true, false],
      ['index', 'gadgets', 'gadgets_note', true, false],
      ['table', 'parts', null, false, true],
    ]);
    // k is behind (no parts table), compared with its own version: only its own hand fix.
    expect(by.get('k')!.version).to.equal(V2);
    expect(only('k')).to.include({ table: 'gadgets', kind: 'column', name: 'price' });
    expect(by.get('b')!.version).to.equal(V3);
    // Every tenant was reported to onProgress once.
    expect(progress.map((p) => p.tenant).sort()).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'k']);
    expect(progress.filter((p) => !p.ok).map((p) => p.tenant).sort()).to.deep.equal(['b', 'c', 'e', 'f', 'g', 'k']);
    expect(progress.every((p) => p.total === 8)).to.equal(true);
    // No scratch schema/database is left, and tenants() never listed one.
    const [rows] = await apartment.sequelize.query(
      d.name === 'postgres'
        ? `SELECT nspname FROM pg_namespace WHERE nspname LIKE '${prefix}\\_drift\\_%'`
        : `SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${prefix}\\_drift\\_%'`,
    );
    expect(rows).to.deep.equal([]);
    const some = await apartment.drift({ tenants: ['a', 'b', 'd'] });
    expect(some.drifted.map((x) => x.tenant)).to.deep.equal(['b']);
    expect(some.tenants).to.equal(3);
    expect((await apartment.drift({ skipTenants: ['b', 'c', 'e', 'f', 'g', 'k'] })).drifted).to.deep.equal([]);
  });

  it('reads the catalog of all tenants in a few statements: the count does not grow with the number of tenants', async function () {
    this.timeout(120_000);
    const count = async () => {
      const spy = sinon.spy(apartment.sequelize, 'query');
      try {
        await apartment.drift();
        return spy.getCalls().map((call) => String(call.args[0]));
      } finally {
        spy.restore();
      }
    };
    const before = await count();
    for (const key of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']) await apartment.createTenant(key);
    const after = await count();
    expect(after.length, after.join('\n')).to.equal(before.length);
    for (const key of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']) await apartment.dropTenant(key);
  });

  // MariaDB opens every table of every database for an information_schema
  // read that does not name its database as a constant (TABLE_SCHEMA IN (...) does not).
  // PostgreSQL's catalog reads are plain index lookups: the test is registered for MySQL/MariaDB only.
  if (d.name !== 'postgres') {
    it('MySQL/MariaDB: no information_schema read of drift scans every database on the server (EXPLAIN says Scanned 1 database)', async function () {
      this.timeout(60_000);
      const spy = sinon.spy(apartment.sequelize, 'query');
      try {
        await apartment.drift();
      } finally {
        spy.restore();
      }
      const catalogReads = spy.getCalls().map((call) => ({ sql: String(call.args[0]), replacements: (call.args[1] as any)?.replacements })).filter((read) => /information_schema\./i.test(read.sql));
      expect(catalogReads.filter((read) => /REFERENTIAL_CONSTRAINTS/.test(read.sql)), 'the foreign-key read').to.not.be.empty;
      for (const { sql: text, replacements } of catalogReads) {
        const plan = (await apartment.sequelize.query(`EXPLAIN ${text}`, { replacements, type: QueryTypes.SELECT })) as Array<{ Extra: string | null }>;
        expect(plan.map((p) => p.Extra ?? '').join(' | '), text).to.not.include('Scanned all databases');
      }
    });
  }

  it('refuses unknown options and an Apartment without migrations', async () => {
    const typo = await apartment.drift({ tenant: ['a'] } as never).catch((error: unknown) => error);
    expect(typo).to.be.instanceOf(ConfigurationError);
    expect((typo as Error).message).to.contain('did you mean `tenants`');
    const bare = new Apartment(d.sequelize(), { prefix, migrationsPath: false });
    const refused = await bare.drift().catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(ConfigurationError);
    expect((refused as Error).message).to.contain('migrationsPath');
  });

  it('apartment db:drift: exit code 1 with each difference; --json for CI; exit code 0 without drift', function () {
    this.timeout(60_000);
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'db:drift', '--url', d.url, '--prefix', prefix, '--migrations-path', MIGRATIONS, ...args], { encoding: 'utf8', timeout: 60_000 });
    const human = run();
    expect(human.status, human.stderr).to.equal(1);
    expect(human.stdout)
      .to.contain(`b (${prefix}b) at ${V3}`)
      .and.contain('column gadgets.name: expected')
      .and.contain('index gadgets.gadgets_color: missing')
      .and.contain('table parts: missing')
      .and.contain('6 of 8 tenant(s) drifted');
    expect(human.stderr, 'no progress bar when stderr is not a terminal').to.equal('');
    const json = run('--json');
    expect(json.status).to.equal(1);
    const out = JSON.parse(json.stdout);
    expect(out).to.include({ command: 'db:drift', ok: false, tenants: 8 });
    expect(out.drifted.map((x: any) => x.tenant)).to.deep.equal(['b', 'c', 'e', 'f', 'g', 'k']);
    expect(out.drifted[0].differences[0]).to.include({ table: 'gadgets', kind: 'column', name: 'name' });
    const clean = run('--skip-tenants', 'b,c,e,f,g,k', '--json');
    expect(clean.status, clean.stdout + clean.stderr).to.equal(0);
    expect(JSON.parse(clean.stdout)).to.include({ ok: true, tenants: 2 });
    const some = run('--tenants', 'a,d');
    expect(some.status, some.stdout + some.stderr).to.equal(0);
    expect(some.stdout).to.contain('No drift.');
  });

  it('apartment db:drift draws a progress bar on a terminal (util-linux `script` provides one)', function () {
    this.timeout(60_000);
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, CLI, 'db:drift', '--url', d.url, '--prefix', prefix, '--migrations-path', MIGRATIONS].map(quote).join(' ');
    const terminal = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(terminal.error, 'util-linux `script` is needed for this test').to.equal(undefined);
    expect(terminal.status, terminal.stdout).to.equal(1);
    expect(terminal.stdout).to.match(/comparing \[[=-]+\] \d\/8 tenants/);
    expect(terminal.stdout).to.contain('6 of 8 tenant(s) drifted');
  });
});

describeDialects("drift under isolation: 'role'", (d) => {
  const prefix = 'driftr_';
  let login: LoginRole;

  before(async () => {
    await d.dropAll(prefix);
    login = await createLoginRole();
  });
  after(async function () {
    this.timeout(60_000);
    await login?.drop(prefix);
  });

  it('builds its reference under a tenant role of its own, as the NOINHERIT login, and drops both', async function () {
    this.timeout(60_000);
    const sequelize = new Sequelize(login.url, { logging: false });
    try {
      const apartment = new Apartment(sequelize, { prefix, isolation: 'role', migrationsPath: MIGRATIONS });
      for (const key of ['x', 'y']) await apartment.createTenant(key);
      await d.sequelize().query(`ALTER TABLE "${prefix}y".gadgets ALTER COLUMN price SET DEFAULT 3`);
      const report = await apartment.drift();
      expect(report.drifted.map((t) => [t.tenant, t.differences.map((x) => x.name)])).to.deep.equal([['y', ['price']]]);
      const [left] = await d.sequelize().query(`SELECT rolname FROM pg_roles WHERE rolname LIKE '${prefix}\\_drift\\_%' UNION ALL SELECT nspname FROM pg_namespace WHERE nspname LIKE '${prefix}\\_drift\\_%'`);
      expect(left).to.deep.equal([]);
    } finally {
      await sequelize.close();
    }
  });
}, ['postgres']);
