import { expect } from 'chai';
import { Apartment, ConfigurationError } from 'sequelize-apartment';
import { splitStatements } from '../../lib/dialects/statements';
import { describeDialects } from '../support/dialects';

describe("distribute: 'citus' without a Citus cluster", () => {
  describeDialects('refused on MySQL/MariaDB at construction', (d) => {
    it("throws ConfigurationError naming the postgres dialect, before any SQL", () => {
      expect(() => new Apartment(d.sequelize(), { distribute: 'citus' })).to.throw(ConfigurationError, /needs the 'postgres' dialect/);
      expect(() => new Apartment(d.sequelize(), { distribute: 'cockroach' as any })).to.throw(ConfigurationError, /Expected `distribute` to be 'citus'/);
    });
  }, ['mysql', 'mariadb']);

  describeDialects("isolation: 'role' with distribute: 'citus'", (d) => {
    it('is refused with ConfigurationError at construction, before any SQL (worker connections cannot log in as a NOLOGIN tenant role)', () => {
      expect(() => new Apartment(d.sequelize(), { distribute: 'citus', isolation: 'role' })).to.throw(ConfigurationError, /not supported with `distribute: 'citus'`/);
    });
  }, ['postgres']);

  describeDialects('on a PostgreSQL server without the extension', (d) => {
    before(() => d.dropAll('nocitus_'));
    after(() => d.dropAll('nocitus_'));

    it('createTenant fails with ConfigurationError saying CREATE EXTENSION citus, and creates nothing', async () => {
      const apartment = new Apartment(d.sequelize(), { prefix: 'nocitus_', distribute: 'citus', migrationsPath: false });
      const error = await apartment.createTenant('acme').catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ConfigurationError);
      expect((error as Error).message).to.match(/CREATE EXTENSION citus/);
      expect(await d.schemaExists('nocitus_acme')).to.equal(false);
    });

    it('placement, moveTenant and apartment.citus need distribute: citus', async () => {
      const apartment = new Apartment(d.sequelize(), { prefix: 'nocitus_' });
      for (const call of [
        () => apartment.placement('acme'),
        () => apartment.moveTenant('acme', { host: '127.0.0.1', port: 5432 }),
        () => apartment.citus.reference('accounts'),
        () => apartment.citus.distribute('acme'),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).to.be.instanceOf(ConfigurationError);
        expect((error as Error).message).to.match(/distribute: 'citus'/);
      }
    });
  }, ['postgres']);
});

describe('splitStatements (Citus: one statement per message)', () => {
  it("splits Sequelize's changeColumn output into its ALTER TABLE statements", () => {
    expect(splitStatements('ALTER TABLE "t"."w" ALTER COLUMN "a" SET NOT NULL;ALTER TABLE "t"."w" ALTER COLUMN "a" SET DEFAULT 1;')).to.deep.equal([
      'ALTER TABLE "t"."w" ALTER COLUMN "a" SET NOT NULL',
      'ALTER TABLE "t"."w" ALTER COLUMN "a" SET DEFAULT 1',
    ]);
  });

  it('leaves semicolons in strings, quoted names, dollar quotes and comments alone', () => {
    const sql = [
      "COMMENT ON TABLE w IS 'a;b''c;'",
      'CREATE TABLE "x;y" (id int)',
      "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
      "ALTER TABLE w ADD COLUMN e text DEFAULT E'\\';'",
      'DROP TABLE z /* not; here */',
      'DROP TABLE q -- nor; here\n',
    ].join(';\n');
    expect(splitStatements(sql)).to.have.length(6);
    expect(splitStatements(sql)[2]).to.equal('CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql');
    expect(splitStatements('SELECT 1')).to.deep.equal(['SELECT 1']);
    expect(splitStatements(' ; ;')).to.deep.equal([]);
  });
});
