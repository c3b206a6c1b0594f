import type { QueryInterface } from 'sequelize';
// What the runner passes as `Sequelize`: the class, carrying the data types (Sequelize.STRING, ...).
import type * as SequelizeStatic from 'sequelize';

/*
 * A tenant migration: `apartment db:migrate` runs it in every tenant's schema
 * (PostgreSQL) or database (MySQL/MariaDB). Write plain table names, as for
 * sequelize-cli: every queryInterface call lands in the tenant being migrated.
 * Running .ts migrations needs a process that loads TypeScript (ts-node, tsx).
 */
export async function up(queryInterface: QueryInterface, Sequelize: typeof SequelizeStatic): Promise<void> {
  /*
   * Add altering commands here.
   *
   * Example:
   * await queryInterface.createTable('users', { id: Sequelize.INTEGER });
   */
}

export async function down(queryInterface: QueryInterface, Sequelize: typeof SequelizeStatic): Promise<void> {
  /*
   * Add reverting commands here.
   *
   * Example:
   * await queryInterface.dropTable('users');
   */
}
