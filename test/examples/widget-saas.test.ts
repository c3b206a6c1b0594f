import { expect } from 'chai';
import type { Sequelize } from 'sequelize';
import { createApp, type WidgetSaas } from '../../examples/widget-saas/src/app';
import { openDatabase, type Database } from '../../examples/widget-saas/src/database';
import { describeDialects, type DialectHarness } from '../support/dialects';
import { listen, request } from '../http/helpers';

const MIGRATIONS = ['20250101000001-create-widgets.js', '20250101000002-create-tags.js'];
const SHARED_TABLES = ['demo_memberships', 'demo_users', 'demo_accounts']; // dependents first

/** The user's tour of the example, over HTTP: the same on every database. */
function tour(setup: () => Promise<{ sequelize: Sequelize; schemaExists?: (name: string) => Promise<boolean>; cleanup?: () => Promise<void> }>) {
  let saas: WidgetSaas;
  let server: Awaited<ReturnType<typeof listen>>;
  let cleanup: (() => Promise<void>) | undefined;
  let schemaExists: ((name: string) => Promise<boolean>) | undefined;
  /** Tokens by user, from sign-up. */
  const token: Record<string, string> = {};
  const call = (method: string, path: string, { tenant, user, body, host }: { tenant?: string; user?: string; body?: unknown; host?: string } = {}) =>
    request(server.url + path, {
      method,
      body,
      headers: {
        ...(tenant && { 'x-tenant': tenant }),
        ...(user && { authorization: `Bearer ${token[user] ?? user}` }),
        ...(host && { host }),
      },
    });

  before(async function () {
    this.timeout(120_000);
    const env = await setup();
    cleanup = env.cleanup;
    schemaExists = env.schemaExists;
    saas = await createApp({ sequelize: env.sequelize, prefix: 'demo_', sharedTablePrefix: 'demo_' });
    server = await listen(saas.app);
  });
  after(async () => {
    await server?.close();
    await cleanup?.();
  });

  it('sign-up creates a user and a migrated tenant, refused whole for a taken or invalid key', async () => {
    for (const [user, key] of [['ann', 'acme'], ['gil', 'globex']] as const) {
      const res = await call('POST', '/signup', { body: { email: `${user}@example.com`, tenant: key } });
      expect(res.status, res.text).to.equal(201);
      expect(res.json).to.deep.include({ key, schema: `demo_${key}`, migrations: MIGRATIONS, email: `${user}@example.com` });
      expect(res.json.token).to.be.a('string').with.length.above(20);
      token[user] = res.json.token;
    }
    // A taken key: 409, and nothing of the sign-up stays (the same email can sign up again).
    expect((await call('POST', '/signup', { body: { email: 'bob@example.com', tenant: 'acme' } })).status).to.equal(409);
    expect((await call('POST', '/signup', { body: { email: 'bob@example.com', tenant: 'Bad Key' } })).status).to.equal(400);
    const taken = await call('POST', '/signup', { body: { email: 'ann@example.com', tenant: 'acme-2' } }); // email taken
    expect(taken.status).to.equal(409);
    expect(taken.json).to.deep.equal({
      error: 'EmailTaken',
      message: 'An account with this email already exists. Sign in with its token (authorization: Bearer <token>), or sign up with another email.',
    });
    // A tenant made elsewhere (the CLI) without an account row: 409, and it is left alone.
    await saas.apartment.createTenant('orphan');
    expect((await call('POST', '/signup', { body: { email: 'bob@example.com', tenant: 'orphan' } })).status).to.equal(409);
    expect(await saas.apartment.exists('orphan')).to.equal(true);
    await saas.apartment.dropTenant('orphan');
    expect(await saas.models.User.count({ where: { email: 'bob@example.com' } })).to.equal(0);
    expect(await saas.apartment.tenants()).to.deep.equal(['acme', 'globex']);
    if (schemaExists) expect(await schemaExists('demo_globex')).to.equal(true);
  });

  it('a tenant made by sign-up is served at once, also right after a 404 for its key', async () => {
    expect((await call('GET', '/widgets', { tenant: 'initech', user: 'ann' })).status).to.equal(404); // remembered as missing
    const res = await call('POST', '/signup', { body: { email: 'ivy@example.com', tenant: 'initech' } });
    expect(res.status, res.text).to.equal(201);
    token.ivy = res.json.token;
    const served = await call('GET', '/widgets', { tenant: 'initech', user: 'ivy' });
    expect(served.status, served.text).to.equal(200);
    expect(served.json).to.deep.equal([]);
    expect((await call('GET', '/widgets', { tenant: 'initech', user: 'ann' })).status).to.equal(403); // exists now, not hers
  });

  it('keeps widgets isolated per tenant (header and subdomain), with tags through the tenant join table', async () => {
    const a = await call('POST', '/widgets', { tenant: 'acme', user: 'ann', body: { name: 'sprocket', quantity: 3, tags: ['blue', 'metal'] } });
    expect(a.status, a.text).to.equal(201);
    expect(a.json).to.include({ name: 'sprocket', quantity: 3 });
    expect(a.json.tags).to.deep.equal(['blue', 'metal']);
    const g = await call('POST', '/widgets', { tenant: 'globex', user: 'gil', body: { name: 'gizmo', tags: ['blue'] } });
    expect(g.status, g.text).to.equal(201);

    expect((await call('GET', '/widgets', { tenant: 'acme', user: 'ann' })).json.map((w: any) => w.name)).to.deep.equal(['sprocket']);
    expect((await call('GET', '/widgets', { tenant: 'globex', user: 'gil' })).json.map((w: any) => [w.name, w.tags])).to.deep.equal([['gizmo', ['blue']]]);
    const bySubdomain = await call('GET', '/widgets', { host: 'globex.example.com', user: 'gil' });
    expect(bySubdomain.json.map((w: any) => w.name)).to.deep.equal(['gizmo']);

    // acme's widget id is not reachable from globex, even when the ids collide.
    expect((await call('PATCH', `/widgets/${a.json.id}`, { tenant: 'acme', user: 'ann', body: { quantity: 5, tags: ['red'] } })).json).to.deep.include({ quantity: 5, tags: ['red'] });
    const other = await call('GET', `/widgets/${a.json.id}`, { tenant: 'globex', user: 'gil' });
    expect(other.json.name ?? null).to.not.equal('sprocket');
    expect((await call('DELETE', `/widgets/${g.json.id}`, { tenant: 'globex', user: 'gil' })).status).to.equal(204);
    expect((await call('GET', '/widgets', { tenant: 'globex', user: 'gil' })).json).to.deep.equal([]);
    expect((await call('GET', '/widgets', { tenant: 'acme', user: 'ann' })).json.map((w: any) => [w.name, w.quantity, w.tags])).to.deep.equal([['sprocket', 5, ['red']]]);
    expect((await call('POST', '/widgets', { tenant: 'acme', user: 'ann', body: { name: '' } })).status).to.equal(422);
  });

  it("a user of acme gets 403 on every globex route (header or subdomain), and globex's data is untouched", async () => {
    const mine = await call('POST', '/widgets', { tenant: 'globex', user: 'gil', body: { name: 'gadget' } });
    const id = mine.json.id;
    for (const [method, path, body] of [
      ['GET', '/widgets', undefined],
      ['POST', '/widgets', { name: 'planted' }],
      ['GET', `/widgets/${id}`, undefined],
      ['PATCH', `/widgets/${id}`, { name: 'defaced' }],
      ['DELETE', `/widgets/${id}`, undefined],
    ] as const) {
      for (const where of [{ tenant: 'globex' }, { host: 'globex.example.com' }]) {
        const res = await call(method, path, { ...where, user: 'ann', body });
        expect(res.status, `${method} ${path} ${JSON.stringify(where)}: ${res.text}`).to.equal(403);
        expect(res.json.error).to.equal('Forbidden');
      }
    }
    expect((await call('DELETE', '/tenants/globex', { user: 'ann' })).status).to.equal(403);
    expect((await call('GET', '/widgets', { tenant: 'globex', user: 'gil' })).json.map((w: any) => w.name)).to.deep.equal(['gadget']);
    expect(await saas.apartment.exists('globex')).to.equal(true);
  });

  it('no or an unknown token is 401, before any tenant is looked at', async () => {
    for (const user of [undefined, 'not-a-token']) {
      for (const [method, path, tenant] of [['GET', '/widgets', 'acme'], ['GET', '/widgets', 'nope'], ['GET', '/tenants', undefined], ['POST', '/tenants', undefined], ['DELETE', '/tenants/acme', undefined]] as const) {
        const res = await call(method, path, { tenant, user, body: method === 'POST' ? { key: 'x' } : undefined });
        expect(res.status, `${method} ${path} as ${user}`).to.equal(401);
      }
    }
    expect(await saas.apartment.exists('acme')).to.equal(true);
  });

  it('a signed-in user opens another tenant and works in both; GET /tenants lists only her own', async () => {
    const res = await call('POST', '/tenants', { user: 'ann', body: { key: 'acme-labs' } });
    expect(res.status, res.text).to.equal(201);
    expect(res.json).to.deep.equal({ key: 'acme-labs', schema: 'demo_acme-labs', migrations: MIGRATIONS });
    expect((await call('POST', '/widgets', { tenant: 'acme-labs', user: 'ann', body: { name: 'prototype' } })).status).to.equal(201);
    expect((await call('GET', '/widgets', { tenant: 'acme-labs', user: 'gil' })).status).to.equal(403);
    const list = await call('GET', '/tenants', { user: 'ann' });
    expect(list.json.map((t: any) => [t.key, t.migrations.executed.length, t.migrations.pending.length])).to.deep.equal([
      ['acme', 2, 0],
      ['acme-labs', 2, 0],
    ]);
    expect((await call('GET', '/tenants', { user: 'gil' })).json.map((t: any) => t.key)).to.deep.equal(['globex']);
  });

  it('answers 404 for an unknown tenant and 400 for none (signed in)', async () => {
    const unknown = await call('GET', '/widgets', { tenant: 'umbrella', user: 'ann' });
    expect(unknown.status).to.equal(404);
    expect(unknown.json.error).to.equal('TenantNotFoundError');
    expect((await call('GET', '/widgets', { user: 'ann' })).status).to.equal(400);
  });

  it('a member drops a tenant: its widgets are gone and it answers 404', async () => {
    expect((await call('DELETE', '/tenants/globex', { user: 'gil' })).status).to.equal(204);
    expect((await call('GET', '/widgets', { tenant: 'globex', user: 'gil' })).status).to.equal(404);
    expect((await call('GET', '/tenants', { user: 'gil' })).json).to.deep.equal([]);
    expect((await call('DELETE', '/tenants/globex', { user: 'gil' })).status).to.equal(404);
    if (schemaExists) expect(await schemaExists('demo_globex')).to.equal(false);
    expect((await call('GET', '/widgets', { tenant: 'acme', user: 'ann' })).json).to.have.length(1);
  });
}

describeDialects('example widget-saas over HTTP', (d: DialectHarness) => {
  tour(async () => {
    const sequelize = d.sequelize();
    const dropShared = async () => {
      for (const table of SHARED_TABLES) await sequelize.query(`DROP TABLE IF EXISTS ${d.q(table)}`);
    };
    await d.dropAll('demo_');
    await dropShared();
    return {
      sequelize,
      schemaExists: (name) => d.schemaExists(name),
      cleanup: async () => {
        await d.dropAll('demo_');
        await dropShared();
      },
    };
  });
});

describe('example widget-saas over HTTP [embedded PGlite]', () => {
  let database: Database;
  tour(async () => {
    database = await openDatabase();
    return { sequelize: database.sequelize, cleanup: () => database.close() };
  });
});
