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

/** Shared: someone who can sign in. The app stores a hash of the API token, never the token. */
export interface User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  id: CreationOptional<number>;
  email: string;
  tokenHash: string;
}

/** Shared: user X belongs to tenant (account) Y. What the app checks on every tenant request. */
export interface Membership extends Model<InferAttributes<Membership>, InferCreationAttributes<Membership>> {
  userId: number;
  accountId: number;
}

export interface Models {
  Account: ModelStatic<Account>;
  User: ModelStatic<User>;
  Membership: ModelStatic<Membership>;
  Widget: ModelStatic<Widget>;
  Tag: ModelStatic<Tag>;
}

/** The shared models' names: the app passes them to `sharedModels`. */
export const SHARED_MODELS = ['Account', 'User', 'Membership'];

/** Defines the models on `sequelize`. `sharedTablePrefix` lets tests use shared tables of their own. */
export function defineModels(sequelize: Sequelize, { sharedTablePrefix = '' } = {}): Models {
  const Account = sequelize.define<Account>(
    'Account',
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      key: { type: DataTypes.STRING(63), allowNull: false, unique: true },
      createdAt: DataTypes.DATE,
    },
    { tableName: `${sharedTablePrefix}accounts`, updatedAt: false },
  );
  const User = sequelize.define<User>(
    'User',
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      email: { type: DataTypes.STRING(254), allowNull: false, unique: true, validate: { isEmail: true } },
      tokenHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    },
    { tableName: `${sharedTablePrefix}users`, timestamps: false },
  );
  const Membership = sequelize.define<Membership>(
    'Membership',
    {
      userId: { type: DataTypes.INTEGER, primaryKey: true, references: { model: User, key: 'id' }, onDelete: 'CASCADE' },
      accountId: { type: DataTypes.INTEGER, primaryKey: true, references: { model: Account, key: 'id' }, onDelete: 'CASCADE' },
    },
    { tableName: `${sharedTablePrefix}memberships`, timestamps: false },
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
  Membership.belongsTo(Account, { foreignKey: 'accountId', onDelete: 'CASCADE' });
  Account.belongsToMany(User, { through: Membership, foreignKey: 'accountId', otherKey: 'userId', onDelete: 'CASCADE' });
  Widget.belongsToMany(Tag, { through: WidgetTag, as: 'tags', foreignKey: 'widgetId', otherKey: 'tagId' });
  Tag.belongsToMany(Widget, { through: WidgetTag, as: 'widgets', foreignKey: 'tagId', otherKey: 'widgetId' });
  return { Account, User, Membership, Widget, Tag };
}
