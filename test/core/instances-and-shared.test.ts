import { expect } from 'chai';
import { CrossTenantError, type Apartment } from 'sequelize-apartment';
import { describeRouting } from '../support/dialects';
import { tenantWorld, type Models } from '../support/models';

describeRouting('instances remember their tenant; shared models', (d) => {
  const A = 'core-ia';
  const B = 'core-ib';
  let apartment: Apartment;
  let m: Models;

  before(async () => {
    await d.dropAll('tenant_core-i');
    ({ apartment, models: m } = await tenantWorld(d.sequelize(), [A, B], d.apartmentOptions));
  });
  after(() => d.dropAll('tenant_core-i'));

  it('an instance loaded in A saves, updates, reloads and destroys in A outside any context', async () => {
    await apartment.run(B, () => m.Widget.create({ name: 'same-name', owner: B }));
    const w = await apartment.run(A, () => m.Widget.create({ name: 'same-name', owner: A }));
    expect(apartment.tenantOf(w)).to.equal(A);
    w.stock = 42;
    await w.save();
    await w.update({ name: 'renamed' });
    await w.reload();
    expect(w.stock).to.equal(42);
    const inB = await m.Widget.findAll({ tenant: B });
    expect(inB.map((x: any) => [x.name, x.stock])).to.deep.equal([['same-name', 0]]);
    await w.destroy({ force: true });
    expect(await m.Widget.count({ tenant: A, where: { name: 'renamed' }, paranoid: false })).to.equal(0);
    expect(await m.Widget.count({ tenant: B })).to.equal(1);
  });

  it('association accessors of a bound instance read and write its tenant', async () => {
    const w = await apartment.run(A, () => m.Widget.create({ name: 'assoc', owner: A }));
    const t = await apartment.run(A, () => m.Tag.create({ label: 'a-tag', owner: A }));
    await w.addTag(t);
    const tags = await w.getTags();
    expect(tags.map((x: any) => x.owner)).to.deep.equal([A]);
    expect(apartment.tenantOf(tags[0])).to.equal(A);
    const [found] = await m.Widget.findAll({ tenant: A, where: { name: 'assoc' }, include: [m.Tag] });
    expect(apartment.tenantOf(found.Tags[0])).to.equal(A); // included instances are bound too
    await found.Tags[0].update({ label: 'renamed-tag' });
    expect(await m.Tag.count({ tenant: A, where: { label: 'renamed-tag' } })).to.equal(1);
  });

  it('using an A instance inside B throws CrossTenantError and sends nothing', async () => {
    const w = await apartment.run(A, () => m.Widget.create({ name: 'cross', owner: A }));
    const tagB = await apartment.run(B, () => m.Tag.create({ label: 'b-tag', owner: B }));
    const sequelize = (apartment as any).sequelize;
    const before = await m.Widget.count({ tenant: A, where: { name: 'cross' } });
    let sent = 0;
    const log = (sql: string) => (sent += sql ? 1 : 0);
    await expectCross(apartment.run(B, () => w.save({ logging: log })), A, B);
    await expectCross(apartment.run(B, () => w.getTags({ logging: log })), A, B);
    await expectCross(w.update({ name: 'x' }, { tenant: B, logging: log }), A, B);
    await expectCross(w.addTag(tagB, { logging: log }), A, B); // mixing instances of two tenants
    expect(sent).to.equal(0);
    expect(before).to.equal(1);
    expect(sequelize).to.exist;
  });

  it('a new instance binds to the tenant it is first saved in', async () => {
    const w = m.Widget.build({ name: 'built-outside', owner: B });
    expect(apartment.tenantOf(w)).to.equal(undefined);
    await w.save({ tenant: B });
    expect(apartment.tenantOf(w)).to.equal(B);
    await w.update({ stock: 3 });
    expect((await m.Widget.findOne({ tenant: B, where: { name: 'built-outside' } })).stock).to.equal(3);
  });

  it('shared models use the default schema inside a tenant and include both ways', async () => {
    const account = await apartment.run(A, () => m.Account.create({ name: `acct-${d.name}` }));
    expect(apartment.tenantOf(account)).to.equal(undefined);
    expect(await d.tables(d.defaultSchema)).to.include('core_accounts');
    expect(await d.tables(`tenant_${A}`)).to.not.include('core_accounts');
    await apartment.run(A, () => m.Widget.create({ name: 'owned', owner: A, AccountId: account.id }));
    await apartment.run(B, () => m.Widget.create({ name: 'owned', owner: B, AccountId: account.id }));
    for (const key of [A, B]) {
      const ws = await apartment.run(key, () => m.Widget.findAll({ where: { name: 'owned' }, include: [m.Account] }));
      expect(ws.map((w: any) => [w.owner, w.Account.name])).to.deep.equal([[key, `acct-${d.name}`]]);
      const accounts = await apartment.run(key, () => m.Account.findAll({ where: { id: account.id }, include: [{ model: m.Widget, where: { name: 'owned' } }] }));
      expect(accounts[0].Widgets.map((w: any) => w.owner)).to.deep.equal([key]);
      const viaShared = await apartment.run(key, () => account.getWidgets({ where: { name: 'owned' } }));
      expect(viaShared.map((w: any) => w.owner)).to.deep.equal([key]);
    }
    // Shared models need no tenant, even in strict mode.
    expect(await m.Account.count({ where: { id: account.id } })).to.equal(1);
  });
});

async function expectCross(promise: Promise<unknown>, owner: string, other: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(CrossTenantError);
    expect((error as CrossTenantError).name).to.equal('CrossTenantError');
    expect((error as CrossTenantError).message).to.include(`'${owner}'`).and.include(`'${other}'`);
    return;
  }
  expect.fail('expected CrossTenantError');
}
