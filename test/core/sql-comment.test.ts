import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { Apartment, ConfigurationError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { tenantWorld, type Models } from '../support/models';

describeDialects('sqlComment: every statement in a tenant says which tenant', (d) => {
  const A = 'cmt-a';
  const B = 'cmt-b';
  let sequelize: Sequelize;
  let apartment: Apartment;
  let m: Models;
  let admin: Sequelize;
  const logged: Array<{ sql: string; tenant: unknown }> = [];

  before(async () => {
    await d.dropAll('tenant_cmt');
    sequelize = d.sequelize({
      logging: (sql: string, options?: any) => void logged.push({ sql, tenant: options?.tenant }),
      ...(d.name === 'postgres' ? {} : { dialectOptions: { multipleStatements: true } }),
    });
    ({ apartment, models: m } = await tenantWorld(sequelize, [A, B], { sqlComment: true }));
    // On the server the suite runs on (the Citus coordinator in the [citus] run), where the statements run.
    admin = d.sequelize();
  });
  after(async () => {
    await d.dropAll('tenant_cmt');
  });
  beforeEach(() => void logged.splice(0));

  /** Runs `sql` in the tenant while another connection reads what the server shows as running. */
  async function seenWhileRunning(tenant: string, sql: string): Promise<string[]> {
    const running = apartment.run(tenant, () => sequelize.query(sql));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = await admin.query(
      d.name === 'postgres'
        ? "SELECT query AS text FROM pg_stat_activity WHERE query LIKE '%sleep%' AND pid <> pg_backend_pid()"
        : "SELECT INFO AS text FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP%' AND ID <> CONNECTION_ID()",
      { type: QueryTypes.SELECT }, // typed: a plain Sequelize on mariadb 3.1+ (sequelize#15701)
    );
    await running;
    return (rows as Array<{ text: string }>).map((r) => r.text);
  }

  it(`is visible in ${d.name === 'postgres' ? 'pg_stat_activity' : 'the process list'} while a tenant's statement runs`, async () => {
    const sleep = d.name === 'postgres' ? 'SELECT pg_sleep(1.2)' : 'SELECT SLEEP(1.2)';
    const seen = await seenWhileRunning(A, sleep);
    expect(seen.some((text) => text.includes(sleep) && text.includes("/* tenant='cmt-a' */"))).to.equal(true, seen.join('\n'));
  });

  if (d.name !== 'postgres') {
    it("is in MariaDB's general log, for model and raw statements", async () => {
      const [before] = (await admin.query("SELECT @@GLOBAL.general_log AS on_, @@GLOBAL.log_output AS output", { type: QueryTypes.SELECT })) as any;
      await admin.query("SET GLOBAL log_output = 'TABLE'");
      await admin.query('SET GLOBAL general_log = 1');
      try {
        await apartment.run(B, async () => {
          await m.Widget.create({ name: 'logged', owner: B });
          await sequelize.query("SELECT 'general-log-probe' AS probe");
        });
      } finally {
        await admin.query('SET GLOBAL general_log = ?', { replacements: [Number(before.on_)] });
        await admin.query('SET GLOBAL log_output = ?', { replacements: [before.output] });
      }
      const rows = await admin.query(
        "SELECT CONVERT(argument USING utf8mb4) AS text FROM mysql.general_log WHERE CONVERT(argument USING utf8mb4) LIKE '%cmt-b%' AND (CONVERT(argument USING utf8mb4) LIKE 'INSERT INTO%' OR CONVERT(argument USING utf8mb4) LIKE '%general-log-probe%')",
        { type: QueryTypes.SELECT },
      );
      const texts = (rows as Array<{ text: string }>).map((r) => r.text);
      expect(texts.some((t) => t.startsWith('INSERT INTO') && t.includes("/* tenant='cmt-b' */"))).to.equal(true, texts.join('\n'));
      expect(texts.some((t) => t.includes('general-log-probe') && t.includes("/* tenant='cmt-b' */"))).to.equal(true, texts.join('\n'));
    });
  }

  it('the logged line and the options given to a logging function name the tenant', async () => {
    await apartment.run(A, () => m.Widget.findAll());
    await apartment.run(B, () => sequelize.query('SELECT 1 AS one'));
    await m.Widget.count({ tenant: A });
    const find = logged.find((l) => l.sql.includes('SELECT') && l.sql.includes('widgets') && l.tenant === A);
    expect(find?.sql).to.include("/* tenant='cmt-a' */");
    const raw = logged.find((l) => l.sql.includes('SELECT 1 AS one'));
    expect(raw).to.deep.include({ tenant: B });
    expect(raw!.sql).to.include("/* tenant='cmt-b' */");
    expect(logged.filter((l) => /count\(/i.test(l.sql)).map((l) => l.tenant)).to.deep.equal([A]);
  });

  it('statements with no tenant (shared models, admin SQL) are not tagged', async () => {
    await m.Account.findAll();
    await sequelize.query('SELECT 2 AS two');
    expect(logged.map((l) => l.sql).join('\n')).to.not.include('tenant=');
  });

  it('bind parameters, replacements, multi-statement text and a trailing line comment still work', async () => {
    await apartment.run(A, async () => {
      await m.Widget.create({ name: 'gear', owner: A, stock: 3 });
      const bind = 'SELECT name FROM widgets WHERE stock = $1';
      expect(await sequelize.query(bind, { bind: [3], type: QueryTypes.SELECT })).to.deep.equal([{ name: 'gear' }]);
      expect(await sequelize.query('SELECT name FROM widgets WHERE stock = :stock', { replacements: { stock: 3 }, type: QueryTypes.SELECT })).to.deep.equal([{ name: 'gear' }]);
      expect(await sequelize.query('SELECT name FROM widgets -- the gear\n', { type: QueryTypes.SELECT })).to.deep.equal([{ name: 'gear' }]);
      await sequelize.query("UPDATE widgets SET stock = 4 WHERE name = 'gear'; UPDATE widgets SET stock = stock + 1 WHERE name = 'gear';");
      expect(await sequelize.query('SELECT stock FROM widgets', { type: QueryTypes.SELECT })).to.deep.equal([{ stock: 5 }]);
      // Untyped raw INSERT: Sequelize recognises it by its text's start, which the trailing comment leaves alone.
      const [, meta] = await sequelize.query("INSERT INTO widgets (name, owner, stock, \"createdAt\", \"updatedAt\") VALUES ('cog', 'cmt-a', 1, now(), now())".replace(/"/g, d.name === 'postgres' ? '"' : '`').replace(/now\(\)/g, d.name === 'postgres' ? 'now()' : 'NOW()'));
      expect(meta).to.not.equal(undefined);
      await m.Widget.destroy({ where: {}, force: true });
    });
  });

  it("the same bind statement in two tenants reads each tenant's rows (no prepared statement reused across tenants)", async () => {
    const sql = 'SELECT owner FROM widgets WHERE stock > $1';
    for (const key of [A, B]) await apartment.run(key, () => m.Widget.create({ name: 'w', owner: key, stock: 9 }));
    for (let round = 0; round < 3; round += 1) {
      for (const key of [A, B]) {
        const rows = await apartment.run(key, () => sequelize.query(sql, { bind: [1], type: QueryTypes.SELECT }));
        expect(rows).to.deep.equal([{ owner: key }]);
      }
    }
    for (const key of [A, B]) await apartment.run(key, () => m.Widget.destroy({ where: {}, force: true }));
  });

  it('is off by default, and must be a boolean', async () => {
    const plain = d.sequelize({ logging: (sql: string) => void logged.push({ sql, tenant: undefined }) });
    const other = new Apartment(plain, { prefix: 'tenant_cmt_off_', migrationsPath: false });
    await other.createTenant('x');
    await other.run('x', () => plain.query('SELECT 3 AS three'));
    expect(logged.find((l) => l.sql.includes('SELECT 3 AS three'))?.sql).to.not.include('tenant=');
    expect(() => new Apartment(d.sequelize(), { sqlComment: 'yes' as any })).to.throw(ConfigurationError, /sqlComment/);
  });
});
