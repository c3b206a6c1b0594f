import { expect } from 'chai';
import { AsyncLocalStorage } from 'node:async_hooks';
import * as sinon from 'sinon';
import { QueryTypes } from 'sequelize';
import type { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { tenantWorld, type Models } from '../support/models';

/**
 * Model queries are qualified by Sequelize; whether they still go through the
 * adapter's per-statement routing is the adapter's answer
 * (`routesQualifiedQueries`), not a dialect check in the core.
 */
describeDialects('qualified model queries and the adapter', (d) => {
  const A = 'qual-a';
  const B = 'qual-b';
  let apartment: Apartment;
  let m: Models;
  let sequelize: any;

  before(async () => {
    await d.dropAll('tenant_qual-');
    // One connection: whatever a query selected is what the next one finds.
    sequelize = d.sequelize({ pool: { max: 1, min: 1 } });
    ({ apartment, models: m } = await tenantWorld(sequelize, [A, B]));
    await apartment.run(A, () => m.Widget.create({ name: `w-${A}`, owner: A }));
    await apartment.run(B, () => m.Widget.bulkCreate([{ name: `w-${B}`, owner: B }, { name: `w2-${B}`, owner: B }]));
  });
  after(() => d.dropAll('tenant_qual-'));

  it('the adapter says whether model queries are routed: PostgreSQL no, MySQL yes', () => {
    expect((apartment as any).adapter.routesQualifiedQueries).to.equal(d.name !== 'postgres');
  });

  it('a model query with an unqualified literal resolves it in its own tenant (MySQL), never in the last one selected', async () => {
    // Leave the connection in tenant B (MySQL: USE), then query tenant A with an unqualified literal.
    await apartment.run(B, () => sequelize.query('SELECT count(*) AS n FROM widgets', { type: QueryTypes.SELECT }));
    // PostgreSQL does not route model queries: a literal there resolves in the default schema.
    const literal = d.name === 'postgres' ? `(SELECT 1)` : '(SELECT count(*) FROM widgets)';
    const rows = await apartment.run(A, () => m.Widget.findAll({ attributes: ['name', [sequelize.literal(literal), 'n']] }));
    expect(rows.map((r: any) => r.name)).to.deep.equal([`w-${A}`]);
    expect(Number((rows[0] as any).get('n'))).to.equal(1);
  });

  it('model queries in a tenant enter no AsyncLocalStorage context of their own, and reach the server unprefixed where the adapter skips routing', async () => {
    const sent: string[] = [];
    const connection = await sequelize.connectionManager.getConnection({ type: 'SELECT' });
    sequelize.connectionManager.releaseConnection(connection);
    // The pg client sends every statement through query(): what reaches the server.
    const driver = d.name === 'postgres' ? sinon.spy(connection, 'query') : undefined;
    await apartment.run(A, async () => {
      const run = sinon.spy(AsyncLocalStorage.prototype, 'run');
      try {
        expect((await m.Widget.findByPk(1))!.get('name')).to.equal(`w-${A}`);
        const widget = await m.Widget.create({ name: 'temp', owner: A });
        await widget.update({ stock: 2 });
        await widget.destroy();
        expect(await m.Widget.count()).to.equal(1);
        expect(run.callCount, 'AsyncLocalStorage.run calls').to.equal(0);
      } finally {
        run.restore();
      }
    });
    if (driver) {
      for (const call of driver.getCalls()) sent.push(typeof call.args[0] === 'string' ? call.args[0] : call.args[0]?.text);
      driver.restore();
      expect(sent.length).to.be.greaterThan(4);
      expect(sent.filter((sql) => /SET LOCAL/.test(sql))).to.deep.equal([]);
    }
  });

  it('a findByPk inside run() reads AsyncLocalStorage at most 3 times: its static, the select after Sequelize\'s beforeFind await, the statement after the connection', async () => {
    const widget = await apartment.run(B, async () => {
      const getStore = sinon.spy(AsyncLocalStorage.prototype, 'getStore');
      try {
        const found = await m.Widget.findByPk(2);
        // Sequelize's findByPk -> findOne -> findAll, the table names it renders, the query wrapper and
        // building the instance read the tenant held, not AsyncLocalStorage (it was 13 reads).
        expect(getStore.callCount, 'AsyncLocalStorage reads').to.be.at.most(3);
        return found;
      } finally {
        getStore.restore();
      }
    });
    expect(widget!.get('owner')).to.equal(B);
    expect(apartment.tenantOf(widget!)).to.equal(B);
  });

  it("marking model DML as qualified never touches the caller's options: the same object then routes a raw query", async () => {
    const options: any = { raw: true };
    const rows = await apartment.run(B, async () => {
      await sequelize.getQueryInterface().select(m.Widget, m.Widget.getTableName(), options);
      return sequelize.query('SELECT owner FROM widgets', { ...options, type: QueryTypes.SELECT });
    });
    expect(Object.getOwnPropertySymbols(options)).to.deep.equal([]);
    expect(rows.map((r: any) => r.owner)).to.deep.equal([B, B]);
  });
});
