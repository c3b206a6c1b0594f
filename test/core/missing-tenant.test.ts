import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { Apartment, TenantNotFoundError } from 'sequelize-apartment';
import { describeRouting } from '../support/dialects';
import { defineModels, tenantWorld, type Models } from '../support/models';

/** Resolves to the error a promise rejects with (or fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<any> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

function expectNotFound(error: any, key: string): void {
  expect(error, String(error?.stack ?? error)).to.be.instanceOf(TenantNotFoundError);
  expect(error.tenant).to.equal(key);
  expect(error.status).to.equal(404);
  expect(error.message).to.contain(`createTenant('${key}')`);
  expect(error.cause).to.exist; // the driver's error
}

describeRouting('a tenant that does not exist', (d) => {
  const LIVE = 'core-m-live';
  const GONE = 'core-m-gone';
  const NOPE = 'core-m-nope';
  const PROBE = 'core_missing_probe';
  let apartment: Apartment;
  let m: Models;
  let sequelize: any;

  before(async () => {
    await d.dropAll('tenant_core-m');
    sequelize = d.sequelize();
    ({ apartment, models: m } = await tenantWorld(sequelize, [LIVE], d.apartmentOptions));
    // A table of the same name in the default schema/database: a missing tenant must never read it.
    await sequelize.query(`DROP TABLE IF EXISTS ${d.q(PROBE)}`);
    await sequelize.query(`CREATE TABLE ${d.q(PROBE)} (owner VARCHAR(40))`);
    await sequelize.query(`INSERT INTO ${d.q(PROBE)} VALUES ('default-schema')`);
  });
  after(async () => {
    await sequelize.query(`DROP TABLE IF EXISTS ${d.q(PROBE)}`);
    await d.dropAll('tenant_core-m');
  });

  it('model queries in it throw TenantNotFoundError (context, { tenant } option, reads and writes)', async () => {
    for (const call of [
      () => apartment.run(NOPE, () => m.Widget.findAll()),
      () => apartment.run(NOPE, () => m.Widget.findByPk(1)),
      () => apartment.run(NOPE, () => m.Widget.count()),
      () => apartment.run(NOPE, () => m.Widget.create({ name: 'x' })),
      () => apartment.run(NOPE, () => m.Widget.update({ stock: 1 }, { where: {} })),
      () => apartment.run(NOPE, () => m.Widget.findAll({ include: [m.Tag] })),
      () => m.Widget.findAll({ tenant: NOPE }),
      () => m.Widget.destroy({ tenant: NOPE, where: {} }),
    ]) {
      expectNotFound(await failure(call()), NOPE);
    }
    expect(await d.schemaExists(`tenant_${NOPE}`)).to.equal(false);
  });

  it('raw SQL in it throws TenantNotFoundError and never reads the default schema (plain, replacements, bind)', async () => {
    for (const call of [
      () => apartment.run(NOPE, () => sequelize.query(`SELECT owner FROM ${PROBE}`, { type: QueryTypes.SELECT })),
      () => apartment.run(NOPE, () => sequelize.query(`SELECT owner FROM ${PROBE} WHERE owner <> ?`, { replacements: ['x'], type: QueryTypes.SELECT })),
      () => apartment.run(NOPE, () => sequelize.query(`SELECT owner FROM ${PROBE} WHERE owner <> $1`, { bind: ['x'], type: QueryTypes.SELECT })),
      () => sequelize.query(`SELECT owner FROM ${PROBE}`, { tenant: NOPE, type: QueryTypes.SELECT }),
      () => apartment.run(NOPE, () => sequelize.query('SELECT 1 AS one', { type: QueryTypes.SELECT })),
    ]) {
      expectNotFound(await failure(call()), NOPE);
    }
    // The same statements read the default schema when no tenant is set, and the pool's connections are still usable.
    expect(await sequelize.query(`SELECT owner FROM ${PROBE}`, { type: QueryTypes.SELECT })).to.deep.equal([{ owner: 'default-schema' }]);
    expect(await sequelize.query(`SELECT owner FROM ${PROBE} WHERE owner <> $1`, { bind: ['x'], type: QueryTypes.SELECT })).to.deep.equal([
      { owner: 'default-schema' },
    ]);
  });

  it('inside a transaction, model and raw queries throw TenantNotFoundError (also with a pool of one)', async () => {
    const single = d.sequelize({ pool: { max: 1 } });
    const models = defineModels(single);
    const solo = new Apartment(single, { sharedModels: ['Account'], migrationsPath: false, ...d.apartmentOptions });
    for (const work of [
      (t: any) => models.Widget.create({ name: 'x' }, { transaction: t }),
      (t: any) => models.Widget.findAll({ transaction: t }),
      (t: any) => single.query(`SELECT owner FROM ${PROBE}`, { transaction: t, type: QueryTypes.SELECT }),
      (t: any) => single.query(`SELECT owner FROM ${PROBE} WHERE owner <> $1`, { bind: ['x'], transaction: t, type: QueryTypes.SELECT }),
    ]) {
      expectNotFound(await failure(solo.run(NOPE, () => single.transaction((t) => work(t)))), NOPE);
    }
    expect(await single.query(`SELECT owner FROM ${PROBE}`, { type: QueryTypes.SELECT })).to.deep.equal([{ owner: 'default-schema' }]);
  });

  it('after a statement for a missing tenant, the next statement on the same connection runs where it belongs (pool of one)', async () => {
    const single = d.sequelize({ pool: { max: 1 } });
    const solo = new Apartment(single, { migrationsPath: false, ...d.apartmentOptions });
    try {
      // MySQL: the connection has the live tenant's database selected, then a USE of the missing one fails (the server keeps the selection).
      await solo.run(LIVE, () => single.query('SELECT 1 AS one', { type: QueryTypes.SELECT }));
      expectNotFound(await failure(solo.run(NOPE, () => single.query(`SELECT owner FROM ${PROBE}`, { type: QueryTypes.SELECT }))), NOPE);
      expect(await single.query(`SELECT owner FROM ${PROBE}`, { type: QueryTypes.SELECT })).to.deep.equal([{ owner: 'default-schema' }]);
    } finally {
      await single.close();
    }
  });

  it('a tenant dropped by another process fails safely: raw SQL does not fall through to the default schema', async () => {
    await apartment.createTenant(GONE);
    await apartment.run(GONE, () => sequelize.query(`CREATE TABLE ${PROBE} (owner VARCHAR(40))`));
    await apartment.run(GONE, () => sequelize.query(`INSERT INTO ${PROBE} VALUES ('${GONE}')`));
    const read = () => apartment.run(GONE, () => sequelize.query(`SELECT owner FROM ${PROBE}`, { type: QueryTypes.SELECT }));
    const readBound = () => apartment.run(GONE, () => sequelize.query(`SELECT owner FROM ${PROBE} WHERE owner <> $1`, { bind: ['x'], type: QueryTypes.SELECT }));
    expect(await read()).to.deep.equal([{ owner: GONE }]);
    expect(await readBound()).to.deep.equal([{ owner: GONE }]);

    // Another process: its own Sequelize instance and Apartment, which this one hears nothing from.
    const other = d.sequelize();
    await new Apartment(other, { migrationsPath: false }).dropTenant(GONE);

    expectNotFound(await failure(read()), GONE);
    expectNotFound(await failure(readBound()), GONE);
    expectNotFound(await failure(apartment.run(GONE, () => m.Widget.findAll())), GONE);
  });

  it('a missing table in a tenant that exists keeps the driver error', async () => {
    const error = await failure(apartment.run(LIVE, () => sequelize.query('SELECT * FROM core_no_such_table')));
    expect(error).not.to.be.instanceOf(TenantNotFoundError);
    expect(error.name).to.equal('SequelizeDatabaseError');
    const model = await failure(apartment.run(LIVE, () => sequelize.define('Ghost', {}, { tableName: 'core_no_such_table' }).findAll()));
    expect(model).not.to.be.instanceOf(TenantNotFoundError);
    expect(model.name).to.equal('SequelizeDatabaseError');
  });
});
