'use strict';

/** Runs once in every tenant's schema (PostgreSQL) or database (MySQL). */
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('widgets', {
      id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: Sequelize.STRING(100), allowNull: false },
      quantity: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
      createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },
    });
  },

  async down(queryInterface) {
    await queryInterface.dropTable('widgets');
  },
};
