'use strict';

/**
 * A tenant migration: `apartment db:migrate` runs it in every tenant's schema
 * (PostgreSQL) or database (MySQL/MariaDB). Write plain table names, as for
 * sequelize-cli: every queryInterface call lands in the tenant being migrated.
 *
 * @type {import('sequelize-cli').Migration}
 */
module.exports = {
  async up (queryInterface, Sequelize) {
    /**
     * Add altering commands here.
     *
     * Example:
     * await queryInterface.createTable('users', { id: Sequelize.INTEGER });
     */
  },

  async down (queryInterface, Sequelize) {
    /**
     * Add reverting commands here.
     *
     * Example:
     * await queryInterface.dropTable('users');
     */
  }
};
