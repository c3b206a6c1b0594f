import { DataTypes, type Model, type ModelStatic, type Sequelize } from 'sequelize';

export interface BenchModels {
  Widget: ModelStatic<Model>;
  Tag: ModelStatic<Model>;
  WidgetTag: ModelStatic<Model>;
}

/**
 * widgets <-> tags through widget_tags. On a plain Sequelize instance, `schema`
 * gives the static floor (`schema: 'bench_q_x'`); on an Apartment instance the
 * same definitions are routed per tenant.
 */
export function defineModels(sequelize: Sequelize, schema?: string): BenchModels {
  const options = schema ? { schema } : {};
  const Widget = sequelize.define('Widget', { name: DataTypes.STRING }, { tableName: 'widgets', ...options });
  const Tag = sequelize.define('Tag', { name: DataTypes.STRING }, { tableName: 'tags', ...options });
  const WidgetTag = sequelize.define('WidgetTag', {}, { tableName: 'widget_tags', ...options });
  Widget.belongsToMany(Tag, { through: WidgetTag, foreignKey: 'widgetId', otherKey: 'tagId' });
  Tag.belongsToMany(Widget, { through: WidgetTag, foreignKey: 'tagId', otherKey: 'widgetId' });
  return { Widget, Tag, WidgetTag };
}
