import { QueryTypes, type Sequelize } from 'sequelize';
import type { DialectHarness } from '../support/dialects';

/** Catalog reads (information_schema / pg_catalog) for what tenant migrations made. */
export class Catalog {
  readonly #d: DialectHarness;
  readonly #s: Sequelize;

  constructor(d: DialectHarness, sequelize: Sequelize) {
    this.#d = d;
    this.#s = sequelize;
  }

  async #rows<T = Record<string, any>>(sql: string, replacements: unknown[]): Promise<T[]> {
    // SELECT-typed: an untyped raw query on a plain Sequelize fails with the mariadb driver 3.1+ (sequelize#15701).
    return (await this.#s.query(sql, { replacements, type: QueryTypes.SELECT })) as T[];
  }

  async columns(schema: string, table: string): Promise<string[]> {
    const rows = await this.#rows<{ name: string }>(
      'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY 1',
      [schema, table],
    );
    return rows.map((r) => r.name);
  }

  /** ENUM type names in a schema (PostgreSQL; MySQL has no separate types). */
  async enums(schema: string): Promise<string[]> {
    if (this.#d.name !== 'postgres') return [];
    const rows = await this.#rows<{ name: string }>(
      "SELECT t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND n.nspname = ? ORDER BY 1",
      [schema],
    );
    return rows.map((r) => r.name);
  }

  /** Names of the (non-primary) indexes on a table. */
  async indexes(schema: string, table: string): Promise<string[]> {
    const rows = await this.#rows<{ name: string }>(
      this.#d.name === 'postgres'
        ? "SELECT indexname AS name FROM pg_indexes WHERE schemaname = ? AND tablename = ? AND indexname NOT LIKE '%_pkey' ORDER BY 1"
        : "SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY' ORDER BY 1",
      [schema, table],
    );
    return rows.map((r) => r.name);
  }

  /** Foreign keys of the tables in a schema: `table.column -> schema.table`. */
  async foreignKeys(schema: string): Promise<string[]> {
    const rows = await this.#rows<{ fk: string }>(
      this.#d.name === 'postgres'
        ? `SELECT t.relname || '.' || a.attname || ' -> ' || n2.nspname || '.' || t2.relname AS fk
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
             JOIN pg_class t2 ON t2.oid = c.confrelid JOIN pg_namespace n2 ON n2.oid = t2.relnamespace
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND n.nspname = ? ORDER BY 1`
        : `SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME, ' -> ', REFERENCED_TABLE_SCHEMA, '.', REFERENCED_TABLE_NAME) AS fk
             FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY 1`,
      [schema],
    );
    return rows.map((r) => r.fk);
  }

  /** Named constraints (unique, foreign key) of a table. */
  async constraints(schema: string, table: string): Promise<string[]> {
    const rows = await this.#rows<{ name: string }>(
      "SELECT constraint_name AS name FROM information_schema.table_constraints WHERE table_schema = ? AND table_name = ? AND constraint_type IN ('UNIQUE', 'FOREIGN KEY') ORDER BY 1",
      [schema, table],
    );
    return rows.map((r) => r.name);
  }

  /** Tables, enum types and indexes whose name starts with `prefix` in a schema. */
  async objectsLike(schema: string, prefix: string): Promise<string[]> {
    const tables = (await this.#d.tables(schema)).filter((t) => t.startsWith(prefix));
    const enums = (await this.enums(schema)).filter((t) => t.startsWith(`enum_${prefix}`));
    return [...tables, ...enums.map((e) => `type ${e}`)];
  }
}
