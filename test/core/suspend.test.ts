import { expect } from 'chai';
import { DataTypes, QueryTypes, Sequelize, type Model, type ModelStatic } from 'sequelize';
import { Apartment, ConfigurationError, TenantNotFoundError, TenantSuspendedError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { createLoginRole, type LoginRole } from '../support/login-role';
import { connect } from '../support/servers';
import { requestTenant } from '../../lib/http/resolve';

/** suspendTenant / resumeTenant (issue 25): the state lives with the tenant and every process sees it. */
describeDialects('suspend and resume', (d) => {
  let apartment: Apartment;
  let other: Apartment;

  before(async () => {
    await d.dropAll('susp_');
    apartment = new Apartment(d.sequelize(), { prefix: 'susp_', migrationsPath: false });
    // Another process: its own Sequelize, pool and Apartment.
    other = new Apartment(d.sequelize(), { prefix: 'susp_', migrationsPath: false });
    for (const key of ['acme', 'beta', 'gamma']) await apartment.createTenant(key);
  });
  after(() => d.dropAll('susp_'));

  it("tenants({ state: true }) lists each tenant's state; tenants() is still the keys; tenantState reads one", async () => {
    await apartment.suspendTenant('beta');
    await apartment.suspendTenant('gamma', { mode: 'read-only' });
    try {
      expect(await other.tenants()).to.deep.equal(['acme', 'beta', 'gamma']);
      expect(await other.tenants({ state: true })).to.deep.equal([
        { key: 'acme', state: 'active' },
        { key: 'beta', state: 'closed' },
        { key: 'gamma', state: 'read-only' },
      ]);
      expect(await other.tenantState('gamma')).to.equal('read-only');
    } finally {
      await apartment.resumeTenant('beta');
      await apartment.resumeTenant('gamma');
    }
    expect((await other.tenants({ state: true })).map((t) => t.state)).to.deep.equal(['active', 'active', 'active']);
    await apartment.resumeTenant('acme'); // resuming an active tenant does nothing
    expect(await apartment.tenantState('acme')).to.equal('active');
  });

  it("another process's request core sees a suspension within its TTL (ttl: 0: at once); method decides for read-only", async () => {
    const core = requestTenant(other, { resolve: 'header', ttl: 0 });
    const ask = (method: string) => core({ headers: { 'x-tenant': 'beta' }, method }, undefined).then(() => 200, (e: TenantSuspendedError) => e.status);
    expect(await ask('POST')).to.equal(200);
    await apartment.suspendTenant('beta', { mode: 'read-only' });
    try {
      expect(await Promise.all(['GET', 'HEAD', 'OPTIONS', 'get'].map(ask))).to.deep.equal([200, 200, 200, 200]);
      expect(await Promise.all(['POST', 'PUT', 'PATCH', 'DELETE'].map(ask))).to.deep.equal([423, 423, 423, 423]);
      await apartment.suspendTenant('beta');
      expect(await Promise.all(['GET', 'POST'].map(ask))).to.deep.equal([503, 503]);
      const cached = requestTenant(other, { resolve: 'header', ttl: 60_000 });
      const error = await cached({ headers: { 'x-tenant': 'beta' }, method: 'GET' }, undefined).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TenantSuspendedError).and.include({ mode: 'closed', tenant: 'beta', status: 503 });
      expect((error as Error).message).to.equal("Tenant 'beta' is suspended (closed). Resume it with resumeTenant('beta').");
    } finally {
      await apartment.resumeTenant('beta');
    }
    expect(await ask('POST')).to.equal(200);
  });

  it('a process that has the tenant cached as active sees a suspension made elsewhere once its TTL has passed, and not before', async () => {
    const third = new Apartment(d.sequelize(), { prefix: 'susp_', migrationsPath: false }); // a process of its own, cache included
    const ttl = 1000;
    const core = requestTenant(third, { resolve: 'header', ttl });
    const ask = () => core({ headers: { 'x-tenant': 'beta' }, method: 'POST' }, undefined).then(() => 200, (e: TenantSuspendedError) => e.status);
    expect(await ask()).to.equal(200); // cached as active from here
    await apartment.suspendTenant('beta');
    try {
      expect(await ask(), 'within the TTL the cached answer stands (so the next check is the TTL at work)').to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, ttl + 50));
      expect(await ask(), 'after the TTL the suspension is seen').to.equal(503);
    } finally {
      await apartment.resumeTenant('beta');
    }
    await new Promise((resolve) => setTimeout(resolve, ttl + 50));
    expect(await ask(), 'and so is the resumption').to.equal(200);
  });

  it('the state is the schema/database comment this package writes (a comment of its own is read as active)', async () => {
    const admin = d.sequelize();
    await apartment.suspendTenant('acme', { mode: 'read-only' });
    const read = async () => {
      const rows = await admin.query(
        d.name === 'postgres'
          ? "SELECT obj_description(oid, 'pg_namespace') AS note FROM pg_namespace WHERE nspname = 'susp_acme'"
          : "SELECT SCHEMA_COMMENT AS note FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'susp_acme'",
        { type: QueryTypes.SELECT }, // typed: a plain Sequelize on mariadb 3.1+ (sequelize#15701)
      );
      return (rows as Array<{ note: string | null }>)[0].note;
    };
    expect(await read()).to.equal('sequelize-apartment:read-only');
    await apartment.resumeTenant('acme');
    expect(await read()).to.be.oneOf([null, '']);
    await admin.query(d.name === 'postgres' ? "COMMENT ON SCHEMA susp_acme IS 'billing: acme corp'" : "ALTER DATABASE susp_acme COMMENT = 'billing: acme corp'");
    expect(await apartment.tenantState('acme')).to.equal('active');
  });

  it('refuses a missing tenant and a bad mode, naming the tenant', async () => {
    const missing = await apartment.suspendTenant('nope').catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(TenantNotFoundError).and.have.property('tenant', 'nope');
    expect((missing as Error).message).to.match(/^Tenant 'nope' does not exist, so it cannot be suspended\./);
    expect(await apartment.resumeTenant('nope').catch((e: unknown) => e)).to.be.instanceOf(TenantNotFoundError);
    expect(await apartment.tenantState('nope').catch((e: unknown) => e)).to.be.instanceOf(TenantNotFoundError);
    const bad = await apartment.suspendTenant('acme', { mode: 'frozen' as any }).catch((e: unknown) => e);
    expect(bad).to.be.instanceOf(ConfigurationError);
    expect((bad as Error).message).to.equal("Expected `mode` to be 'read-only' or 'closed', got `\"frozen\"` (string).");
    expect(await apartment.tenantState('acme')).to.equal('active');
  });
}, ['postgres', 'mariadb']);

