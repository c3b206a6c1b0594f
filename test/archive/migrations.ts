import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Tenant migrations for the archive tests: `things` with every column type
 * the suite's models use (JSON, arrays, hstore and JSONB on PostgreSQL,
 * BLOBs, dates with time zones, decimals, booleans, UUIDs), `a_parts`
 * referencing it (sorts before it: the load order must follow the foreign
 * key), and `notes`. Returns the folder and its file names.
 */
export function archiveMigrations(): { folder: string; files: string[] } {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-archive-'));
  const files = ['20260101000000-things.js', '20260102000000-notes.js'];
  fs.writeFileSync(
    path.join(folder, files[0]),
    `'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    const pg = queryInterface.sequelize.getDialect() === 'postgres';
    await queryInterface.createTable('things', {
      id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true },
      name: Sequelize.STRING,
      body: Sequelize.TEXT,
      n: Sequelize.INTEGER,
      big: Sequelize.BIGINT,
      price: Sequelize.DECIMAL(12, 4),
      ratio: Sequelize.DOUBLE,
      flag: Sequelize.BOOLEAN,
      at: pg ? Sequelize.DATE : Sequelize.DATE(3),
      day: Sequelize.DATEONLY,
      data: Sequelize.JSON,
      blob: Sequelize.BLOB,
      uuid: Sequelize.UUID,
      ...(pg
        ? { tags: Sequelize.ARRAY(Sequelize.STRING), scores: Sequelize.ARRAY(Sequelize.INTEGER), attrs: Sequelize.HSTORE, doc: Sequelize.JSONB }
        : { stamp: { type: 'TIMESTAMP(3) NULL' } }),
      createdAt: Sequelize.DATE,
      updatedAt: Sequelize.DATE,
    });
    await queryInterface.createTable('a_parts', {
      id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true },
      thing_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'things', key: 'id' } },
      label: Sequelize.STRING,
    });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('a_parts');
    await queryInterface.dropTable('things');
  },
};
`,
  );
  fs.writeFileSync(
    path.join(folder, files[1]),
    `'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('notes', { id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true }, body: Sequelize.TEXT, marker: Sequelize.INTEGER });
  },
  async down(queryInterface) { await queryInterface.dropTable('notes'); },
};
`,
  );
  return { folder, files };
}
