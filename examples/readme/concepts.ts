import { DataTypes, QueryTypes, type ModelStatic, type Sequelize } from 'sequelize';
import { Apartment, CrossTenantError, NoTenantError } from 'sequelize-apartment';

/** The README's "Concepts" snippets, run end to end by test/core/readme-concepts.test.ts. */
export async function main(sequelize: Sequelize): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  // #region models
  const Account: ModelStatic<any> = sequelize.define('Account', { name: DataTypes.STRING }, { tableName: 'accounts' });
  const Widget: ModelStatic<any> = sequelize.define('Widget', { name: DataTypes.STRING }, { tableName: 'widgets' });
  const Tag: ModelStatic<any> = sequelize.define('Tag', { label: DataTypes.STRING }, { tableName: 'tags' });
  Widget.belongsToMany(Tag, { through: 'widget_tags' });
  Widget.belongsTo(Account);

  const apartment = new Apartment(sequelize, {
    sharedModels: ['Account'], // lives in the default schema/database, also inside a tenant
    migrationsPath: false, //     this example makes tenant tables with sync(), not migrations
  });
  // #endregion models
  await Account.sync();
  for (const key of ['acme', 'globex']) {
    if (await apartment.exists(key)) await apartment.dropTenant(key);
    await apartment.createTenant(key);
    await apartment.run(key, () => sequelize.sync()); // (tenant migrations do this in real apps)
  }

  // #region keys
  apartment.schemaFor('acme'); //        'tenant_acme'
  apartment.schemaFor(42); //            'tenant_42'
  apartment.schemaFor({ id: 'acme' }); // 'tenant_acme' (any object with an id)
  // apartment.schemaFor('Acme Corp') throws TenantNameError before any SQL
  // #endregion keys
  seen.schema = apartment.schemaFor({ id: 'acme' });

  // #region run
  await apartment.run('acme', async () => {
    const account = await Account.create({ name: 'Acme Inc.' }); // default schema
    const widget = await Widget.create({ name: 'gear', AccountId: account.id }); // tenant_acme.widgets
    await widget.addTag(await Tag.create({ label: 'blue' })); // tenant_acme.widget_tags
    apartment.current(); // 'acme'
  });
  const widgets = await Widget.findAll({ tenant: 'acme', include: [Tag, Account] }); // explicit form
  // #endregion run
  seen.widgets = widgets.map((w: any) => [w.name, w.Tags.map((t: any) => t.label), w.Account.name]);

  // #region strict
  try {
    await Widget.findAll(); // no tenant in context, no { tenant } option
  } catch (error) {
    error instanceof NoTenantError; // true: refused before any SQL was sent
  }
  // #endregion strict
  seen.strict = await Widget.findAll().then(() => 'sent', (e) => e instanceof NoTenantError);

  // #region instances
  const gear = await apartment.run('acme', () => Widget.findOne({ where: { name: 'gear' } }));
  await gear.update({ name: 'gear v2' }); // still tenant_acme, outside any context
  await gear.getTags(); //                   tenant_acme as well
  apartment.tenantOf(gear); //               'acme'
  await apartment.run('globex', () => gear.save()).catch((error: unknown) => {
    error instanceof CrossTenantError; // true: an acme row can't be saved into globex
  });
  // #endregion instances
  seen.bound = apartment.tenantOf(gear);
  seen.cross = await apartment.run('globex', () => gear.save()).then(() => 'saved', (e: unknown) => e instanceof CrossTenantError);

  // #region raw
  const rows = await apartment.run('acme', () =>
    sequelize.query('SELECT name FROM widgets WHERE name LIKE :pattern', {
      replacements: { pattern: 'gear%' },
      type: QueryTypes.SELECT,
    }),
  );
  // rows come from tenant_acme.widgets
  // #endregion raw
  seen.raw = rows;

  // #region transactions
  await apartment.run('globex', () =>
    sequelize.transaction(async (transaction) => {
      await Widget.create({ name: 'sprocket' }, { transaction });
      await sequelize.query('UPDATE widgets SET name = :name', { replacements: { name: 'cog' }, transaction });
    }),
  );
  // #endregion transactions
  seen.globex = (await Widget.findAll({ tenant: 'globex' })).map((w: any) => w.name);

  for (const key of ['acme', 'globex']) await apartment.dropTenant(key);
  return seen;
}
