import { expect } from 'chai';
import { Op } from 'sequelize';
import type { Apartment } from 'sequelize-apartment';
import { describeRouting } from '../support/dialects';
import { tenantWorld, type Models } from '../support/models';

describeRouting('model operations inside apartment.run', (d) => {
  const A = 'core-a';
  const B = 'core-b';
  let apartment: Apartment;
  let m: Models;
  const sequelize = () => (apartment as any).sequelize;

  before(async () => {
    await d.dropAll('tenant_core');
    ({ apartment, models: m } = await tenantWorld(d.sequelize(), [A, B], d.apartmentOptions));
  });
  after(() => d.dropAll('tenant_core'));

  beforeEach(async () => {
    for (const key of [A, B]) {
      await apartment.run(key, async () => {
        await m.WidgetTag.destroy({ where: {}, force: true });
        await m.Part.destroy({ where: {} });
        await m.Tag.destroy({ where: {} });
        await m.Widget.destroy({ where: {}, force: true });
      });
    }
  });

  /** Same data in both tenants, each row tagged with its tenant. */
  async function seed(key: string) {
    return apartment.run(key, async () => {
      const w = await m.Widget.create({ name: 'gear', owner: key, stock: 5 });
      const w2 = await m.Widget.create({ name: 'cog', owner: key, stock: 1 });
      const t = await m.Tag.create({ label: 'blue', owner: key });
      await w.addTag(t);
      await m.Part.create({ name: 'tooth', owner: key, WidgetId: w.id });
      return { w, w2, t };
    });
  }

  async function rowsIn(key: string, table: string): Promise<any[]> {
    const [rows] = await sequelize().query(`SELECT * FROM ${d.q(`tenant_${key}`)}.${d.q(table)}`, { tenant: undefined });
    return rows as any[];
  }

  it('reads: findAll, findOne, findByPk, count, max/min/sum, findAndCountAll', async () => {
    await seed(A);
    await seed(B);
    await apartment.run(B, () => m.Widget.create({ name: 'extra', owner: B, stock: 100 }));
    for (const key of [A, B]) {
      await apartment.run(key, async () => {
        const all = await m.Widget.findAll();
        expect(all.map((w: any) => w.owner)).to.satisfy((ts: string[]) => ts.every((t) => t === key));
        expect(all).to.have.length(key === A ? 2 : 3);
        const one = await m.Widget.findOne({ where: { name: 'gear' } });
        expect(one.owner).to.equal(key);
        expect((await m.Widget.findByPk(one.id)).owner).to.equal(key);
        expect(await m.Widget.count()).to.equal(key === A ? 2 : 3);
        expect(await m.Widget.max('stock')).to.equal(key === A ? 5 : 100);
        expect(await m.Widget.min('stock')).to.equal(1);
        expect(Number(await m.Widget.sum('stock'))).to.equal(key === A ? 6 : 106);
        const { count, rows } = await m.Widget.findAndCountAll({ where: { stock: { [Op.gt]: 0 } } });
        expect(count).to.equal(rows.length);
      });
    }
  });

  it('writes: create, bulkCreate, upsert, update, increment, decrement, destroy, restore (static)', async () => {
    await apartment.run(A, async () => {
      await m.Widget.bulkCreate([{ name: 'a1', owner: A }, { name: 'a2', owner: A }]);
      const w = await m.Widget.create({ name: 'a3', owner: A });
      await m.Widget.upsert({ id: w.id, name: 'a3-upserted', owner: A });
      await m.Widget.update({ stock: 7 }, { where: { name: 'a1' } });
      await m.Widget.increment('stock', { by: 3, where: { name: 'a1' } });
      await m.Widget.decrement('stock', { by: 1, where: { name: 'a1' } });
      await m.Widget.destroy({ where: { name: 'a2' } });
      await m.Widget.restore({ where: { name: 'a2' } });
      await m.Widget.destroy({ where: { name: 'a2' } });
    });
    const rows = await rowsIn(A, 'widgets');
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(Object.keys(byName).sort()).to.deep.equal(['a1', 'a2', 'a3-upserted']);
    expect(byName.a1.stock).to.equal(9);
    expect(byName.a2.deletedAt).to.not.equal(null);
    expect(await rowsIn(B, 'widgets')).to.have.length(0);
  });

  it('instances: save, update, increment, decrement, reload, destroy, restore', async () => {
    const { w } = await seed(A);
    await seed(B);
    await apartment.run(A, async () => {
      w.stock = 10;
      await w.save();
      await w.update({ name: 'gear2' });
      await w.increment('stock', { by: 2 });
      await w.decrement('stock');
      await w.reload();
      expect(w.stock).to.equal(11);
      await w.destroy();
      await w.restore();
    });
    const a = (await rowsIn(A, 'widgets')).find((r) => r.id === w.id);
    expect(a).to.include({ name: 'gear2', stock: 11, deletedAt: null });
    const b = await rowsIn(B, 'widgets');
    expect(b.map((r) => r.name).sort()).to.deep.equal(['cog', 'gear']);
  });

  it('includes: belongsToMany through-table, nested, required, separate', async () => {
    await seed(A);
    await seed(B);
    await apartment.run(B, () => m.Tag.create({ label: 'orphan-tag', owner: B }));
    for (const key of [A, B]) {
      await apartment.run(key, async () => {
        const nested = await m.Widget.findAll({
          include: [{ model: m.Tag, include: [{ model: m.Widget }] }, { model: m.Part, separate: true }],
          order: [['id', 'ASC']],
        });
        expect(nested).to.have.length(2);
        const gear = nested.find((w: any) => w.name === 'gear');
        expect(gear.Tags.map((t: any) => [t.label, t.owner])).to.deep.equal([['blue', key]]);
        expect(gear.Tags[0].Widgets.map((w: any) => w.owner)).to.deep.equal([key]);
        expect(gear.Tags[0].WidgetTag).to.exist;
        expect(gear.Parts.map((p: any) => p.owner)).to.deep.equal([key]);
        const required = await m.Widget.findAll({ include: [{ model: m.Tag, required: true }] });
        expect(required.map((w: any) => w.name)).to.deep.equal(['gear']);
        const tags = await m.Tag.findAll({ include: [{ model: m.Widget, required: false }], order: [['id', 'ASC']] });
        expect(tags.every((t: any) => t.owner === key)).to.equal(true);
      });
    }
  });

  it('association getters, setters and adders run in the tenant', async () => {
    const { w, w2 } = await seed(A);
    await seed(B);
    await apartment.run(A, async () => {
      const t2 = await m.Tag.create({ label: 'red', owner: A });
      await w2.addTag(t2);
      await w2.setTags([t2]);
      expect((await w2.getTags()).map((t: any) => t.label)).to.deep.equal(['red']);
      expect(await w.countTags()).to.equal(1);
      expect(await w.hasTag(t2)).to.equal(false);
      await w.createPart({ name: 'spring', owner: A });
      expect((await w.getParts()).map((p: any) => p.name).sort()).to.deep.equal(['spring', 'tooth']);
      await w2.removeTag(t2);
      expect(await w2.countTags()).to.equal(0);
    });
    expect((await rowsIn(A, 'parts')).map((p) => p.name).sort()).to.deep.equal(['spring', 'tooth']);
    expect((await rowsIn(B, 'parts')).map((p) => p.name)).to.deep.equal(['tooth']);
    expect(await rowsIn(B, 'widget_tags')).to.have.length(1);
  });

  it('the explicit { tenant } option routes without a context and wins over the context', async () => {
    await seed(A);
    await seed(B);
    const b = await m.Widget.findAll({ tenant: B });
    expect(b.map((w: any) => w.owner)).to.deep.equal([B, B]);
    const fromA = await apartment.run(A, () => m.Widget.findAll({ tenant: B, include: [m.Tag] }));
    expect(fromA.map((w: any) => w.owner)).to.deep.equal([B, B]);
    expect(fromA.flatMap((w: any) => w.Tags.map((t: any) => t.owner))).to.deep.equal([B]);
    await m.Widget.create({ name: 'explicit', owner: B }, { tenant: { id: B } });
    expect(await m.Widget.count({ tenant: B })).to.equal(3);
    expect(await m.Widget.count({ tenant: A })).to.equal(2);
  });

  it('Model.schema() is not the mechanism: includes and through-tables follow the tenant', async () => {
    await seed(A);
    const logged: string[] = [];
    await apartment.run(A, () => m.Widget.findAll({ include: [m.Tag], logging: (sql: string) => logged.push(sql) }));
    const sql = logged.join('\n');
    expect(sql).to.include(`${d.q('tenant_core-a')}.${d.q('widgets')}`);
    expect(sql).to.include(`${d.q('tenant_core-a')}.${d.q('tags')}`);
    expect(sql).to.include(`${d.q('tenant_core-a')}.${d.q('widget_tags')}`);
    if (d.name !== 'postgres') expect(sql).to.not.include('`tenant_core-a.');
  });
});
