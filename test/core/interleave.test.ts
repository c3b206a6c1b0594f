import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { Apartment } from 'sequelize-apartment';
import { describeRouting } from '../support/dialects';
import { tenantWorld, type Models } from '../support/models';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeRouting('two tenants interleaved under Promise.all', (d) => {
  const KEYS = ['core-xa', 'core-xb'];
  let apartment: Apartment;
  let m: Models;
  let sequelize: any;

  before(async () => {
    await d.dropAll('tenant_core-x');
    // A small pool makes the two tenants share connections constantly.
    sequelize = d.sequelize({ pool: { max: 3 } });
    ({ apartment, models: m } = await tenantWorld(sequelize, KEYS, d.apartmentOptions));
    // Identical tables and identical data in both tenants (same ids, same names).
    for (const key of KEYS) {
      await apartment.run(key, async () => {
        const tag = await m.Tag.create({ label: 'shared-label', owner: key });
        for (let i = 0; i < 5; i += 1) {
          const w = await m.Widget.create({ name: `w${i}`, owner: key });
          await w.addTag(tag);
        }
      });
    }
  });
  after(() => d.dropAll('tenant_core-x'));

  it('hundreds of mixed operations with random delays: every read sees only its own tenant', async () => {
    let reads = 0;
    const operations = Array.from({ length: 300 }, (_, i) => {
      const key = KEYS[Math.floor(i / 6) % 2];
      return apartment.run(key, async () => {
        await sleep(Math.random() * 4);
        switch (i % 6) {
          case 0: {
            const ws = await m.Widget.findAll({ include: [m.Tag] });
            for (const w of ws) {
              expect(w.owner).to.equal(key);
              for (const t of w.Tags) expect(t.owner).to.equal(key);
            }
            reads += 1;
            break;
          }
          case 1: {
            const rows = await sequelize.query('SELECT owner FROM widgets WHERE name LIKE ?', { replacements: ['w%'], type: QueryTypes.SELECT });
            expect(rows.map((r: any) => r.owner)).to.satisfy((os: string[]) => os.length > 0 && os.every((o) => o === key));
            reads += 1;
            break;
          }
          case 2: {
            const w = await m.Widget.create({ name: `new-${i}`, owner: key });
            await sleep(Math.random() * 3);
            w.stock = i;
            await w.save();
            break;
          }
          case 3: {
            const rows = await sequelize.query('SELECT owner FROM widgets WHERE id > $1', { bind: [0], type: QueryTypes.SELECT });
            expect(rows.every((r: any) => r.owner === key)).to.equal(true);
            reads += 1;
            break;
          }
          case 4: {
            await sequelize.transaction(async (transaction: any) => {
              const w = await m.Widget.findOne({ where: { name: 'w1' }, transaction });
              expect(w.owner).to.equal(key);
              await w.increment('stock', { transaction });
              const [row] = await sequelize.query('SELECT owner FROM tags LIMIT 1', { type: QueryTypes.SELECT, transaction });
              expect((row as any).owner).to.equal(key);
            });
            reads += 2;
            break;
          }
          default: {
            const tag = await m.Tag.findOne({ where: { label: 'shared-label' } });
            const widgets = await tag.getWidgets();
            expect(widgets.every((w: any) => w.owner === key)).to.equal(true);
            reads += 1;
          }
        }
      });
    });
    await Promise.all(operations);
    expect(reads).to.be.greaterThan(200);
    for (const key of KEYS) {
      const rows = await m.Widget.findAll({ tenant: key });
      expect(rows.every((w: any) => w.owner === key)).to.equal(true);
      expect(rows.filter((w: any) => w.name.startsWith('new-'))).to.have.length(25);
      expect((rows.find((w: any) => w.name === 'w1') as any).stock).to.equal(25);
    }
    const pool = sequelize.connectionManager.pool;
    expect(pool.using, 'no connection leaked').to.equal(0);
  });
});
