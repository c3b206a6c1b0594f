import { expect } from 'chai';
import * as sinon from 'sinon';
import type { Sequelize } from 'sequelize';
import { Apartment, ConfigurationError, TenantBusyError, TenantExistsError, TenantNameError, TenantNotFoundError } from 'sequelize-apartment';
import { existenceCache } from '../../lib/http/existence-cache';
import { describeDialects } from '../support/dialects';
import { tenantWorld, type Models } from '../support/models';

describeDialects('renameTenant', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let m: Models;
  const schema = (key: string) => `tenant_ren-${key}`;

  beforeEach(async () => {
    await d.dropAll('tenant_ren-');
    sequelize = d.sequelize({ pool: { max: 10 } });
    ({ apartment, models: m } = await tenantWorld(sequelize, ['ren-a', 'ren-other']));
    await apartment.run('ren-a', () => m.Widget.bulkCreate([{ name: 'gear', owner: 'ren-a' }, { name: 'cog', owner: 'ren-a' }]));
  });
  after(() => d.dropAll('tenant_ren-'));

  it('moves the tenant with all its tables and rows to the new key; the old one is gone', async () => {
    const tables = await d.tables(schema('a'));
    await apartment.renameTenant('ren-a', 'ren-b');
    expect(await apartment.tenants()).to.deep.equal(['ren-b', 'ren-other']);
    expect(await d.schemaExists(schema('a'))).to.equal(false);
    expect(await d.tables(schema('b'))).to.deep.equal(tables);
    const names = await apartment.run('ren-b', async () => (await m.Widget.findAll({ order: [['name', 'ASC']] })).map((w: any) => w.name));
    expect(names).to.deep.equal(['cog', 'gear']);
    const [raw] = await apartment.run('ren-b', () => sequelize.query('SELECT count(*) AS n FROM widgets'));
    expect(Number((raw as any)[0].n)).to.equal(2);
    expect(await apartment.exists('ren-a')).to.equal(false);
  });

  it('refuses a target that exists, a source that does not, the same key and invalid keys, changing nothing', async () => {
    const exists = await apartment.renameTenant('ren-a', 'ren-other').catch((e: unknown) => e);
    expect(exists).to.be.instanceOf(TenantExistsError);
    expect((exists as Error).message).to.include("'ren-other'").and.include('dropTenant');
    const missing = await apartment.renameTenant('ren-ghost', 'ren-c').catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(TenantNotFoundError);
    expect((missing as Error).message).to.include("'ren-ghost'");
    expect(await apartment.renameTenant('ren-a', 'ren-a').catch((e: unknown) => e)).to.be.instanceOf(ConfigurationError);
    const query = sinon.spy(sequelize, 'query');
    try {
      expect(await apartment.renameTenant('ren-a', 'Not Valid').catch((e: unknown) => e)).to.be.instanceOf(TenantNameError);
      expect(query.called).to.equal(false);
    } finally {
      query.restore();
    }
    expect(await apartment.tenants()).to.deep.equal(['ren-a', 'ren-other']);
    expect(await d.tables(schema('a'))).to.include('widgets');
    expect(await d.schemaExists(schema('c'))).to.equal(false);
  });

  it('refuses while another process holds the tenant migration lock, and works once it is released', async () => {
    const other = new Apartment(d.sequelize(), { migrationsPath: false });
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = other.adapter.withLock(schema('a'), () => {
      locked();
      return new Promise<void>((resolve) => (release = resolve));
    });
    await isLocked;
    try {
      const error = await apartment.renameTenant('ren-a', 'ren-b').catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TenantBusyError);
      expect((error as Error).message).to.include("renameTenant('ren-a', 'ren-b')");
      expect(await apartment.tenants()).to.deep.equal(['ren-a', 'ren-other']);
    } finally {
      release();
      await holding;
    }
    await apartment.renameTenant('ren-a', 'ren-b');
    expect(await apartment.tenants()).to.deep.equal(['ren-b', 'ren-other']);
  });

  it('another tenant in use meanwhile keeps working and sees only its own rows', async () => {
    let stop = false;
    let ops = 0;
    const worker = async (n: number) => {
      while (!stop) {
        await apartment.run('ren-other', async () => {
          await m.Widget.create({ name: `w${n}-${ops}`, owner: 'ren-other' });
          const owners = new Set((await m.Widget.findAll()).map((w: any) => w.owner));
          expect([...owners]).to.deep.equal(['ren-other']);
          const [raw] = await sequelize.query('SELECT DISTINCT owner FROM widgets');
          expect(raw).to.deep.equal([{ owner: 'ren-other' }]);
        });
        ops += 1;
      }
    };
    const workers = [0, 1, 2].map(worker);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await apartment.renameTenant('ren-a', 'ren-b');
    await apartment.renameTenant('ren-b', 'ren-c');
    stop = true;
    await Promise.all(workers);
    expect(ops).to.be.greaterThan(0);
    expect(await apartment.run('ren-other', () => m.Widget.count())).to.equal(ops);
    expect(await apartment.run('ren-c', () => m.Widget.count())).to.equal(2);
  });

  it("this process's existence cache follows the rename (the tenantRenamed event)", async () => {
    const cache = existenceCache(apartment);
    const ttl = 60_000;
    expect(await cache.exists(apartment.names.ref('ren-a'), ttl)).to.equal(true);
    expect(await cache.exists(apartment.names.ref('ren-b'), ttl)).to.equal(false);
    const events: string[] = [];
    apartment.on('tenantRenamed', (from, to) => void events.push(`${from.key}->${to.key}`));
    await apartment.renameTenant('ren-a', 'ren-b');
    expect(events).to.deep.equal(['ren-a->ren-b']);
    const lookup = sinon.spy(apartment.adapter, 'exists');
    try {
      expect(await cache.exists(apartment.names.ref('ren-a'), ttl)).to.equal(false);
      expect(await cache.exists(apartment.names.ref('ren-b'), ttl)).to.equal(true);
      expect(lookup.called).to.equal(false); // answered from the cache, which the event updated
    } finally {
      lookup.restore();
    }
  });
});
