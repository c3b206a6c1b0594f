import { QueryTypes, Transaction, type Sequelize } from 'sequelize';
import type { TenantRef } from '../tenant';
import type { ArchiveOperations, ArchiveTableShape } from './contract';
import { shapes } from './postgres-archive';

/** What the MySQL/MariaDB archive needs from its adapter. */
export interface MysqlArchiveContext {
  sequelize: Sequelize;
  quote(name: string): string;
  admin(sql: string, options?: { transaction?: Transaction; replacements?: unknown[]; type?: string }): Promise<any>;
  unrouted<T>(fn: () => Promise<T>): Promise<T>;
}

/** Rows read (and inserted) per statement. */
const PAGE = 2_000;
const INSERT_BATCH = 500;

/** How a column's value is written as text and read back: binary in hex, TIMESTAMP as Unix time (time-zone free). */
function codec(type: string): { read: (quoted: string) => string; write: string } {
  const base = type.toLowerCase();
  if (/^(?:tiny|medium|long)?blob\b|^(?:var)?binary\b|^bit\b/.test(base)) return { read: (c) => `HEX(${c})`, write: 'UNHEX(?)' };
  if (/^timestamp\b/.test(base)) return { read: (c) => `CAST(UNIX_TIMESTAMP(${c}) AS CHAR)`, write: 'FROM_UNIXTIME(?)' };
  return { read: (c) => `CAST(${c} AS CHAR)`, write: '?' };
}

/**
 * MySQL/MariaDB: rows are read in pages by primary key (keyset pagination,
 * so memory stays flat) inside one REPEATABLE READ transaction started
 * `WITH CONSISTENT SNAPSHOT` (InnoDB's read view for every table); each
 * row is a JSON array of text values. Imports insert in batches.
 */
export class MysqlArchive implements ArchiveOperations {
  readonly encoding = 'mysql-json';
  readonly transactional = false;
  readonly #ctx: MysqlArchiveContext;

  constructor(ctx: MysqlArchiveContext) {
    this.#ctx = ctx;
  }

