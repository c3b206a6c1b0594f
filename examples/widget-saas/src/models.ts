import {
  DataTypes,
  type BelongsToManySetAssociationsMixin,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type NonAttribute,
  type Sequelize,
} from 'sequelize';

/** Shared: one row per customer, in the default schema (`public`, or the connection's MySQL database). */
export interface Account extends Model<InferAttributes<Account>, InferCreationAttributes<Account>> {
  id: CreationOptional<number>;
  key: string;
  createdAt: CreationOptional<Date>;
}

/** Per tenant: lives in each tenant's schema/database (tables made by tenant-migrations/). */
export interface Widget extends Model<InferAttributes<Widget>, InferCreationAttributes<Widget>> {
  id: CreationOptional<number>;
  name: string;
  quantity: CreationOptional<number>;
  tags?: NonAttribute<Tag[]>;
  setTags: BelongsToManySetAssociationsMixin<Tag, number>;
}

/** Per tenant. */
export interface Tag extends Model<InferAttributes<Tag>, InferCreationAttributes<Tag>> {
  id: CreationOptional<number>;
  name: string;
}

export interface Models {
  Account: ModelStatic<Account>;
  Widget: ModelStatic<Widget>;
  Tag: ModelStatic<Tag>;
}

/** Defines the models on `sequelize`. `accountsTable` lets tests use a shared table of their own. */
export function defineModels(sequelize: Sequelize, { accountsTable = 'accounts' } = {}): Models {
  const Account = sequelize.define<Account>(
    'Account',
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      key: { type: DataTypes.STRING(63), allowNull: false, unique: true },
      createdAt: DataTypes.DATE,
    },
    { tableName: accountsTable, updatedAt: false },
  );
  const Widget = sequelize.define<Widget>(
    'Widget',
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false, validate: { notEmpty: true } },
      quantity: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0, validate: { min: 0 } },
    },
    { tableName: 'widgets' },
  );
  const Tag = sequelize.define<Tag>(
    'Tag',
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING(50), allowNull: false, validate: { notEmpty: true } },
    },
    { tableName: 'tags' },
  );
  const WidgetTag = sequelize.define('WidgetTag', {}, { tableName: 'widget_tags', timestamps: false });
  Widget.belongsToMany(Tag, { through: WidgetTag, as: 'tags', foreignKey: 'widgetId', otherKey: 'tagId' });
  Tag.belongsToMany(Widget, { through: WidgetTag, as: 'widgets', foreignKey: 'tagId', otherKey: 'widgetId' });
  return { Account, Widget, Tag };
}
