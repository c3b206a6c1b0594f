import { expect } from 'chai';
import * as sinon from 'sinon';
import { QueryTypes } from 'sequelize';
import { Apartment, NoTenantError, TenantNotFoundError } from 'sequelize-apartment';
import { describeRouting } from '../support/dialects';
import { defineModels, tenantWorld, type Models } from '../support/models';

interface Spy {
  readonly statements: string[];
  /** Statements the server ran: PostgreSQL's CommandComplete messages (one per statement of a message), else one per driver call. */
  ran: number;
}
/** The spy of the running test: a connection is wrapped once, by whichever spy meets it first, and reports here. */
let current: Spy | undefined;

/** Spies on the driver: every statement that reaches the server goes through here. */
function driverSpy(sequelize: any): Spy & { restore(): void } {
  const spy: Spy = { statements: [], ran: 0 };
  current = spy;
  const manager = sequelize.connectionManager;
  const getConnection = manager.getConnection.bind(manager);
  const postgres = sequelize.getDialect() === 'postgres';
  const stub = sinon.stub(manager, 'getConnection').callsFake(async (...args: unknown[]) => {
    const connection = await getConnection(...args);
    if (!connection.__spied) {
      connection.__spied = true;
      if (postgres) connection.connection.on('commandComplete', () => current && current.ran++);
      const query = connection.query;
      connection.query = function (this: unknown, text: any, ...rest: unknown[]) {
        current?.statements.push(typeof text === 'string' ? text : text?.sql ?? text?.text);
        if (!postgres && current) current.ran++;
        return query.call(this, text, ...rest);
      };
    }
    return connection;
  });
  return Object.assign(spy, {
    restore: () => {
      stub.restore();
      current = undefined;
    },
  });
}

