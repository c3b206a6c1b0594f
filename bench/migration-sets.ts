import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Tenant migration folders (sequelize-cli format) generated into a temp
 * folder. File names sort by their leading number, like sequelize-cli's.
 */
export class MigrationSets {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-bench-'));

  /** The first migration of every set: the widgets table the bulk tenants are built with. */
  static readonly BASE = '00001-create-widgets.js';

  folder(name: string): string {
    const dir = path.join(this.root, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** widgets, tags, widget_tags, then a mix of tables, columns and indexes: `count` files. */
  generate(name: string, count: number): string {
    const dir = this.folder(name);
    for (let i = 1; i <= count; i++) fs.writeFileSync(path.join(dir, fileName(i)), migrationSource(i));
    return dir;
  }

  /** Adds migration number `n` (an added column on widgets) to an existing folder. */
  add(dir: string, n: number): string {
    const file = `${String(n).padStart(5, '0')}-add-column-${n}.js`;
    fs.writeFileSync(path.join(dir, file), columnMigration(`extra${n}`));
    return file;
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

function fileName(i: number): string {
  const n = String(i).padStart(5, '0');
  if (i === 1) return MigrationSets.BASE;
  if (i === 2) return `${n}-create-tags.js`;
  if (i === 3) return `${n}-create-widget-tags.js`;
  return `${n}-${['create-table', 'add-column', 'add-index'][i % 3]}-${i}.js`;
}

const TIMESTAMPS = `createdAt: { type: Sequelize.DATE, allowNull: false },
      updatedAt: { type: Sequelize.DATE, allowNull: false },`;

function tableMigration(table: string, extra = ''): string {
  return `'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('${table}', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
      name: { type: Sequelize.STRING },
      ${extra}${TIMESTAMPS}
    });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('${table}');
  },
};
`;
}

function columnMigration(column: string): string {
  return `'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.addColumn('widgets', '${column}', { type: Sequelize.STRING });
  },
  async down(queryInterface) {
    await queryInterface.removeColumn('widgets', '${column}');
  },
};
`;
}

function migrationSource(i: number): string {
  if (i === 1) return tableMigration('widgets');
  if (i === 2) return tableMigration('tags');
  if (i === 3) {
    return `'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('widget_tags', {
      widgetId: { type: Sequelize.INTEGER, primaryKey: true, allowNull: false, references: { model: 'widgets', key: 'id' }, onDelete: 'CASCADE' },
      tagId: { type: Sequelize.INTEGER, primaryKey: true, allowNull: false, references: { model: 'tags', key: 'id' }, onDelete: 'CASCADE' },
      ${TIMESTAMPS}
    });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('widget_tags');
  },
};
`;
  }
  const kind = i % 3;
  if (kind === 0) return tableMigration(`table_${i}`);
  if (kind === 1) return columnMigration(`column_${i}`);
  return `'use strict';
module.exports = {
  async up(queryInterface) {
    await queryInterface.addIndex('widgets', ['column_${i - 1}'], { name: 'widgets_column_${i - 1}_idx' });
  },
  async down(queryInterface) {
    await queryInterface.removeIndex('widgets', 'widgets_column_${i - 1}_idx');
  },
};
`;
}