  snapshot<T>(_tenant: TenantRef, fn: (transaction: Transaction) => Promise<T>): Promise<T> {
    return this.#ctx.unrouted(() =>
      this.#ctx.sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.REPEATABLE_READ }, async (transaction) => {
        // Sequelize has sent a plain START TRANSACTION, whose read view would only be fixed by the first InnoDB read.
        // This one (on the same connection: it ends that empty transaction) fixes it now, for every table alike;
        // Sequelize's COMMIT or ROLLBACK ends it.
        await this.#ctx.admin('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY', { transaction });
        return fn(transaction);
      }),
    );
  }

  async serverVersion(transaction?: Transaction): Promise<string> {
    const [rows] = await this.#ctx.admin('SELECT VERSION() AS version', { transaction });
    return String((rows as Array<{ version: string }>)[0]?.version);
  }

  async tables(tenant: TenantRef, skip: readonly string[], transaction?: Transaction): Promise<ArchiveTableShape[]> {
    const [columns] = await this.#ctx.admin(
      `SELECT c.TABLE_NAME AS \`table\`, c.COLUMN_NAME AS \`column\`, c.COLUMN_TYPE AS type
         FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
        WHERE c.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE' AND c.EXTRA NOT LIKE '%GENERATED%'
        ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
      { replacements: [tenant.name], transaction },
    );
    const [references] = await this.#ctx.admin(
      `SELECT TABLE_NAME AS \`from\`, REFERENCED_TABLE_NAME AS \`to\` FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_SCHEMA = TABLE_SCHEMA`,
      { replacements: [tenant.name], transaction },
    );
    return shapes(columns, references, skip);
  }

  async #primaryKey(tenant: TenantRef, table: ArchiveTableShape, transaction?: Transaction): Promise<string[]> {
    const [rows] = await this.#ctx.admin(
      "SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
      { replacements: [tenant.name, table.name], transaction },
    );
    return (rows as Array<{ name: string }>).map((r) => r.name);
  }

  async *rows(tenant: TenantRef, table: ArchiveTableShape, transaction?: Transaction): AsyncGenerator<string> {
    const q = (name: string) => this.#ctx.quote(name);
    const key = await this.#primaryKey(tenant, table, transaction);
    const values = table.columns.map((c, i) => `${codec(c.type).read(q(c.name))} AS c${i}`);
    const keys = key.map((k, i) => `${q(k)} AS k${i}`);
    const from = `FROM ${q(tenant.name)}.${q(table.name)}`;
    // Without a primary key: pages by offset, ordered by every column.
    const order = (key.length ? key : table.columns.map((c) => c.name)).map(q).join(', ');
    let after: unknown[] | undefined;
    let offset = 0;
    for (;;) {
      const where = after ? `WHERE (${key.map(q).join(', ')}) > (${key.map(() => '?').join(', ')})` : '';
      const sql = `SELECT ${[...values, ...keys].join(', ')} ${from} ${where} ORDER BY ${order} LIMIT ${PAGE}${key.length ? '' : ` OFFSET ${offset}`}`;
      const page = (await this.#ctx.admin(sql, { replacements: after ?? [], transaction, type: QueryTypes.SELECT })) as Array<Record<string, unknown>>;
      for (const row of page) yield JSON.stringify(table.columns.map((_c, i) => text(row[`c${i}`])));
      if (page.length < PAGE) return;
      const last = page[page.length - 1]!;
      after = key.map((_k, i) => last[`k${i}`]);
      offset += PAGE;
    }
  }

  async load(tenant: TenantRef, table: ArchiveTableShape, rows: AsyncIterable<string>, transaction?: Transaction): Promise<void> {
    const q = (name: string) => this.#ctx.quote(name);
    const placeholders = `(${table.columns.map((c) => codec(c.type).write).join(', ')})`;
    const head = `INSERT INTO ${q(tenant.name)}.${q(table.name)} (${table.columns.map((c) => q(c.name)).join(', ')}) VALUES `;
    let batch: unknown[] = [];
    let count = 0;
    const flush = async () => {
      if (count === 0) return;
      await this.#ctx.admin(head + Array(count).fill(placeholders).join(', '), { replacements: batch, transaction });
      batch = [];
      count = 0;
    };
    for await (const line of rows) {
      const values = JSON.parse(line) as unknown[];
      if (!Array.isArray(values) || values.length !== table.columns.length) {
        throw new Error(`a row of table ${table.name} has ${Array.isArray(values) ? values.length : 'no'} values, not ${table.columns.length}`);
      }
      for (const value of values) batch.push(value);
      count += 1;
      if (count >= INSERT_BATCH) await flush();
    }
    await flush();
  }

  async resetCounters(tenant: TenantRef, transaction?: Transaction): Promise<void> {
    const [rows] = await this.#ctx.admin(
      "SELECT TABLE_NAME AS `table`, COLUMN_NAME AS `column` FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND EXTRA LIKE '%auto_increment%'",
      { replacements: [tenant.name], transaction },
    );
    const q = (name: string) => this.#ctx.quote(name);
    for (const r of rows as Array<{ table: string; column: string }>) {
      const table = `${q(tenant.name)}.${q(r.table)}`;
      const [max] = await this.#ctx.admin(`SELECT COALESCE(MAX(${q(r.column)}), 0) + 1 AS next FROM ${table}`, { transaction });
      const next = Number((max as Array<{ next: unknown }>)[0]?.next ?? 1);
      await this.#ctx.admin(`ALTER TABLE ${table} AUTO_INCREMENT = ${Math.max(1, Math.trunc(next))}`, { transaction });
    }
  }
}

/** A value read with CAST(... AS CHAR) as text (drivers may still hand back Buffers). */
function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}
