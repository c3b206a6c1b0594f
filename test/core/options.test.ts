import { expect } from 'chai';
import { DataTypes, type Sequelize } from 'sequelize';
import { Apartment, ConfigurationError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { freshSequelize } from '../support/fresh-sequelize';
import { changed, snapshot } from '../support/snapshot';

describeDialects('Apartment options: validated before anything is installed', (d) => {
  const opened: Sequelize[] = [];
  after(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  let Fresh: typeof import('sequelize').Sequelize;
  before(() => {
    Fresh = freshSequelize();
  });

  /** An instance of a fresh Sequelize copy with models and associations, as an app has them when it creates the Apartment. */
  function appSequelize(Copy = Fresh): Sequelize {
    const s = new Copy(d.url, { logging: false });
    opened.push(s);
    const Account = s.define('Account', { name: DataTypes.STRING }, { tableName: 'opts_accounts' });
    const Widget = s.define('Widget', { name: DataTypes.STRING }, { tableName: 'opts_widgets' });
    Widget.belongsTo(Account);
    Account.hasMany(Widget);
    return s;
  }

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a bad prefix', { prefix: 'Bad Prefix' }, /`prefix`/],
    ['a defaultSchema that is not a string', { defaultSchema: 42 }, /Expected `defaultSchema` to be .*, got `42` \(number\)/],
    ['a defaultSchema that is not a plain name', { defaultSchema: 'public"; DROP' }, /`defaultSchema`/],
    ['an empty defaultSchema', { defaultSchema: '' }, /`defaultSchema`/],
    ['strict: "yes"', { strict: 'yes' }, /`strict` to be a boolean/],
    ['sharedModels as a string', { sharedModels: 'Account' }, /`sharedModels`/],
    ['a bad migrationsPath', { migrationsPath: 3 }, /`migrationsPath`/],
    ['a bad seedersPath', { seedersPath: '' }, /`seedersPath`/],
    ['a bad isolation', { isolation: 'schema' }, /`isolation` to be 'none' or 'role'/],
    ['a bad distribute', { distribute: 'vitess' }, /`distribute` to be 'citus'/],
    ['bad affinity', { affinity: 'yes' }, /`affinity`/],
    ['a bad affinity.maxTenantsPerConnection', { affinity: { maxTenantsPerConnection: -1 } }, /maxTenantsPerConnection/],
    ['the misspelled migrationPath', { migrationPath: 'db/tenant-migrations' }, /Unknown option `migrationPath`.*did you mean `migrationsPath`\?/],
    ['the misspelled sharedModel', { sharedModel: ['Account'] }, /Unknown option `sharedModel`.*did you mean `sharedModels`\?/],
    ['an unknown key with nothing close', { zzzzzzzzzzzz: 1 }, /Unknown option `zzzzzzzzzzzz` in the Apartment options\. Known options: `prefix`/],
    ['a bad option after good ones', { prefix: 'ok_', strict: false, sqlComment: 'on' }, /`sqlComment`/],
  ];
  // Checks that need the dialect: they too run before anything is installed.
  if (d.name === 'postgres') refused.push(['isolation with Citus', { isolation: 'role', distribute: 'citus' }, /not supported with `distribute: 'citus'`/]);
  else {
    refused.push(['isolation: role', { isolation: 'role' }, /needs PostgreSQL/]);
    refused.push(["distribute: 'citus'", { distribute: 'citus' }, /needs the 'postgres' dialect/]);
  }

  for (const [what, options, message] of refused) {
    it(`${what}: ConfigurationError, and Sequelize exactly as it was`, () => {
      const s = appSequelize();
      const before = snapshot(s);
      expect(() => new Apartment(s, options as any)).to.throw(ConfigurationError, message);
      expect(changed(before, snapshot(s))).to.deep.equal([]);
      // Nothing half-installed: the same instance takes an Apartment afterwards.
      expect(() => new Apartment(s, { prefix: 'opts_' })).not.to.throw();
    });
  }

  it('the snapshot sees what an Apartment installs (so the refusals above are real)', () => {
    const s = appSequelize(freshSequelize());
    const before = snapshot(s);
    new Apartment(s);
    const touched = changed(before, snapshot(s));
    const expected = ['sequelize^0.query', 'dialect^0.Query', 'hooks', 'HasMany.prototype^0.get', 'models.Widget^0.findAll', 'models.Widget^0.getTableName'];
    expect(expected.filter((key) => !touched.includes(key))).to.deep.equal([]);
    expect(touched.some((key) => key.startsWith('queryInterface^0.'))).to.equal(true);
    expect(touched.some((key) => key.startsWith('queryGenerator^'))).to.equal(true);
    if (d.name === 'postgres') expect(touched).to.include('connectionManager^0._refreshDynamicOIDs');
  });

  it('a refused instance then routes normally with good options', async () => {
    const s = appSequelize(freshSequelize());
    expect(() => new Apartment(s, { migrationPath: false } as any)).to.throw(ConfigurationError);
    const apartment = new Apartment(s, { prefix: 'opts_', migrationsPath: false, sharedModels: ['Account'] });
    const { Account, Widget } = s.models as any;
    await Account.sync();
    await d.dropAll('opts_');
    await apartment.createTenant('acme');
    try {
      await apartment.run('acme', async () => {
        await Widget.sync();
        await Widget.create({ name: 'gear' });
      });
      expect(await d.tables('opts_acme')).to.include('opts_widgets');
      expect((await Widget.findAll({ tenant: 'acme' })).map((w: any) => w.name)).to.deep.equal(['gear']);
    } finally {
      await apartment.dropTenant('acme');
      await Account.drop();
    }
  });
});
