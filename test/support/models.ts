import { DataTypes, Model, type Sequelize } from 'sequelize';
import { Apartment, type ApartmentOptions } from 'sequelize-apartment';

/** The models most core tests use: a shared Account and tenant Widget/Tag/Part. */
export function defineModels(sequelize: Sequelize) {
  const Account = sequelize.define('Account', { name: DataTypes.STRING }, { tableName: 'core_accounts' });
  const Widget = sequelize.define(
    'Widget',
    {
      name: { type: DataTypes.STRING, allowNull: false },
      owner: DataTypes.STRING, // every row records the tenant it was written for
      stock: { type: DataTypes.INTEGER, defaultValue: 0 },
    },
    { tableName: 'widgets', paranoid: true },
  );
  const Tag = sequelize.define('Tag', { label: DataTypes.STRING, owner: DataTypes.STRING }, { tableName: 'tags' });
  const Part = sequelize.define('Part', { name: DataTypes.STRING, owner: DataTypes.STRING }, { tableName: 'parts' });
  const WidgetTag = sequelize.define('WidgetTag', {}, { tableName: 'widget_tags' });
  Widget.belongsToMany(Tag, { through: WidgetTag });
  Tag.belongsToMany(Widget, { through: WidgetTag });
  Widget.hasMany(Part);
  Part.belongsTo(Widget);
  Widget.belongsTo(Account);
  Account.hasMany(Widget);
  return { Account, Widget, Tag, Part, WidgetTag } as Record<'Account' | 'Widget' | 'Tag' | 'Part' | 'WidgetTag', typeof Model & (new () => Model) & any>;
}

export type Models = ReturnType<typeof defineModels>;

/**
 * A fresh Sequelize + Apartment + models, with `keys` created as tenants and
 * their tables made by `sync` inside each tenant (the core does not need
 * migrations for that).
 */
export async function tenantWorld(
  sequelize: Sequelize,
  keys: string[],
  options: ApartmentOptions = {},
): Promise<{ apartment: Apartment; models: Models }> {
  const models = defineModels(sequelize);
  const apartment = new Apartment(sequelize, { sharedModels: ['Account'], migrationsPath: false, ...options });
  if (apartment.adapter.cluster) {
    // Citus: tenant tables reference the shared table, so it must be a reference table first.
    await models.Account.sync();
    await apartment.citus.reference(models.Account);
  }
  for (const key of keys) {
    if (await apartment.exists(key)) await apartment.dropTenant(key);
    await apartment.createTenant(key);
    await apartment.run(key, () => sequelize.sync());
  }
  await models.Account.sync();
  return { apartment, models };
}