describeRouting('strict mode, raw SQL and transactions', (d) => {
  const A = 'core-sa';
  const B = 'core-sb';
  let apartment: Apartment;
  let m: Models;
  let sequelize: any;

  before(async () => {
    await d.dropAll('tenant_core-s');
    sequelize = d.sequelize();
    ({ apartment, models: m } = await tenantWorld(sequelize, [A, B], d.apartmentOptions));
    for (const key of [A, B]) await apartment.run(key, () => m.Widget.create({ name: `only-in-${key}`, owner: key }));
  });
  after(() => d.dropAll('tenant_core-s'));

  it('strict: a tenant model with no tenant throws NoTenantError and sends no SQL', async () => {
    await sequelize.query('SELECT 1'); // the pool has a connection: nothing left to open
    const spy = driverSpy(sequelize);
    try {
      for (const call of [
        () => m.Widget.findAll(),
        () => m.Widget.create({ name: 'x' }),
        () => m.Widget.update({ stock: 1 }, { where: {} }),
        () => m.Widget.destroy({ where: {} }),
        () => m.Widget.count(),
        () => m.Widget.build({ name: 'unbound' }).save(),
        // Reached through a shared model's include: refused before it is sent.
        () => m.Account.findAll({ include: [m.Widget] }),
      ]) {
        const error = await call().then(() => undefined, (e: unknown) => e);
        expect(error, String(call)).to.be.instanceOf(NoTenantError);
        expect((error as Error).message).to.include('apartment.run');
      }
      expect(spy.statements).to.deep.equal([]);
    } finally {
      spy.restore();
    }
  });

  it('strict: false falls back to the default schema/database', async () => {
    const loose = d.sequelize();
    const models = defineModels(loose);
    const looseApartment = new Apartment(loose, { strict: false, sharedModels: ['Account'], ...d.apartmentOptions });
    const logged: string[] = [];
    await models.Widget.findAll({ logging: (sql: string) => logged.push(sql) }).catch(() => undefined);
    expect(logged.join()).to.include(`${d.q(d.defaultSchema)}.${d.q('widgets')}`);
    expect(looseApartment.strict).to.equal(false);
  });

  it('raw SQL in a context resolves unqualified names in the tenant (replacements and bind)', async () => {
    for (const key of [A, B]) {
      const rows = await apartment.run(key, () => sequelize.query('SELECT name FROM widgets', { type: QueryTypes.SELECT }));
      expect(rows.map((r: any) => r.name)).to.include(`only-in-${key}`).and.not.include(`only-in-${key === A ? B : A}`);
      const replaced = await apartment.run(key, () =>
        sequelize.query('SELECT owner FROM widgets WHERE name = :name', { replacements: { name: `only-in-${key}` }, type: QueryTypes.SELECT }),
      );
      expect(replaced).to.deep.equal([{ owner: key }]);
      const bound = await apartment.run(key, () =>
        sequelize.query('SELECT owner FROM widgets WHERE name = $1', { bind: [`only-in-${key}`], type: QueryTypes.SELECT }),
      );
      expect(bound).to.deep.equal([{ owner: key }]);
      const explicit = await sequelize.query('SELECT owner FROM widgets WHERE name = $1', { bind: [`only-in-${key}`], type: QueryTypes.SELECT, tenant: key });
      expect(explicit).to.deep.equal([{ owner: key }]);
    }
  });

  it('no connection carries a tenant into a later query without one', async () => {
    // One connection: whatever a tenant query set would be visible to the next query.
    const single = d.sequelize({ pool: { max: 1, min: 1 } });
    const world = await tenantWorld(single, [], d.apartmentOptions);
    await world.apartment.run(A, () => single.query('SELECT count(*) FROM widgets'));
    await world.apartment.run(A, () => single.query('SELECT count(*) FROM widgets WHERE id > $1', { bind: [0] }));
    const probe =
      d.name === 'postgres'
        ? "SELECT current_setting('search_path') AS v"
        : 'SELECT DATABASE() AS v';
    const [row] = await single.query(probe, { type: QueryTypes.SELECT });
    expect((row as any).v).to.not.include(A);
    const error = await single.query('SELECT * FROM widgets').then(() => undefined, (e: unknown) => e);
    expect(error, 'widgets must not resolve outside a tenant').to.be.instanceOf(Error);
  });

  it('managed transactions: rollback undoes only that tenant\'s writes', async () => {
    await apartment.run(B, () => m.Widget.create({ name: 'b-kept', owner: B }));
    const failure = await sequelize
      .transaction(async (transaction: any) =>
        apartment.run(A, async () => {
          await m.Widget.create({ name: 'a-rolled-back', owner: A }, { transaction });
          await sequelize.query("UPDATE widgets SET stock = 99 WHERE name = 'only-in-core-sa'", { transaction });
          throw new Error('boom');
        }),
      )
      .catch((e: Error) => e);
    expect(failure.message).to.equal('boom');
    expect(await m.Widget.count({ tenant: A, where: { name: 'a-rolled-back' } })).to.equal(0);
    expect((await m.Widget.findOne({ tenant: A, where: { name: `only-in-${A}` } })).stock).to.equal(0);
    expect(await m.Widget.count({ tenant: B, where: { name: 'b-kept' } })).to.equal(1);
  });

  it('explicit transactions inside a context commit to the tenant; raw SQL in them is routed', async () => {
    await apartment.run(A, async () => {
      const transaction = await sequelize.transaction();
      await m.Widget.create({ name: 'a-committed', owner: A }, { transaction });
      const [row] = await sequelize.query('SELECT count(*) AS n FROM widgets WHERE name = ?', {
        replacements: ['a-committed'],
        type: QueryTypes.SELECT,
        transaction,
      });
      expect(Number((row as any).n)).to.equal(1);
      await transaction.commit();
    });
    expect(await m.Widget.count({ tenant: A, where: { name: 'a-committed' } })).to.equal(1);
    expect(await m.Widget.count({ tenant: B, where: { name: 'a-committed' } })).to.equal(0);
  });

  it('one transaction used by two tenants in turn routes each raw statement', async () => {
    const transaction = await sequelize.transaction();
    try {
      const a = await apartment.run(A, () => sequelize.query('SELECT owner FROM widgets LIMIT 1', { type: QueryTypes.SELECT, transaction }));
      const b = await apartment.run(B, () => sequelize.query('SELECT owner FROM widgets LIMIT 1', { type: QueryTypes.SELECT, transaction }));
      const bBound = await apartment.run(B, () => sequelize.query('SELECT owner FROM widgets WHERE id > $1 LIMIT 1', { bind: [0], type: QueryTypes.SELECT, transaction }));
      const none = await sequelize.query('SELECT count(*) AS n FROM widgets', { transaction }).then(() => 'resolved', () => 'failed');
      expect([a, b, bBound]).to.deep.equal([[{ owner: A }], [{ owner: B }], [{ owner: B }]]);
      expect(none).to.equal('failed');
    } finally {
      await transaction.rollback();
    }
  });

  it('a raw query in a tenant costs at most one extra statement on the server', async () => {
    const spy = driverSpy(sequelize);
    try {
      await apartment.run(A, () => sequelize.query('SELECT 1 AS one', { type: QueryTypes.SELECT }));
      spy.ran = 0;
      const rows = await apartment.run(A, () => sequelize.query('SELECT name FROM widgets', { type: QueryTypes.SELECT }));
      expect(rows).to.deep.include({ name: `only-in-${A}` });
    } finally {
      spy.restore();
    }
    expect(spy.ran).to.be.within(1, 2);
  });

  it('a raw query in a tenant that does not exist fails instead of reading elsewhere', async () => {
    const error = await apartment.run('core-s-missing', () => sequelize.query('SELECT * FROM widgets')).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(TenantNotFoundError); // more in missing-tenant.test.ts
  });
});
