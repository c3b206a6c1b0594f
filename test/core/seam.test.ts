import { expect } from 'chai';
import { DataTypes, type Sequelize } from 'sequelize';
import { Apartment, ConfigurationError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { freshSequelize } from '../support/fresh-sequelize';
import { changed, snapshot } from '../support/snapshot';

/**
 * The seam's checks at construction (lib/seam/checks.ts), against
 * deliberately altered copies of Sequelize: each alteration is one a future
 * release could bring, and each is refused with the version and the piece,
 * before anything is installed.
 */
describeDialects('the seam over Sequelize internals: checked at construction', (d) => {
  const opened: Sequelize[] = [];
  after(async () => {
    // Some were altered past closing (a pool without its idle list): what matters is that none keeps a connection.
    for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  });

  /** An instance of a fresh copy (its prototypes are ours to alter) with a model. */
  function copy(): { s: Sequelize; version: string } {
    const Copy = freshSequelize();
    const s = new Copy(d.url, { logging: false });
    opened.push(s);
    s.define('Widget', { name: DataTypes.STRING }, { tableName: 'seam_widgets' });
    return { s, version: (Copy as any).version };
  }

  const alterations: Array<[string, (s: any) => void, RegExp, object?]> = [
    [
      'QueryInterface.select awaits before it builds its SQL',
      (s) => {
        const qi = s.getQueryInterface();
        const select = qi.select;
        qi.select = async function (this: unknown, ...args: unknown[]) {
          await Promise.resolve();
          return select.apply(this, args);
        };
      },
      /QueryInterface\.select\(\) sending its SQL synchronously/,
    ],
    [
      'QueryInterface.bulkUpdate builds its SQL after a hook',
      (s) => {
        const proto = Object.getPrototypeOf(s.getQueryInterface());
        const bulkUpdate = proto.bulkUpdate;
        s.getQueryInterface().bulkUpdate = async function (this: unknown, ...args: unknown[]) {
          await Promise.resolve();
          return bulkUpdate.apply(this, args);
        };
      },
      /QueryInterface\.bulkUpdate\(\) sending its SQL synchronously/,
    ],
    ['an association class without count()', (s) => delete s.constructor.HasMany.prototype.count, /HasMany\.prototype\.count\(\)/],
    ['a Query class without handleSelectQuery', (s) => delete Object.getPrototypeOf(s.dialect.Query.prototype).handleSelectQuery, /Query\.prototype\.handleSelectQuery\(\)/],
    ['a Model without findAndCountAll', (s) => delete s.constructor.Model.findAndCountAll, /Model\.findAndCountAll\(\)/],
    ['a QueryInterface without bulkInsert', (s) => (s.getQueryInterface().bulkInsert = undefined), /QueryInterface\.bulkInsert\(\)/],
    ['a connection manager without destroyConnection (reset() on MySQL)', (s) => delete Object.getPrototypeOf(Object.getPrototypeOf(s.connectionManager)).destroyConnection, /connectionManager\.destroyConnection\(\)/],
    ['a pool without its private idle list', (s) => delete s.connectionManager.pool._availableObjects, /sequelize-pool's Pool/],
  ];
  if (d.name === 'postgres') {
    alterations.push(['no _refreshDynamicOIDs', (s) => delete Object.getPrototypeOf(s.connectionManager)._refreshDynamicOIDs, /_refreshDynamicOIDs\(\)/]);
    alterations.push(['isolation: role and a pg without escapeLiteral', (s) => {
        // A pg of its own for this instance (the real module is shared with every suite).
        const lib = s.connectionManager.lib;
        class Client extends lib.Client {}
        Object.defineProperty(Client.prototype, 'escapeLiteral', { value: undefined });
        s.connectionManager.lib = { ...lib, Client };
      }, /escapeLiteral\(\)/, { isolation: 'role' }]);
  } else {
    alterations.push(['a query generator without getForeignKeyQuery', (s) => (s.getQueryInterface().queryGenerator.getForeignKeyQuery = undefined), /QueryGenerator\.getForeignKeyQuery\(\)/]);
  }

  for (const [what, alter, piece, options] of alterations) {
    it(`${what}: ConfigurationError naming the version and the piece; nothing installed`, () => {
      const { s, version } = copy();
      alter(s);
      const before = snapshot(s);
      let error: unknown;
      try {
        new Apartment(s, { prefix: 'seam_', ...options });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(ConfigurationError);
      expect((error as Error).message).to.match(piece).and.include(`Sequelize (${version})`).and.include('Nothing was installed');
      expect(changed(before, snapshot(s))).to.deep.equal([]);
    });
  }

  it('the same copy unaltered installs (so each refusal above is the alteration)', () => {
    const { s } = copy();
    expect(() => new Apartment(s, { prefix: 'seam_' })).not.to.throw();
  });

  it('without the check, an await in QueryInterface.select would send { tenant } to the default schema (strict: false)', async () => {
    const { s } = copy();
    // A select that awaits before it builds its SQL once `late` is set: the check at construction
    // sees the synchronous one, the queries after it the changed one, as if Sequelize had changed under the package.
    let late = false;
    const qi = s.getQueryInterface() as any;
    const select = qi.select;
    qi.select = function (this: unknown, ...args: unknown[]) {
      if (!late) return select.apply(this, args);
      return (async () => {
        await Promise.resolve();
        return select.apply(this, args);
      })();
    };
    const apartment = new Apartment(s, { prefix: 'seam_', strict: false, migrationsPath: false });
    late = true;
    const sql: string[] = [];
    await s.models.Widget!.findAll({ tenant: 'acme', logging: (text: string) => sql.push(text) } as any).catch(() => undefined);
    expect(sql.join('\n')).not.to.include('seam_acme');
    expect(apartment.schemaFor('acme')).to.equal('seam_acme');
  });
});
