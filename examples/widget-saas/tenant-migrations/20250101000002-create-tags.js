'use strict';

/** Tags and the widget_tags join table, with foreign keys inside the tenant. */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('tags', {
      id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: Sequelize.STRING(50), allowNull: false, unique: true },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
    await queryInterface.createTable('widget_tags', {
      widgetId: {
        type: Sequelize.INTEGER,
        primaryKey: true,
        references: { model: 'widgets', key: 'id' },
        onDelete: 'CASCADE',
      },
      tagId: {
        type: Sequelize.INTEGER,
        primaryKey: true,
        references: { model: 'tags', key: 'id' },
        onDelete: 'CASCADE',
      },
    });
  },

  async down(queryInterface) {
    await queryInterface.dropTable('widget_tags');
    await queryInterface.dropTable('tags');
  },
};
