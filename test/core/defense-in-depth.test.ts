import { expect } from 'chai';
import * as sinon from 'sinon';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataTypes, QueryTypes, Sequelize, type Model, type ModelStatic } from 'sequelize';
import { Apartment, type ApartmentOptions, ConfigurationError, CrossTenantError, NoTenantError, TenantNotFoundError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { createLoginRole, rolesWithPrefix, type LoginRole } from '../support/login-role';
import { connect } from '../support/servers';

/** Tenant migrations: widgets record the role that wrote them (`who DEFAULT current_user`). */
const CREATE_WIDGETS = `'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('widgets', {
      id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: Sequelize.STRING, allowNull: false },
      owner: { type: Sequelize.STRING, allowNull: false },
      who: { type: Sequelize.STRING, allowNull: false, defaultValue: Sequelize.literal('current_user') },
      account_id: { type: Sequelize.INTEGER },
    });
    await queryInterface.createTable('parts', {
      id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true },
      widget_id: { type: Sequelize.INTEGER, references: { model: 'widgets', key: 'id' } },
      label: { type: Sequelize.STRING },
    });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('parts');
    await queryInterface.dropTable('widgets');
  },
};
`;
const ADD_NOTES = `'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('notes', { id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true }, body: Sequelize.TEXT });
  },
  async down(queryInterface) { await queryInterface.dropTable('notes'); },
};
`;

interface World {
  sequelize: Sequelize;
  apartment: Apartment;
  Widget: ModelStatic<Model>;
  Part: ModelStatic<Model>;
  Account: ModelStatic<Model>;
}

function world(url: string, prefix: string, migrationsPath: string, accounts: string, isolation: 'none' | 'role' = 'role', options: Partial<ApartmentOptions> = {}): World {
  const sequelize = new Sequelize(url, { logging: false, pool: { max: 4 } });
  const apartment = new Apartment(sequelize, { prefix, migrationsPath, sharedModels: ['Account'], isolation, ...options });
  const Account = sequelize.define('Account', { name: DataTypes.STRING }, { tableName: accounts, timestamps: false });
  const Widget = sequelize.define(
    'Widget',
    { name: DataTypes.STRING, owner: DataTypes.STRING, who: DataTypes.STRING, accountId: { type: DataTypes.INTEGER, field: 'account_id' } },
    { tableName: 'widgets', timestamps: false },
  );
  const Part = sequelize.define('Part', { label: DataTypes.STRING, widgetId: { type: DataTypes.INTEGER, field: 'widget_id' } }, { tableName: 'parts', timestamps: false });
  Widget.hasMany(Part, { foreignKey: 'widgetId' });
  Part.belongsTo(Widget, { foreignKey: 'widgetId' });
  Widget.belongsTo(Account, { foreignKey: 'accountId', constraints: false });
  return { sequelize, apartment, Widget, Part, Account };
}

async function refused(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => expect.fail(`expected the database to refuse, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
}

describeDialects('defense in depth: isolation "role"', (d) => {
  const prefix = `dd${Math.random().toString(36).slice(2, 6)}_`;
  let login: LoginRole;
  let folder: string;
  let w: World;
  let superuser: Sequelize;
  const accounts = `dd_accounts_${prefix.slice(2, 6)}`;

  const catalog = async (sql: string, replacements: unknown[] = []) => superuser.query(sql, { type: QueryTypes.SELECT, replacements }) as Promise<any[]>;

  before(async function () {
    this.timeout(60_000);
    login = await createLoginRole();
    superuser = connect('postgres', { pool: { max: 1 } });
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-roles-'));
    fs.writeFileSync(path.join(folder, '20260101000000-create-widgets.js'), CREATE_WIDGETS);
    w = world(login.url, prefix, folder, accounts);
    await w.Account.sync(); // shared table, made by the login role; afterSync grants it to the group
    await w.Account.create({ id: 1, name: 'acme corp' } as any);
    await w.apartment.createTenant('a');
    await w.apartment.createTenant('b');
    await w.apartment.run('a', () => w.Widget.create({ name: 'gear', owner: 'a', accountId: 1 }));
    await w.apartment.run('b', () => w.Widget.create({ name: 'secret', owner: 'b', accountId: 1 }));
  });

  after(async function () {
    this.timeout(60_000);
    await w?.sequelize.close();
    await superuser?.close();
    await login?.drop(prefix);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('createTenant makes a NOLOGIN role for the schema, granted to the login role, in the group; migrations create what the role owns', async () => {
    const [role] = await catalog('SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ?', [`${prefix}a`]);
    expect(role).to.deep.equal({ rolname: `${prefix}a`, rolcanlogin: false });
    const members = await catalog(
      `SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
        WHERE r.rolname IN (?, ?) ORDER BY 1, 2`,
      [`${prefix}a`, `${prefix}_shared`],
    );
    expect(members).to.deep.include({ role: `${prefix}a`, member: login.name });
    expect(members).to.deep.include({ role: `${prefix}_shared`, member: `${prefix}a` });
    expect(members).to.deep.include({ role: `${prefix}_shared`, member: `${prefix}b` });
    // The login role is in no group: only the tenant roles it may SET ROLE to.
    expect(members.filter((m) => m.role === `${prefix}_shared`).map((m) => m.member)).to.not.include(login.name);
    const owners = await catalog("SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.relnamespace = ?::regnamespace AND c.relkind = 'r' ORDER BY 1", [`${prefix}a`]);
    expect(owners).to.deep.equal([
      { relname: 'SequelizeMeta', owner: `${prefix}a` },
      { relname: 'parts', owner: `${prefix}a` },
      { relname: 'widgets', owner: `${prefix}a` },
    ]);
    const [usage] = await catalog('SELECT has_schema_privilege(?, ?, \'USAGE\') AS own, has_schema_privilege(?, ?, \'USAGE\') AS other', [`${prefix}a`, `${prefix}a`, `${prefix}b`, `${prefix}a`]);
    expect(usage).to.deep.equal({ own: true, other: false });
  });

  it('model queries (INSERT, SELECT, UPDATE) run under SET LOCAL ROLE of the tenant; nothing stays on the connection', async () => {
    const { apartment, Widget, sequelize } = w;
    await apartment.run('a', async () => {
      const created = await Widget.create({ name: 'bolt', owner: 'a' });
      expect(await Widget.findByPk(created.get('id') as number).then((r) => r!.get('who'))).to.equal(`${prefix}a`);
      await Widget.update({ name: 'bolt 2' }, { where: { id: created.get('id') } });
      const [row] = await Widget.findAll({ attributes: [[sequelize.literal('current_user'), 'me']], where: { id: created.get('id') }, raw: true });
      expect(row).to.deep.equal({ me: `${prefix}a` });
      const [raw] = await sequelize.query('SELECT current_user AS me', { type: QueryTypes.SELECT });
      expect(raw).to.deep.equal({ me: `${prefix}a` });
      const [bound] = await sequelize.query('SELECT current_user AS me, $1::int AS n', { type: QueryTypes.SELECT, bind: [7] });
      expect(bound).to.deep.equal({ me: `${prefix}a`, n: 7 });
    });
    // Outside run: the login role, on every pooled connection.
    const rows = await Promise.all([1, 2, 3, 4].map(() => sequelize.query('SELECT current_user AS me', { type: QueryTypes.SELECT })));
    for (const [row] of rows) expect(row).to.deep.equal({ me: login.name });
  });

  it('Sequelize INSERT/UPDATE are sent without bind parameters, so the role goes in the same message', async () => {
    const { apartment, Widget, sequelize } = w;
    const seen: Array<{ sql: string; bind: unknown }> = [];
    const logging = (sql: string, options: any) => seen.push({ sql, bind: options?.bind });
    await apartment.run('a', async () => {
      const created = (await Widget.create({ name: "nut", owner: "a" }, { logging } as any)) as Model;
      await created.update({ name: 'nut 2' }, { logging } as any);
    });
    expect(seen.map((s) => /^Executing \([^)]*\): (\w+)/.exec(s.sql)?.[1])).to.deep.equal(['INSERT', 'UPDATE']);
    for (const s of seen) expect(s.sql, s.sql).to.not.match(/\$1/);
    expect(await apartment.run('a', () => Widget.count({ where: { name: 'nut 2' } }))).to.equal(1);
    void sequelize;
  });

  it('raw SQL with bind outside a transaction: one message (values inlined as the driver would send them), same results as bind parameters', async () => {
    // One pooled connection, so the spy sees every message this test sends.
    const { apartment, sequelize } = world(login.url, prefix, folder, accounts, 'role');
    (sequelize as any).options.pool.max = 1;
    (sequelize as any).connectionManager.initPools();
    const plain = connect('postgres', { pool: { max: 1 } });
    await apartment.run('a', () => sequelize.query('SELECT 1'));
    const manager = (sequelize as any).connectionManager;
    const connection = await manager.getConnection();
    manager.releaseConnection(connection);
    const spy = sinon.spy(connection, 'query');
    try {
      const sql = 'SELECT $1::text AS s, $2::int AS n, $3::boolean AS b, $4::jsonb AS j, $5::int[] AS a, $6::timestamptz AS t, $7::text AS nothing, $1 = $1 AS same, current_user AS me';
      const values = ["it's a \\ back'slash", 42, true, { k: ["v", 1] }, [1, 2, 3], new Date('2026-12-02T08:00:00.123Z'), null];
      spy.resetHistory();
      const [row] = (await apartment.run('a', () => sequelize.query(sql, { type: QueryTypes.SELECT, bind: values }))) as any[];
      expect(spy.callCount, 'pg client queries for one bind statement').to.equal(1);
      expect(spy.firstCall.args[1], 'sent without bind parameters').to.not.be.an('array');
      const [expected] = (await plain.query(sql.replace(', current_user AS me', ''), { type: QueryTypes.SELECT, bind: values })) as any[];
      expect(row).to.deep.equal({ ...expected, me: `${prefix}a` });
      // A Buffer is sent as a bind parameter (binary): the BEGIN/COMMIT bracket.
      spy.resetHistory();
      const [bytes] = (await apartment.run('a', () => sequelize.query('SELECT $1::bytea AS b, current_user AS me', { type: QueryTypes.SELECT, bind: [Buffer.from([0, 1, 255])] }))) as any[];
      expect(bytes).to.deep.equal({ b: Buffer.from([0, 1, 255]), me: `${prefix}a` });
      expect(spy.callCount).to.equal(3);
    } finally {
      spy.restore();
      await plain.close();
      await sequelize.close();
    }
  });

  it("inside run('a'), tenant b's table is refused with CrossTenantError in every path", async () => {
    const { apartment, Widget, Part, sequelize } = w;
    const other = `"${prefix}b".widgets`;
    const paths: Record<string, () => Promise<unknown>> = {
      raw: () => sequelize.query(`SELECT * FROM ${other}`, { type: QueryTypes.SELECT }),
      'raw with bind': () => sequelize.query(`SELECT * FROM ${other} WHERE id > $1`, { type: QueryTypes.SELECT, bind: [0] }),
      literal: () => Widget.findAll({ where: sequelize.literal(`id IN (SELECT id FROM ${other})`) }),
      'Model.schema()': () => (Widget as any).schema(`${prefix}b`).findAll(),
      'Model.schema() create': () => (Widget as any).schema(`${prefix}b`).create({ name: 'planted', owner: 'a' }),
      include: () => Part.findAll({ include: [{ model: (Widget as any).schema(`${prefix}b`), required: false }] }),
      transaction: () => sequelize.transaction(async (transaction) => {
        await Widget.findAll({ transaction });
        return sequelize.query(`SELECT * FROM ${other}`, { type: QueryTypes.SELECT, transaction });
      }),
    };
    await apartment.run('a', async () => {
      for (const [name, run] of Object.entries(paths)) {
        const error = await refused(run());
        expect(error, name).to.be.instanceOf(CrossTenantError);
        expect((error as CrossTenantError).tenant, name).to.equal('a');
        expect((error as CrossTenantError).instanceTenant, name).to.equal('b');
        expect((error as Error).message, name).to.include("tenant 'a'").and.include("tenant 'b'");
      }
      // Tenant a still works on the same pool afterwards.
      expect(await Widget.count()).to.be.greaterThan(0);
    });
    const rows = await apartment.run('b', () => Widget.findAll({ raw: true }));
    expect(rows.map((r: any) => r.name)).to.deep.equal(['secret']);
  });

  it('shared models work inside a tenant (group grant) and outside; a tenant-less statement cannot read a tenant table', async () => {
    const { apartment, Widget, Account, sequelize } = w;
    const inside = await apartment.run('a', () => Widget.findAll({ include: [Account], where: { name: 'gear' } }));
    expect((inside[0] as any).Account.name).to.equal('acme corp');
    expect(await apartment.run('a', () => Account.count())).to.equal(1);
    expect(await Account.count()).to.equal(1);
    const error = await refused(sequelize.query(`SELECT * FROM "${prefix}b".widgets`, { type: QueryTypes.SELECT }));
    expect(error).to.be.instanceOf(NoTenantError);
    expect((error as NoTenantError).tenant).to.equal('b');
    expect((error as Error).message).to.include('apartment.run');
  });

  it('migrateAll: a table a new migration adds is owned by, and usable for, each tenant role; status reads every tenant', async () => {
    fs.writeFileSync(path.join(folder, '20260102000000-add-notes.js'), ADD_NOTES);
    try {
      const results = await w.apartment.migrateAll();
      expect(results.map((r) => r.ok)).to.deep.equal([true, true]);
      const owners = await catalog("SELECT n.nspname AS schema, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'notes' AND left(n.nspname, ?) = ? ORDER BY 1", [prefix.length, prefix]);
      expect(owners).to.deep.equal([{ schema: `${prefix}a`, owner: `${prefix}a` }, { schema: `${prefix}b`, owner: `${prefix}b` }]);
      await w.apartment.run('b', () => w.sequelize.query("INSERT INTO notes (body) VALUES ('hi')"));
      const status = await w.apartment.migrationStatusAll();
      expect(status.map((s) => s.pending)).to.deep.equal([[], []]);
      expect(status.map((s) => s.executed.length)).to.deep.equal([2, 2]);
      expect(await w.apartment.migrateAll({ direction: 'down' }).then((r) => r.map((x) => x.ok))).to.deep.equal([true, true]);
    } finally {
      fs.rmSync(path.join(folder, '20260102000000-add-notes.js'));
    }
  });

  it('warm spares: a claimed spare keeps its grants under the tenant name (schema and role renamed together)', async () => {
    await w.apartment.prewarm(1);
    const [spare] = await catalog('SELECT rolname FROM pg_roles WHERE left(rolname, ?) = ?', [`${prefix}_spare_`.length, `${prefix}_spare_`]);
    expect(spare, 'a role for the spare').to.not.equal(undefined);
    await w.apartment.createTenant('c');
    expect(await catalog('SELECT rolname FROM pg_roles WHERE rolname = ?', [spare.rolname])).to.deep.equal([]);
    const owners = await catalog("SELECT pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.relnamespace = ?::regnamespace AND c.relname = 'widgets'", [`${prefix}c`]);
    expect(owners).to.deep.equal([{ owner: `${prefix}c` }]);
    await w.apartment.run('c', async () => {
      const created = await w.Widget.create({ name: 'warm', owner: 'c' });
      expect(created.get('who') ?? (await w.Widget.findByPk(created.get('id') as number))!.get('who')).to.equal(`${prefix}c`);
      expect(await refused(w.sequelize.query(`SELECT * FROM "${prefix}a".widgets`))).to.be.instanceOf(CrossTenantError);
    });
  });

  it('renameTenant renames the role with the schema: grants and ownership follow, the old role is gone', async () => {
    await w.apartment.createTenant('r1');
    await w.apartment.run('r1', () => w.Widget.create({ name: 'moved', owner: 'r1' }));
    await w.apartment.renameTenant('r1', 'r2');
    expect(await rolesWithPrefix(`${prefix}r`)).to.deep.equal([`${prefix}r2`]);
    const owners = await catalog("SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.relnamespace = ?::regnamespace AND c.relkind = 'r' ORDER BY 1", [`${prefix}r2`]);
    expect(owners.map((o) => o.owner)).to.deep.equal([`${prefix}r2`, `${prefix}r2`, `${prefix}r2`]);
    await w.apartment.run('r2', async () => {
      expect((await w.Widget.findAll({ raw: true })).map((r: any) => r.name)).to.deep.equal(['moved']);
      const created = await w.Widget.create({ name: 'after', owner: 'r2' });
      expect((await w.Widget.findByPk(created.get('id') as number))!.get('who')).to.equal(`${prefix}r2`);
      const error = await refused(w.sequelize.query(`SELECT * FROM "${prefix}a".widgets`));
      expect(error).to.be.instanceOf(CrossTenantError);
      expect((error as CrossTenantError).tenant).to.equal('r2');
    });
    // The old key is a missing tenant, not a missing role.
    expect(await refused(w.apartment.run('r1', () => w.Widget.findAll()))).to.be.instanceOf(TenantNotFoundError);
    await w.apartment.dropTenant('r2');
    expect(await rolesWithPrefix(`${prefix}r`)).to.deep.equal([]);
  });

  it('seeders: SequelizeData is owned by the tenant role and seed status reads it; seeded rows are written as the tenant role', async () => {
    const seeders = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-roles-seed-'));
    fs.writeFileSync(
      path.join(seeders, '20260301000001-first-widget.js'),
      "module.exports = { async up(qi) { await qi.bulkInsert('widgets', [{ name: 'seeded', owner: 'seed' }]); }, async down(qi) { await qi.bulkDelete('widgets', { name: 'seeded' }); } };",
    );
    const s = world(login.url, prefix, folder, accounts, 'role', { seedersPath: seeders });
    try {
      await s.apartment.createTenant('seeded', { seed: true });
      const owners = await catalog("SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.relnamespace = ?::regnamespace AND c.relname IN ('SequelizeMeta', 'SequelizeData') ORDER BY 1", [`${prefix}seeded`]);
      expect(owners).to.deep.equal([
        { relname: 'SequelizeData', owner: `${prefix}seeded` },
        { relname: 'SequelizeMeta', owner: `${prefix}seeded` },
      ]);
      expect((await s.apartment.seedStatus('seeded')).executed).to.deep.equal(['20260301000001-first-widget.js']);
      const rows = await s.apartment.run('seeded', () => s.Widget.findAll({ raw: true }));
      expect(rows.map((r: any) => [r.name, r.who])).to.deep.equal([['seeded', `${prefix}seeded`]]);
      expect((await s.apartment.seedTenant('seeded', { direction: 'down' })).ok).to.equal(true);
      expect(await s.apartment.run('seeded', () => s.Widget.count())).to.equal(0);
      await s.apartment.dropTenant('seeded');
    } finally {
      await s.sequelize.close();
      fs.rmSync(seeders, { recursive: true, force: true });
    }
  });

  it('sqlComment: the tenant comment and SET LOCAL ROLE go together; cross-tenant reads are still refused', async () => {
    const s = world(login.url, prefix, folder, accounts, 'role', { sqlComment: true });
    const seen: string[] = [];
    try {
      await s.apartment.run('a', async () => {
        const [row] = await s.sequelize.query('SELECT current_user AS me', { type: QueryTypes.SELECT, logging: (sql: string) => seen.push(sql) });
        expect(row).to.deep.equal({ me: `${prefix}a` });
        expect((await s.Widget.findOne({ where: { name: 'gear' }, logging: (sql: string) => seen.push(sql) }))!.get('who')).to.equal(`${prefix}a`);
        expect(await refused(s.sequelize.query(`SELECT * FROM "${prefix}b".widgets`))).to.be.instanceOf(CrossTenantError);
      });
      expect(seen.every((sql) => sql.includes("tenant='a'")), seen.join('\n')).to.equal(true);
    } finally {
      await s.sequelize.close();
    }
  });

  it('createTenant makes the role in the schema\'s transaction: a failing migration leaves neither schema nor role', async () => {
    const failing = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-roles-fail-'));
    fs.writeFileSync(path.join(failing, '20260101000000-create-widgets.js'), CREATE_WIDGETS);
    fs.writeFileSync(path.join(failing, '20260101000001-broken.js'), "module.exports = { async up(qi) { await qi.sequelize.query('SELECT no_such_column FROM widgets'); }, async down() {} };");
    const f = world(login.url, prefix, failing, accounts);
    try {
      const result = await f.apartment.createTenant('broken').then((r) => r, (e: any) => e.result ?? e);
      expect(result.ok, String(result.error ?? result)).to.equal(false);
      expect(await d.schemaExists(`${prefix}broken`)).to.equal(false);
      expect(await rolesWithPrefix(`${prefix}broken`)).to.deep.equal([]);
    } finally {
      await f.sequelize.close();
      fs.rmSync(failing, { recursive: true, force: true });
    }
  });

  it('dropTenant drops the role too (DROP OWNED BY, DROP ROLE)', async () => {
    await w.apartment.createTenant('gone');
    expect(await rolesWithPrefix(`${prefix}gone`)).to.deep.equal([`${prefix}gone`]);
    await w.apartment.dropTenant('gone');
    expect(await rolesWithPrefix(`${prefix}gone`)).to.deep.equal([]);
    expect(await d.schemaExists(`${prefix}gone`)).to.equal(false);
  });

  it('turning it on for existing tenants: syncRoles() creates and grants their roles, idempotent', async () => {
    const p2 = `${prefix}x_`;
    const before = world(login.url, p2, folder, `${accounts}_x`, 'none');
    try {
      await before.Account.sync();
      await before.apartment.createTenant('old');
      await before.apartment.createTenant('older');
      await before.apartment.run('old', () => before.Widget.create({ name: 'kept', owner: 'old' }));
      // Without roles, routing alone: a mis-qualified read is answered.
      const leak = await before.apartment.run('old', () => before.sequelize.query(`SELECT name FROM "${p2}older".widgets`, { type: QueryTypes.SELECT }));
      expect(leak).to.deep.equal([]);
    } finally {
      await before.sequelize.close();
    }
    const after = world(login.url, p2, folder, `${accounts}_x`);
    try {
      const missing = await refused(after.apartment.run('old', () => after.Widget.findAll()));
      expect(missing).to.be.instanceOf(ConfigurationError);
      expect((missing as Error).message).to.include('syncRoles()').and.include('tenant:roles');
      expect(await after.apartment.syncRoles()).to.deep.equal({ tenants: 2, created: 2, group: `${p2}_shared`, shared: [`${accounts}_x`] });
      expect(await after.apartment.syncRoles()).to.deep.equal({ tenants: 2, created: 0, group: `${p2}_shared`, shared: [`${accounts}_x`] });
      const owners = await catalog("SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.relnamespace = ?::regnamespace AND c.relkind IN ('r', 'S') ORDER BY 1", [`${p2}old`]);
      expect(owners.every((o) => o.owner === `${p2}old`), JSON.stringify(owners)).to.equal(true);
      await after.apartment.run('old', async () => {
        expect((await after.Widget.findAll({ raw: true })).map((r: any) => r.name)).to.deep.equal(['kept']);
        await after.Widget.create({ name: 'new', owner: 'old' });
        expect(await refused(after.sequelize.query(`SELECT name FROM "${p2}older".widgets`))).to.be.instanceOf(CrossTenantError);
      });
      expect((await after.apartment.migrationStatusAll()).map((s) => s.executed.length)).to.deep.equal([1, 1]);
    } finally {
      await after.sequelize.close();
    }
  });

  it('a tenant that does not exist is still TenantNotFoundError (not a missing role), model and raw', async () => {
    const { apartment, Widget, sequelize } = w;
    await apartment.run('never', async () => {
      expect(await refused(Widget.findAll())).to.be.instanceOf(TenantNotFoundError);
      expect(await refused(Widget.create({ name: 'x', owner: 'never' }))).to.be.instanceOf(TenantNotFoundError);
      expect(await refused(sequelize.query('SELECT * FROM widgets'))).to.be.instanceOf(TenantNotFoundError);
    });
  });

  it('refuses a superuser login role (it would bypass every privilege) with a message saying what to do', async () => {
    const s = new Sequelize(d.url, { logging: false });
    try {
      const apartment = new Apartment(s, { prefix: `${prefix}su_`, isolation: 'role', migrationsPath: folder });
      const error = await refused(apartment.createTenant('nope'));
      expect(error).to.be.instanceOf(ConfigurationError);
      expect((error as Error).message).to.include('superuser');
      expect(await d.schemaExists(`${prefix}su_nope`)).to.equal(false);
    } finally {
      await s.close();
    }
  });
}, ['postgres']);

describeDialects('defense in depth: isolation "role" on MySQL/MariaDB', (d) => {
  it('is refused with ConfigurationError: roles there are per session, not per statement', () => {
    const sequelize = d.sequelize();
    expect(() => new Apartment(sequelize, { isolation: 'role' })).to.throw(ConfigurationError, /per session/);
  });

  it('rejects an unknown isolation value', () => {
    const sequelize = d.sequelize();
    expect(() => new Apartment(sequelize, { isolation: 'rows' as any })).to.throw(ConfigurationError, /'none' or 'role'/);
  });
}, ['mysql']);
