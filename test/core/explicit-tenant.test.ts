import { expect } from 'chai';
import { AsyncLocalStorage } from 'node:async_hooks';
import * as sinon from 'sinon';
import { QueryTypes } from 'sequelize';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { tenantWorld, type Models } from '../support/models';

/**
 * The explicit `{ tenant }` option outside any `apartment.run`: the tenant
 * travels in the options Sequelize passes down, never through
 * AsyncLocalStorage, whose first `run` switches on Node 20's async hooks for
 * every promise in the process. Where user code (hooks, custom validators)
 * runs inside the operation, the context is entered as before, so that code
 * still sees the tenant.
 */
describeDialects('explicit { tenant } without AsyncLocalStorage', (d) => {
  const A = 'expl-a';
  const B = 'expl-b';
  let apartment: Apartment;
  let m: Models;
  let sequelize: any;

  before(async () => {
    await d.dropAll('tenant_expl-');
    sequelize = d.sequelize({ pool: { max: 2 } });
    ({ apartment, models: m } = await tenantWorld(sequelize, [A, B]));
    for (const key of [A, B]) {
      await apartment.run(key, async () => {
        const widget = await m.Widget.create({ name: `w-${key}`, owner: key });
        const tag = await m.Tag.create({ label: `t-${key}`, owner: key });
        await widget.addTag(tag);
      });
    }
  });
  after(() => d.dropAll('tenant_expl-'));

  /** Spies on every way into AsyncLocalStorage while `fn` runs. */
  async function withoutAls(fn: () => Promise<void>): Promise<void> {
    const run = sinon.spy(AsyncLocalStorage.prototype, 'run');
    const enterWith = sinon.spy(AsyncLocalStorage.prototype, 'enterWith');
    try {
      await fn();
      expect(run.callCount, 'AsyncLocalStorage.run calls').to.equal(0);
      expect(enterWith.callCount, 'AsyncLocalStorage.enterWith calls').to.equal(0);
    } finally {
      run.restore();
      enterWith.restore();
    }
  }

  it('finders, includes, counts and raw SQL with { tenant } read their own tenant and enter no AsyncLocalStorage', async () => {
    await withoutAls(async () => {
      for (const key of [A, B, A]) {
        const widget = await m.Widget.findByPk(1, { tenant: key });
        expect(widget!.get('owner')).to.equal(key);
        const withTags = await m.Widget.findAll({ include: [{ model: m.Tag }], tenant: key });
        expect(withTags.map((w: any) => [w.owner, w.Tags.map((t: any) => t.owner)])).to.deep.equal([[key, [key]]]);
        expect(await m.Widget.count({ tenant: key })).to.equal(1);
        const { count, rows } = await m.Tag.findAndCountAll({ tenant: key });
        expect([count, rows.map((t: any) => t.owner)]).to.deep.equal([1, [key]]);
        expect(await m.Widget.max('id', { tenant: key })).to.equal(1);
        const raw = await sequelize.query('SELECT owner FROM widgets', { type: QueryTypes.SELECT, tenant: key });
        expect(raw).to.deep.equal([{ owner: key }]);
      }
      expect(apartment.current()).to.equal(undefined);
    });
  });

  it('a new pooled connection (PostgreSQL refreshes its type OIDs on each) enters no AsyncLocalStorage either', async () => {
    const fresh = d.sequelize({ pool: { max: 1 } });
    try {
      const other = new Apartment(fresh, { migrationsPath: false });
      const Widget = fresh.define('Widget', { name: (m.Widget as any).rawAttributes.name.type, owner: (m.Widget as any).rawAttributes.owner.type }, { tableName: 'widgets', paranoid: true });
      await withoutAls(async () => {
        // The first statement opens the pool's first connection.
        const widget = await Widget.findOne({ where: { owner: A }, tenant: A });
        expect(widget!.get('owner')).to.equal(A);
      });
      expect(other.current()).to.equal(undefined);
    } finally {
      await fresh.close();
    }
  });

  it('writes with { tenant } and later calls on the instances (bound to their tenant) land in that tenant and enter no AsyncLocalStorage', async () => {
    await withoutAls(async () => {
      const created = await m.Widget.create({ name: 'temp', owner: B }, { tenant: B });
      // No context and no option: the instance remembers B.
      await created.update({ stock: 7 });
      const loaded = await m.Widget.findByPk(created.get('id'), { tenant: B });
      expect(loaded!.get('stock')).to.equal(7);
      await loaded!.increment('stock');
      await loaded!.reload();
      expect(loaded!.get('stock')).to.equal(8);
      await m.Widget.update({ stock: 9 }, { where: { id: created.get('id') }, tenant: B });
      expect((await m.Widget.findByPk(created.get('id'), { tenant: B }))!.get('stock')).to.equal(9);
      await loaded!.destroy();
      expect(await m.Widget.count({ tenant: B })).to.equal(1);
      await m.Tag.bulkCreate([{ label: 'x', owner: A }], { tenant: A });
      expect(await m.Tag.destroy({ where: { label: 'x' }, tenant: A })).to.equal(1);
    });
    // Nothing leaked into the other tenant, read fully qualified with no routing.
    const schema = (key: string) => apartment.schemaFor(key);
    const q = (name: string) => sequelize.getQueryInterface().queryGenerator.quoteIdentifier(name);
    const [rows] = await sequelize.query(`SELECT owner FROM ${q(schema(A))}.${q('widgets')} UNION ALL SELECT owner FROM ${q(schema(A))}.${q('tags')}`);
    expect(rows.map((r: any) => r.owner)).to.deep.equal([A, A]);
  });

  it('a model with a hook still runs the operation in the tenant context, so the hook sees the tenant', async () => {
    const seen: Array<string | undefined> = [];
    m.Tag.addHook('beforeFind', 'explicit-test', () => {
      seen.push(apartment.current());
    });
    const run = sinon.spy(AsyncLocalStorage.prototype, 'run');
    try {
      const tags = await m.Tag.findAll({ tenant: A });
      expect(tags.map((t: any) => t.owner)).to.deep.equal([A]);
      expect(seen).to.deep.equal([A]);
      expect(run.callCount).to.be.greaterThan(0);
    } finally {
      run.restore();
      m.Tag.removeHook('beforeFind', 'explicit-test');
    }
  });

  it('inside a run, { tenant } for another tenant still wins over the context', async () => {
    const owners = await apartment.run(A, async () => {
      const widget = await m.Widget.findByPk(1, { tenant: B });
      await widget!.update({ stock: 3 }, { tenant: B });
      return [widget!.get('owner'), (await m.Widget.findByPk(1))!.get('owner')];
    });
    expect(owners).to.deep.equal([B, A]);
    expect((await m.Widget.findByPk(1, { tenant: B }))!.get('stock')).to.equal(3);
  });
});
