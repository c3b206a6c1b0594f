import { runPrefix } from './stress';
import { expect } from 'chai';
import { DataTypes, QueryTypes, Sequelize } from 'sequelize';
import { Apartment, CrossTenantError } from 'sequelize-apartment';
import { createLoginRole, type LoginRole } from '../support/login-role';
import { fixture } from '../support/paths';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { hasProgram, missingProgram } from '../support/processes';
import { connect, unavailable, URLS } from '../support/servers';
import { catchingUnhandled, createStressTenants, dropStressShared, installStress, poolState, runStress, type StressSetup } from './stress';

// pg ships no type declarations (and @types/pg is not a dependency).
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { Client } = require('pg') as { Client: new (options: { connectionString: string }) => any };

const OPS = Number(process.env.STRESS_OPS || 0) || 1000;
const TENANTS = Number(process.env.STRESS_TENANTS || 0) || 50;

/** Drops every schema of ours (prefix family `rel`) on the real server, not through the bouncer. */
async function dropSchemas(prefix: string): Promise<void> {
  const admin = connect('postgres');
  try {
    const [rows] = await admin.query('SELECT nspname AS name FROM pg_namespace WHERE left(nspname, ?) = ?', { replacements: [prefix.length, prefix] });
    for (const r of rows as Array<{ name: string }>) await admin.query(`DROP SCHEMA IF EXISTS "${r.name}" CASCADE`);
  } finally {
    await admin.close();
  }
}

async function requirePgBouncer(context: Mocha.Context): Promise<void> {
  const reason = await unavailable('postgres');
  if (reason !== undefined) {
    if (process.env.CI) throw new Error(`postgres server at ${URLS.postgres} is unreachable (CI is set): ${reason}`);
    console.warn(`\n  !!! SKIPPING PGBOUNCER TESTS: postgres is unreachable (${reason}).\n`);
    context.skip();
  }
  if (!hasProgram('pgbouncer')) missingProgram(context, 'pgbouncer', ".ci/run installs it with apt-get; locally: apt-get install -y pgbouncer");
}