describeDialects("suspend with isolation: 'role'", (d) => {
  let login: LoginRole;
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Widget: ModelStatic<Model>;

  before(async () => {
    login = await createLoginRole();
    sequelize = new Sequelize(login.url, { logging: false, pool: { max: 3 } });
    apartment = new Apartment(sequelize, { prefix: 'suspr_', migrationsPath: false, isolation: 'role' });
    Widget = sequelize.define('Widget', { name: DataTypes.STRING }, { tableName: 'widgets', timestamps: false });
    await apartment.createTenant('acme');
    await apartment.run('acme', async () => {
      await Widget.sync();
      await Widget.create({ name: 'gear' });
    });
  });
  after(async () => {
    await sequelize?.close();
    await login?.drop('suspr_');
  });

  it('PostgreSQL itself refuses writes to a read-only (or closed) tenant, through apartment.run and raw SQL alike; reads work; resumed, writes work', async () => {
    for (const mode of ['read-only', 'closed'] as const) {
      await apartment.suspendTenant('acme', { mode });
      await apartment.run('acme', async () => {
        expect(await Widget.count()).to.equal(1);
        for (const write of [() => Widget.create({ name: 'nope' }), () => Widget.update({ name: 'x' }, { where: {} }), () => sequelize.query('DELETE FROM widgets')]) {
          const error: any = await write().catch((e: unknown) => e);
          expect(error?.original?.code ?? error?.parent?.code, String(error)).to.equal('42501');
        }
      });
    }
    await apartment.resumeTenant('acme');
    await apartment.run('acme', async () => {
      await Widget.create({ name: 'sprocket' });
      expect(await Widget.count()).to.equal(2);
    });
    // The superuser's view: the grants are back as they were.
    const admin = connect('postgres', { pool: { max: 1 } });
    try {
      const [rows] = await admin.query("SELECT has_table_privilege('suspr_acme', 'suspr_acme.widgets', 'INSERT') AS can");
      expect((rows as Array<{ can: boolean }>)[0].can).to.equal(true);
    } finally {
      await admin.close();
    }
  });
}, ['postgres']);
