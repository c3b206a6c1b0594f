import { expect } from 'chai';
import type { Sequelize } from 'sequelize';
import { createApp, type WidgetSaas } from '../../examples/widget-saas/src/app';
import { openDatabase, type Database } from '../../examples/widget-saas/src/database';
import { describeDialects, type DialectHarness } from '../support/dialects';
import { listen, request } from '../http/helpers';

/** The user's tour of the example, over HTTP: the same on every database. */
function tour(setup: () => Promise<{ sequelize: Sequelize; schemaExists?: (name: string) => Promise<boolean>; cleanup?: () => Promise<void> }>) {
  let saas: WidgetSaas;
  let server: Awaited<ReturnType<typeof listen>>;
  let cleanup: (() => Promise<void>) | undefined;
  let schemaExists: ((name: string) => Promise<boolean>) | undefined;
  const call = (method: string, path: string, tenant?: string, body?: unknown) =>
    request(server.url + path, { method, body, headers: tenant ? { 'x-tenant': tenant } : {} });

  before(async function () {
    this.timeout(120_000);
    const env = await setup();
    cleanup = env.cleanup;
    schemaExists = env.schemaExists;
    saas = await createApp({ sequelize: env.sequelize, prefix: 'demo_', accountsTable: 'demo_accounts' });
    server = await listen(saas.app);
  });
  after(async () => {
    await server?.close();
    await cleanup?.();
  });

  it('creates two tenants, migrated, and lists them with their migration status', async () => {
    for (const key of ['acme', 'globex']) {
      const res = await call('POST', '/tenants', undefined, { key });
      expect(res.status, res.text).to.equal(201);
      expect(res.json).to.deep.equal({ key, schema: `demo_${key}`, migrations: ['20250101000001-create-widgets.js', '20250101000002-create-tags.js'] });
    }
    expect((await call('POST', '/tenants', undefined, { key: 'acme' })).status).to.equal(409);
    expect((await call('POST', '/tenants', undefined, { key: 'Bad Key' })).status).to.equal(400);
    const list = await call('GET', '/tenants');
    expect(list.json.map((t: any) => [t.key, t.migrations.executed.length, t.migrations.pending.length])).to.deep.equal([
      ['acme', 2, 0],
      ['globex', 2, 0],
    ]);
    if (schemaExists) expect(await schemaExists('demo_globex')).to.equal(true);
  });

  it('keeps widgets isolated per tenant (header and subdomain), with tags through the tenant join table', async () => {
    const a = await call('POST', '/widgets', 'acme', { name: 'sprocket', quantity: 3, tags: ['blue', 'metal'] });
    expect(a.status, a.text).to.equal(201);
    expect(a.json).to.include({ name: 'sprocket', quantity: 3 });
    expect(a.json.tags).to.deep.equal(['blue', 'metal']);
    const g = await call('POST', '/widgets', 'globex', { name: 'gizmo', tags: ['blue'] });
    expect(g.status, g.text).to.equal(201);

    expect((await call('GET', '/widgets', 'acme')).json.map((w: any) => w.name)).to.deep.equal(['sprocket']);
    expect((await call('GET', '/widgets', 'globex')).json.map((w: any) => [w.name, w.tags])).to.deep.equal([['gizmo', ['blue']]]);
    const bySubdomain = await request(`${server.url}/widgets`, { headers: { host: 'globex.example.com' } });
    expect(bySubdomain.json.map((w: any) => w.name)).to.deep.equal(['gizmo']);

    // acme's widget id is not reachable from globex, even when the ids collide.
    expect((await call('PATCH', `/widgets/${a.json.id}`, 'acme', { quantity: 5, tags: ['red'] })).json).to.deep.include({ quantity: 5, tags: ['red'] });
    const other = await call('GET', `/widgets/${a.json.id}`, 'globex');
    expect(other.json.name ?? null).to.not.equal('sprocket');
    expect((await call('DELETE', `/widgets/${g.json.id}`, 'globex')).status).to.equal(204);
    expect((await call('GET', '/widgets', 'globex')).json).to.deep.equal([]);
    expect((await call('GET', '/widgets', 'acme')).json.map((w: any) => [w.name, w.quantity, w.tags])).to.deep.equal([['sprocket', 5, ['red']]]);
    expect((await call('POST', '/widgets', 'acme', { name: '' })).status).to.equal(422);
  });

  it('answers 404 for an unknown tenant and 400 for none', async () => {
    const unknown = await call('GET', '/widgets', 'initech');
    expect(unknown.status).to.equal(404);
    expect(unknown.json.error).to.equal('TenantNotFoundError');
    expect((await call('GET', '/widgets')).status).to.equal(400);
  });

  it('drops a tenant: its widgets are gone and it answers 404', async () => {
    expect((await call('DELETE', '/tenants/globex')).status).to.equal(204);
    expect((await call('GET', '/widgets', 'globex')).status).to.equal(404);
    expect((await call('GET', '/tenants')).json.map((t: any) => t.key)).to.deep.equal(['acme']);
    expect((await call('DELETE', '/tenants/globex')).status).to.equal(404);
    if (schemaExists) expect(await schemaExists('demo_globex')).to.equal(false);
    expect((await call('GET', '/widgets', 'acme')).json).to.have.length(1);
  });
}

describeDialects('example widget-saas over HTTP', (d: DialectHarness) => {
  tour(async () => {
    await d.dropAll('demo_');
    const sequelize = d.sequelize();
    await sequelize.query(`DROP TABLE IF EXISTS ${d.q('demo_accounts')}`);
    return {
      sequelize,
      schemaExists: (name) => d.schemaExists(name),
      cleanup: async () => {
        await d.dropAll('demo_');
        await sequelize.query(`DROP TABLE IF EXISTS ${d.q('demo_accounts')}`);
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
