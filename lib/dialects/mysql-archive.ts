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

/** Rows read per statement. */
const PAGE = 5_000;
/** An INSERT is sent when its text reaches this many characters (well under the servers' smallest default max_allowed_packet, 4 MB on MySQL 5.7). */
const INSERT_CHARS = 1_000_000;

/** How a column's value is written as text and read back: binary in hex, TIMESTAMP as Unix time (time-zone free). */
function codec(type: string): { read: (quoted: string) => string; write: (literal: string) => string; plain: boolean } {
  const base = type.toLowerCase();
  if (/^(?:tiny|medium|long)?blob\b|^(?:var)?binary\b|^bit\b/.test(base)) return { read: (c) => `HEX(${c})`, write: (v) => `UNHEX(${v})`, plain: false };
  if (/^timestamp\b/.test(base)) return { read: (c) => `CAST(UNIX_TIMESTAMP(${c}) AS CHAR)`, write: (v) => `FROM_UNIXTIME(${v})`, plain: false };
  return { read: (c) => `CAST(${c} AS CHAR)`, write: (v) => v, plain: true };
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
      // The tables by a subquery with its own constant schema: a join on TABLE_SCHEMA = c.TABLE_SCHEMA makes MariaDB read
      // information_schema.TABLES of every database on the server (7 s per export at 50,000 databases).
      `SELECT c.TABLE_NAME AS \`table\`, c.COLUMN_NAME AS \`column\`, c.COLUMN_TYPE AS type
         FROM information_schema.COLUMNS c
        WHERE c.TABLE_SCHEMA = ? AND c.EXTRA NOT LIKE '%GENERATED%'
          AND c.TABLE_NAME IN (SELECT t.TABLE_NAME FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE')
        ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
      { replacements: [tenant.name, tenant.name], transaction },
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

  async *rows(tenant: TenantRef, table: ArchiveTableShape, transaction?: Transaction): AsyncGenerator<Buffer> {
    const q = (name: string) => this.#ctx.quote(name);
    const key = await this.#primaryKey(tenant, table, transaction);
    const names = table.columns.map((_c, i) => `c${i}`);
    const values = table.columns.map((c, i) => `${codec(c.type).read(q(c.name))} AS ${names[i]}`);
    const keys = key.map((k, i) => `${q(k)} AS k${i}`);
    const from = `FROM ${q(tenant.name)}.${q(table.name)}`;
    // Without a primary key: pages by offset, ordered by every column.
    const order = (key.length ? key : table.columns.map((c) => c.name)).map(q).join(', ');
    const select = (after: unknown[] | undefined, offset: number) => {
      const where = after ? `WHERE (${key.map(q).join(', ')}) > (${key.map(() => '?').join(', ')})` : '';
      const sql = `SELECT ${[...values, ...keys].join(', ')} ${from} ${where} ORDER BY ${order} LIMIT ${PAGE}${key.length ? '' : ` OFFSET ${offset}`}`;
      const page = this.#ctx.admin(sql, { replacements: after ?? [], transaction, type: QueryTypes.SELECT }) as Promise<Array<Record<string, unknown>>>;
      page.catch(() => undefined); // awaited in turn; a reader that stops early leaves it unawaited
      return page;
    };
    // The next page is asked for as soon as a page arrives, so the server reads it while this one is encoded.
    let next: Promise<Array<Record<string, unknown>>> | undefined = select(undefined, 0);
    for (let offset = 0; next; offset += PAGE) {
      const page: Array<Record<string, unknown>> = await next;
      const last = page[page.length - 1];
      next = page.length < PAGE ? undefined : select(key.map((_k, i) => last![`k${i}`]), offset + PAGE);
      let lines = '';
      const line: Array<string | null> = new Array(names.length);
      for (const row of page) {
        for (let i = 0; i < names.length; i++) line[i] = text(row[names[i]!]);
        lines += `${JSON.stringify(line)}\n`;
      }
      if (lines) yield Buffer.from(lines);
    }
  }

  /**
   * Multi-row INSERTs of about 1 MB each (the text built here, values
   * escaped by Sequelize's `escape`), the whole table in one transaction:
   * one commit (and log flush) per table, not per statement.
   */
  async load(tenant: TenantRef, table: ArchiveTableShape, rows: AsyncIterable<Buffer>, transaction?: Transaction): Promise<void> {
    const q = (name: string) => this.#ctx.quote(name);
    const writes = table.columns.map((c) => codec(c.type).write);
    // A row of plain columns whose values are strings without ' " or \ (or null), exactly one per column:
    // taken as it is (most rows); anything else is parsed and escaped.
    const value = `(?:"[^"'\\\\]*"|null)`;
    const plain = table.columns.every((c) => codec(c.type).plain) ? new RegExp(`^\\[${value}(?:,${value}){${writes.length - 1}}\\]$`) : undefined;
    const escape = (value: unknown) => (value === null ? 'NULL' : this.#ctx.sequelize.escape(value as string));
    const head = `INSERT INTO ${q(tenant.name)}.${q(table.name)} (${table.columns.map((c) => q(c.name)).join(', ')}) VALUES `;
    // One INSERT in flight while the next is built: the server inserts while this process parses and escapes.
    let sent: Promise<unknown> = Promise.resolve();
    const send = async (sql: string, into: Transaction) => {
      await sent;
      sent = this.#ctx.admin(sql, { transaction: into });
      sent.catch(() => undefined); // awaited by the next send or at the end
    };
    const insert = async (into: Transaction) => {
      let sql = '';
      for await (const chunk of rows) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line === '') continue; // after the chunk's last \n
          let tuple: string;
          if (plain?.test(line)) {
            // Strings without quotes or backslashes, and nulls: the JSON array is the SQL tuple, quotes swapped.
            tuple = `(${line.slice(1, -1).replace(/"/g, "'")})`;
          } else {
            const values = JSON.parse(line) as unknown[];
            if (!Array.isArray(values) || values.length !== writes.length) {
              throw new Error(`a row of table ${table.name} has ${Array.isArray(values) ? values.length : 'no'} values, not ${writes.length}`);
            }
            tuple = '(';
            for (let i = 0; i < writes.length; i++) tuple += (i ? ', ' : '') + (values[i] === null ? 'NULL' : writes[i]!(escape(values[i])));
            tuple += ')';
          }
          sql += (sql ? ', ' : head) + tuple;
          if (sql.length >= INSERT_CHARS) {
            await send(sql, into);
            sql = '';
          }
        }
      }
      if (sql) await send(sql, into);
      await sent;
    };
    if (transaction) return insert(transaction);
    await this.#ctx.unrouted(() => this.#ctx.sequelize.transaction((t) => insert(t)));
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
