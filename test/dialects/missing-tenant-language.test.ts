import { expect } from 'chai';
import type { Sequelize } from 'sequelize';
import { Apartment, TenantNotFoundError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';

/**
 * A query routed to a tenant that does not exist is a `TenantNotFoundError`
 * whatever language the server speaks: the driver's "no such schema /
 * database / table" is recognised by its code alone and confirmed by the
 * catalog, never by the message. These are the errors a server with German
 * messages sends (PostgreSQL 15's and MariaDB's German catalogs; this
 * machine's servers have no German locale), as the drivers hand them over,
 * under Sequelize's wrapper; the catalog is the real server's.
 */
describeDialects('a missing tenant is recognised by error code, whatever the server language', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;

  before(async () => {
    await d.dropAll('mtl_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { ...d.apartmentOptions, prefix: 'mtl_', migrationsPath: false });
    await apartment.createTenant('here');
  });

  after(() => d.dropAll('mtl_'));

  /** A driver error as node-postgres / mysql2 / mariadb build it, under Sequelize's wrapper. */
  const driverError = (fields: Record<string, unknown>, message: string) => {
    const original = Object.assign(new Error(message), fields);
    return Object.assign(new Error(message), { name: 'SequelizeDatabaseError', original, parent: original });
  };
  const errors =
    d.name === 'postgres'
      ? [
          driverError({ code: '3F000', severity: 'FEHLER' }, 'Schema »mtl_gone« existiert nicht'),
          driverError({ code: '42P01', severity: 'FEHLER' }, 'Relation »widgets« existiert nicht'),
        ]
      : [
          driverError({ errno: 1049, code: 'ER_BAD_DB_ERROR', sqlState: '42000' }, "Unbekannte Datenbank 'mtl_gone'"),
          driverError({ errno: 1146, code: 'ER_NO_SUCH_TABLE', sqlState: '42S02' }, "Tabelle 'mtl_gone.widgets' existiert nicht"),
        ];

  it('in a tenant that does not exist: TenantNotFoundError naming it, with the driver error as its cause', async () => {
    const gone = apartment.names.ref('gone');
    for (const error of errors) {
      const translated = await apartment.adapter.translateQueryError(error, gone).catch((e: unknown) => e);
      expect(translated, error.message).to.be.instanceOf(TenantNotFoundError);
      expect(translated).to.include({ tenant: 'gone', cause: error });
    }
  });

  it('in a tenant that exists (a table it lacks, another schema named): the driver error as it is', async () => {
    const here = apartment.names.ref('here');
    for (const error of errors) {
      expect(await apartment.adapter.translateQueryError(error, here).catch((e: unknown) => e), error.message).to.equal(error);
    }
  });

  it('an error of another kind is passed on as it is', async () => {
    const gone = apartment.names.ref('gone');
    const other = d.name === 'postgres' ? driverError({ code: '23505' }, 'doppelter Schlüsselwert') : driverError({ errno: 1062, code: 'ER_DUP_ENTRY' }, 'Doppelter Eintrag');
    expect(await apartment.adapter.translateQueryError(other, gone).catch((e: unknown) => e)).to.equal(other);
  });
});
