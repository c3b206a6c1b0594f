'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('users', {
      id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true },
      email: { type: Sequelize.STRING, allowNull: false, unique: true },
    });
    await queryInterface.createTable('widgets', {
      id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: Sequelize.STRING, allowNull: false },
      status: { type: Sequelize.ENUM('draft', 'live'), defaultValue: 'draft' },
      ownerId: { type: Sequelize.INTEGER, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    });
    await queryInterface.addIndex('widgets', ['ownerId']);
  },
  async down(queryInterface) {
    await queryInterface.dropTable('widgets');
    await queryInterface.dropTable('users');
  },
};
