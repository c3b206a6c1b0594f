'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.addColumn('widgets', 'color', { type: Sequelize.STRING(20) });
  },
  async down(queryInterface) {
    await queryInterface.removeColumn('widgets', 'color');
  },
};