describe('reliability: behind PgBouncer in transaction-pooling mode [postgres]', function () {
  const prefix = runPrefix('rel_pgb');
  let bouncer: PgBouncer | undefined;
  const opened: Sequelize[] = [];
  const through = (options: object = {}) => {
    const s = new Sequelize(bouncer!.url, { logging: false, pool: { max: 10, min: 0, idle: 10_000, acquire: 60_000 }, ...options });
    opened.push(s);
    return s;
  };

  before(async function () {
    this.timeout(60_000);
    await requirePgBouncer(this);
    await dropSchemas(prefix);
    bouncer = await startPgBouncer({ poolMode: 'transaction', poolSize: 5 });
  });

  after(async function () {
    this.timeout(60_000);
    for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    await bouncer?.stop();
    await dropSchemas(prefix);
  });

  it('really is transaction pooling: two client sessions share server connections', async () => {
    // Session state set by one client is visible to another through the same
    // server connection. This is what breaks session-level tenant switching.
    const clients = Array.from({ length: 12 }, () => new Client({ connectionString: bouncer!.url }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const pids = await Promise.all(clients.map(async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number));
      expect(new Set(pids).size, 'distinct server backends behind 12 clients').to.be.at.most(bouncer!.poolSize);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('a naive session-level SET search_path returns another tenant\'s rows (why routing must be statement-scoped)', async function () {
    this.timeout(30_000);
    // One server connection makes the interleaving deterministic.
    const single = await startPgBouncer({ poolMode: 'transaction', poolSize: 1 });
    const a = new Client({ connectionString: single.url });
    const b = new Client({ connectionString: single.url });
    try {
      await a.connect();
      await b.connect();
      for (const t of ['naive_a', 'naive_b']) {
        await a.query(`CREATE SCHEMA "${prefix}${t}"; CREATE TABLE "${prefix}${t}".widgets (owner text); INSERT INTO "${prefix}${t}".widgets VALUES ('${t}')`);
      }
      // The Rails Apartment / django-tenants way: switch the session, then query.
      await a.query(`SET search_path TO "${prefix}naive_a"`);
      await b.query(`SET search_path TO "${prefix}naive_b"`);
      const seenByA = (await a.query('SELECT owner FROM widgets')).rows.map((r: any) => r.owner);
      expect(seenByA, 'client A switched to tenant A but reads tenant B').to.deep.equal(['naive_b']);

      // The same interleaving through Apartment's routing is correct.
      const sequelize = new Sequelize(single.url, { logging: false, pool: { max: 2 } });
      try {
        const apartment = new Apartment(sequelize, { migrationsPath: false, prefix });
        const read = (t: string) => apartment.run(t, () => sequelize.query('SELECT owner FROM widgets', { plain: false, raw: true }).then(([rows]) => (rows as any[]).map((r) => r.owner)));
        const readBind = (t: string) => apartment.run(t, () => sequelize.query('SELECT owner FROM widgets WHERE owner = $1 OR true', { bind: ['x'] }).then(([rows]) => (rows as any[]).map((r) => r.owner)));
        const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? readBind : read)(i % 4 < 2 ? 'naive_a' : 'naive_b').then((rows) => [i % 4 < 2 ? 'naive_a' : 'naive_b', rows] as const)));
        for (const [t, rows] of results) expect(rows).to.deep.equal([t]);
      } finally {
        await sequelize.close();
      }
    } finally {
      await a.end().catch(() => undefined);
      await b.end().catch(() => undefined);
      await single.stop();
    }
  });

  describe('the isolation stress through PgBouncer', () => {
    let setup: StressSetup | undefined;
    before(async function () {
      this.timeout(120_000);
      setup = await createStressTenants(installStress(through({ dialectOptions: { application_name: 'rel-pgbouncer-stress' } }), prefix), TENANTS, 's');
    });
    after(async function () {
      this.timeout(60_000);
      if (setup) await dropStressShared(setup);
    });

    it(`${TENANTS} tenants, ${OPS} mixed operations at concurrency 50, pool 10 over 5 server connections: zero foreign rows, zero lost writes`, async function () {
      this.timeout(Math.max(120_000, OPS * 30));
      const { result: report, unhandled } = await catchingUnhandled(() => runStress(setup!, { ops: OPS, concurrency: 50 }));
      console.log(`      [pgbouncer] ${report.ops} ops in ${report.durationMs} ms, ${report.rowsChecked} rows checked, ${report.foreignRows} foreign, ${report.lostWrites} lost`);
      expect(report.unexpectedErrors).to.deep.equal([]);
      expect(report.mismatches).to.deep.equal([]);
      expect(report.foreignRows).to.equal(0);
      expect(report.lostWrites).to.equal(0);
      expect(Object.keys(report.byOp)).to.have.length(12);
      expect(unhandled).to.deep.equal([]);
      const pool = poolState(setup!.sequelize);
      expect(pool.using).to.equal(0);
      expect(pool.available).to.equal(pool.size);
    });
  });

  describe('model queries, raw SQL, transactions and a tenant migration through PgBouncer', () => {
    let sequelize: Sequelize;
    let apartment: Apartment;
    let Note: any;

    before(async function () {
      this.timeout(60_000);
      sequelize = through();
      apartment = new Apartment(sequelize, { prefix, migrationsPath: fixture('reliability', 'migrations') });
      Note = sequelize.define('Note', { owner: { type: DataTypes.STRING(80), allowNull: false }, body: DataTypes.STRING(200) }, { tableName: 'notes', timestamps: false });
    });

    it('createTenant runs the tenant migrations through PgBouncer (advisory lock held in its transaction)', async function () {
      this.timeout(60_000);
      const results = await Promise.all(['m1', 'm2', 'm3'].map((t) => apartment.createTenant(t)));
      for (const r of results) expect(r).to.include({ ok: true });
      const direct = connect('postgres');
      try {
        for (const t of ['m1', 'm2', 'm3']) {
          const [rows] = await direct.query("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY 1", { replacements: [`${prefix}${t}`] });
          expect((rows as any[]).map((r) => r.t)).to.include.members(['labels', 'notes']);
        }
      } finally {
        await direct.close();
      }
      for (const r of results) expect((r as any).versions).to.have.length(2);
      const status = await apartment.migrationStatus('m1');
      expect(status.pending).to.deep.equal([]);
    });

    it('model queries, raw SQL (replacements and bind) and transactions stay in their tenant under interleaving', async function () {
      this.timeout(60_000);
      const tenants = ['m1', 'm2', 'm3'];
      const work = Array.from({ length: 150 }, async (_, i) => {
        const t = tenants[i % 3];
        return apartment.run(t, async () => {
          switch (i % 5) {
            case 0:
              await Note.create({ owner: t, body: `n${i}` });
              return (await Note.findAll()).map((n: any) => n.owner);
            case 1: {
              const [rows] = await sequelize.query('SELECT owner FROM notes WHERE body <> :b', { replacements: { b: 'nope' } });
              return (rows as any[]).map((r) => r.owner);
            }
            case 2: {
              const [rows] = await sequelize.query('SELECT owner FROM notes WHERE body <> $1', { bind: ['nope'] });
              return (rows as any[]).map((r) => r.owner);
            }
            case 3:
              return sequelize.transaction(async (transaction) => {
                await sequelize.query('INSERT INTO notes (owner, body) VALUES ($1, $2)', { bind: [t, `tx${i}`], transaction });
                const [rows] = await sequelize.query('SELECT owner FROM notes', { transaction });
                return (rows as any[]).map((r) => r.owner);
              });
            default: {
              const transaction = await sequelize.transaction();
              await Note.create({ owner: t, body: `rolled back ${i}` }, { transaction });
              const [rows] = await sequelize.query('SELECT owner FROM notes', { transaction });
              await transaction.rollback();
              return (rows as any[]).map((r) => r.owner);
            }
          }
        }).then((owners: string[]) => ({ t, owners }));
      });
      for (const { t, owners } of await Promise.all(work)) {
        expect(owners.filter((o) => o !== t), `rows seen in ${t}`).to.deep.equal([]);
      }
      for (const t of tenants) {
        const notes = await Note.findAll({ tenant: t });
        expect(notes.every((n: any) => n.owner === t)).to.equal(true);
        expect(notes.some((n: any) => /rolled back/.test(n.body)), 'rolled back rows').to.equal(false);
        expect(notes).to.have.length(20); // 10 creates + 10 committed transactions per tenant
      }
    });

    it('in statement-pooling mode what routing relies on (a transaction) fails loudly, never with wrong rows', async function () {
      this.timeout(60_000);
      const statementMode = await startPgBouncer({ poolMode: 'statement', poolSize: 2 });
      const sequelize = new Sequelize(statementMode.url, { logging: false, pool: { max: 4 } });
      try {
        const apartment = new Apartment(sequelize, { migrationsPath: false, prefix });
        // Tenants from the previous tests: m1, m2 (created directly on the server, visible through any pooler).
        const attempts = await Promise.all(
          Array.from({ length: 40 }, (_, i) => {
            const t = i % 2 ? 'm1' : 'm2';
            const q = i % 4 < 2
              ? () => sequelize.query('SELECT DISTINCT owner FROM notes WHERE body <> $1', { bind: ['nope'] })
              : () => sequelize.transaction((transaction) => sequelize.query('SELECT DISTINCT owner FROM notes', { transaction }));
            return apartment.run(t, q).then(
              ([rows]: any) => ({ t, rows: (rows as any[]).map((r) => r.owner), error: undefined as unknown }),
              (error: unknown) => ({ t, rows: [] as string[], error }),
            );
          }),
        );
        for (const a of attempts) {
          if (a.error) expect(String((a.error as Error).message)).to.match(/transaction blocks not allowed|statement pool mode|Connection terminated|not queryable/i);
          else expect(a.rows).to.deep.equal([a.t]);
        }
        expect(attempts.filter((a) => a.error), 'bind / transaction statements are refused by statement pooling').to.have.length(40);
      } finally {
        await sequelize.close();
        await statementMode.stop();
      }
    });
  });
  describe("isolation: 'role' through PgBouncer (one server connection shared by every client)", () => {
    const rolePrefix = `${prefix}role_`;
    let login: LoginRole;
    let single: PgBouncer | undefined;
    let sequelize: Sequelize;
    let apartment: Apartment;
    let Note: any;
    const tenants = ['r1', 'r2', 'r3'];

    before(async function () {
      this.timeout(60_000);
      login = await createLoginRole();
      single = await startPgBouncer({ poolMode: 'transaction', poolSize: 1, upstream: login.url });
      sequelize = new Sequelize(single.url, { logging: false, pool: { max: 6 } });
      apartment = new Apartment(sequelize, { prefix: rolePrefix, migrationsPath: fixture('reliability', 'migrations'), isolation: 'role' });
      Note = sequelize.define('Note', { owner: { type: DataTypes.STRING(80), allowNull: false }, body: DataTypes.STRING(200) }, { tableName: 'notes', timestamps: false });
      // Created on the server directly: createTenant holds its lock transaction while it checks on other connections, which one server connection cannot serve.
      const direct = new Sequelize(login.url, { logging: false });
      try {
        const maker = new Apartment(direct, { prefix: rolePrefix, migrationsPath: fixture('reliability', 'migrations'), isolation: 'role' });
        for (const t of tenants) expect(await maker.createTenant(t)).to.include({ ok: true });
      } finally {
        await direct.close();
      }
    });
    after(async function () {
      this.timeout(60_000);
      await sequelize?.close().catch(() => undefined);
      await single?.stop();
      await login?.drop(rolePrefix);
    });

    it('every statement runs as its own tenant role under interleaving; the role never outlives its transaction on the shared server connection', async function () {
      this.timeout(60_000);
      const me = "current_user AS me";
      const work = Array.from({ length: 150 }, (_, i) => {
        const t = tenants[i % 3]!;
        return apartment.run(t, async () => {
          switch (i % 5) {
            case 0: {
              const note = await Note.create({ owner: t, body: `n${i}` });
              const [row] = await Note.findAll({ attributes: [[sequelize.literal('current_user'), 'me']], where: { id: note.id }, raw: true });
              return row.me;
            }
            case 1:
              return (await sequelize.query(`SELECT ${me}`, { type: QueryTypes.SELECT }) as any[])[0].me;
            case 2:
              return (await sequelize.query(`SELECT ${me}, $1::int AS n`, { type: QueryTypes.SELECT, bind: [i] }) as any[])[0].me;
            case 3:
              return sequelize.transaction(async (transaction) => {
                await Note.create({ owner: t, body: `tx${i}` }, { transaction });
                return (await sequelize.query(`SELECT ${me}`, { type: QueryTypes.SELECT, transaction }) as any[])[0].me;
              });
            default: {
              const error = await sequelize.query(`SELECT * FROM "${rolePrefix}${tenants[(i + 1) % 3]}".notes`).then(() => undefined, (e: unknown) => e);
              return error instanceof CrossTenantError && error.tenant === t ? `${rolePrefix}${t}` : `answered or wrong error: ${String(error)}`;
            }
          }
        }).then((who: string) => ({ t, who }));
      });
      for (const { t, who } of await Promise.all(work)) expect(who).to.equal(`${rolePrefix}${t}`);
      // Another client of the same bouncer (so the same server connection) finds the login role and the default search_path.
      const other = new Client({ connectionString: single!.url });
      await other.connect();
      try {
        const { rows } = await other.query('SELECT current_user AS me, current_setting(\'search_path\') AS path, pg_backend_pid() AS pid');
        expect(rows[0]).to.include({ me: login.name, path: '"$user", public' });
      } finally {
        await other.end();
      }
      for (const t of tenants) expect(await Note.count({ tenant: t })).to.equal(20);
    });
  });
});
