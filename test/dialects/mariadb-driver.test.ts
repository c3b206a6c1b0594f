import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';

/**
 * mariadb 3.1+ (the devDependency, 3.5; every mariadb suite runs on it, and
 * on 3.0.2 in .ci/run's oldest-peers run) defines `meta` on result arrays as
 * a property Sequelize 6 cannot delete: every raw query failed with
 * "Cannot delete property 'meta' of [object Array]" (sequelize#15701). The
 * adapter hands Sequelize the rows as mariadb 3.0 did.
 */
describeDialects(
  'the mariadb driver 3.1+',
  (d) => {
    let sequelize: Sequelize;
    let apartment: Apartment;

    before(async () => {
      await d.dropAll('mdrv_');
      sequelize = d.sequelize();
      apartment = new Apartment(sequelize, { prefix: 'mdrv_', migrationsPath: false });
      await apartment.createTenant('acme');
    });
    after(() => d.dropAll('mdrv_'));

    it('is the driver under test (3.1 or later), and without the fix a raw query on it fails (sequelize#15701)', async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const [major, minor] = (require('mariadb') as { version: string }).version.split('.').map(Number);
      expect(major > 3 || (major === 3 && minor >= 1), 'mariadb >= 3.1').to.equal(true);
      // The control: a plain Sequelize (no Apartment) on the same driver still has the upstream bug.
      const plain = d.sequelize();
      const error = await plain.query('SELECT 1 AS x').then(() => undefined, (e: unknown) => e);
      expect(String(error)).to.match(/Cannot delete property 'meta'/);
    });

    it('raw queries answer [rows, meta], in a tenant and outside one, with a transaction too', async () => {
      const [rows, meta] = await apartment.run('acme', () => sequelize.query('SELECT DATABASE() AS db, 1 AS x'));
      expect(rows).to.deep.equal([{ db: 'mdrv_acme', x: 1 }]);
      expect(Object.keys(rows as object)).to.deep.equal(['0']); // no `meta` key left on the rows
      expect(meta).to.be.an('array').with.length(2);
      const [outside] = await sequelize.query('SELECT 2 AS y');
      expect(outside).to.deep.equal([{ y: 2 }]);
      const inTransaction = await apartment.run('acme', () => sequelize.transaction((transaction) => sequelize.query('SELECT 3 AS z', { transaction })));
      expect(inTransaction[0]).to.deep.equal([{ z: 3 }]);
      expect(await sequelize.query('SELECT 4 AS w', { type: QueryTypes.SELECT })).to.deep.equal([{ w: 4 }]);
    });
  },
  ['mariadb'],
);
