import { Transaction, type Sequelize } from 'sequelize';
import { Readable } from 'node:stream';
import { driverLoadData, driverQuery, localInfileRefused } from '../seam/mysql';
import { pooledConnection, releasePooledConnection, transactionConnection } from '../seam/sequelize';
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
/** LOAD DATA's text is sent in pieces of about this many characters (at most 4 bytes each: well under max_allowed_packet). */
const LOAD_PIECE = 256_000;
/** An INSERT is sent when its text reaches this many characters (well under the servers' smallest default max_allowed_packet, 4 MB on MySQL 5.7). */
const INSERT_CHARS = 1_000_000;

/** How a column's value is written as text and read back: binary in hex, TIMESTAMP as Unix time (time-zone free). */
function codec(type: string): { read: (quoted: string) => string; write: (literal: string) => string; plain: boolean } {
  const base = type.toLowerCase();
  if (/^(?:tiny|medium|long)?blob\b|^(?:var)?binary\b|^bit\b/.test(base)) return { read: (c) => `HEX(${c})`, write: (v) => `UNHEX(${v})`, plain: false };
  if (/^timestamp\b/.test(base)) return { read: (c) => `CAST(UNIX_TIMESTAMP(${c}) AS CHAR)`, write: (v) => `FROM_UNIXTIME(${v})`, plain: false };
  return { read: (c) => `CAST(${c} AS CHAR)`, write: (v) => v, plain: true };
}

/** LOAD DATA's escapes (its default ESCAPED BY '\\') of the characters that would end a field or a line. */
const LOAD_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };

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

  /**
   * Pages of rows, each row's line built by the server (`JSON_QUOTE` per
   * value) and read as one text value per row, on the driver connection of
   * the transaction (or, without one, of the pool): no row object, no
   * per-value decoding, no Sequelize result handling (most of an export's
   * CPU time before). A line with a backslash (an escape: a quote, a
   * backslash or a control character in a value) is re-encoded here with
   * `JSON.stringify`, whose escaping the archive keeps (servers differ:
   * MariaDB writes `\u001B` where `JSON.stringify` writes `\u001b`).
   */
  async *rows(tenant: TenantRef, table: ArchiveTableShape, transaction?: Transaction): AsyncGenerator<Buffer> {
    const q = (name: string) => this.#ctx.quote(name);
    const key = await this.#primaryKey(tenant, table, transaction);
    const own = transaction ? undefined : await pooledConnection(this.#ctx.sequelize);
    const connection = own ?? transactionConnection(transaction!);
    const line = `CONCAT('[', CONCAT_WS(',', ${table.columns.map((c) => `IFNULL(JSON_QUOTE(${codec(c.type).read(q(c.name))}), 'null')`).join(', ')}), ']')`;
    const from = `FROM ${q(tenant.name)}.${q(table.name)}`;
    // Without a primary key: pages by offset, ordered by every column.
    const order = (key.length ? key : table.columns.map((c) => c.name)).map(q).join(', ');
    const select = (after: unknown[] | undefined, offset: number) => {
      const where = after ? `WHERE (${key.map(q).join(', ')}) > (${key.map(() => '?').join(', ')})` : '';
      // The key's own values (not their text) follow the line: the next page starts after them.
      const sql = `SELECT ${[line, ...key.map(q)].join(', ')} ${from} ${where} ORDER BY ${order} LIMIT ${PAGE}${key.length ? '' : ` OFFSET ${offset}`}`;
      const page = driverQuery(connection, sql, { values: after, rowsAsArray: true }) as Promise<unknown[][]>;
      page.catch(() => undefined); // awaited in turn; a reader that stops early leaves it unawaited
      return page;
    };
    // The next page is asked for as soon as a page arrives, so the server reads it while this one is encoded.
    let next: Promise<unknown[][]> | undefined;
    try {
      next = select(undefined, 0);
      for (let offset = 0; next; offset += PAGE) {
        const page: unknown[][] = await next;
        const last = page[page.length - 1];
        next = page.length < PAGE ? undefined : select(last!.slice(1), offset + PAGE);
        const lines: string[] = new Array(page.length + 1);
        for (let r = 0; r < page.length; r++) {
          let text = page[r]![0];
          if (typeof text !== 'string') {
            // CONCAT is NULL only past max_allowed_packet (the server warns and returns NULL).
            if (text === null || text === undefined) throw new Error(`a row of table ${table.name} is longer than the server's max_allowed_packet once encoded; raise max_allowed_packet and export again`);
            text = Buffer.isBuffer(text) ? text.toString('utf8') : String(text);
          }
          lines[r] = (text as string).indexOf('\\') === -1 ? (text as string) : JSON.stringify(JSON.parse(text as string));
        }
        lines[page.length] = '';
        if (page.length) yield Buffer.from(lines.join('\n'));
      }
    } finally {
      if (own) {
        await next?.catch(() => undefined); // a page still coming (the reader stopped early) arrives before the connection goes back
        releasePooledConnection(this.#ctx.sequelize, own);
      }
    }
  }

  /**
   * Loads a table in one transaction: one commit (and log flush) per table,
   * not per statement. With mysql2 and a server that takes local files:
   * one `LOAD DATA LOCAL INFILE`, the rows turned into its tab-separated
   * text as they stream (the server parses no SQL per row: about half the
   * server's time of INSERTs). With LOCAL the server takes what INSERT
   * would refuse with a warning (a value cut, a duplicate key skipped): the
   * import's read-back check refuses any such table. Otherwise multi-row INSERTs of
   * about 1 MB each (the text built here, values escaped by Sequelize's
   * `escape`).
   */
  async load(tenant: TenantRef, table: ArchiveTableShape, rows: AsyncIterable<Buffer>, transaction?: Transaction): Promise<void> {
    const run = async (into: Transaction) => {
      if (this.#localInfile && (await this.#loadData(tenant, table, rows, into))) return;
      await this.#insert(tenant, table, rows, into);
    };
    if (transaction) return run(transaction);
    await this.#ctx.unrouted(() => this.#ctx.sequelize.transaction((t) => run(t)));
  }

  /** False until a server refuses local files: then INSERTs from the next table on. */
  #localInfile = true;

  /** `LOAD DATA LOCAL INFILE`: true when loaded; false (nothing read from `rows`) when the driver or the server does not take local files. */
  async #loadData(tenant: TenantRef, table: ArchiveTableShape, rows: AsyncIterable<Buffer>, into: Transaction): Promise<boolean> {
    const q = (name: string) => this.#ctx.quote(name);
    const connection = transactionConnection(into);
    const n = table.columns.length;
    // Binary and TIMESTAMP columns go through a variable and their codec; the others straight into the column.
    const targets = table.columns.map((c, i) => (codec(c.type).plain ? q(c.name) : `@c${i}`));
    const sets = table.columns.flatMap((c, i) => (codec(c.type).plain ? [] : [`${q(c.name)} = ${codec(c.type).write(`@c${i}`)}`]));
    // Default FIELDS/LINES (tab, backslash escapes, \N for NULL, \n): no literal whose reading depends on sql_mode.
    const sql = `LOAD DATA LOCAL INFILE 'archive' INTO TABLE ${q(tenant.name)}.${q(table.name)} CHARACTER SET utf8mb4 (${targets.join(', ')})${sets.length ? ` SET ${sets.join(', ')}` : ''}`;
    // A row of strings without " or \ (so without escapes, tabs or line ends) and no null: its tab-separated text is the
    // JSON array's inside with "," turned into tabs. Anything else is parsed and escaped.
    const plain = new RegExp(`^\\["[^"\\\\]*"(?:,"[^"\\\\]*"){${n - 1}}\\]$`);
    // In pieces of about LOAD_PIECE characters whatever the source's chunks (a piece is one packet: under max_allowed_packet).
    async function* text(): AsyncGenerator<Buffer> {
      let piece: string[] = [];
      let size = 0;
      for await (const chunk of rows) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line === '') continue; // after the chunk's last \n
          let fields: string;
          if (plain.test(line)) {
            fields = line.slice(2, -2).replaceAll('","', '\t');
          } else {
            fields = rowValues(line, n, table.name).map((v) => (v === null ? '\\N' : String(v).replace(/[\\\t\n\r\0]/g, (c) => LOAD_ESCAPES[c]!))).join('\t');
          }
          piece.push(fields);
          size += fields.length + 1;
          if (size >= LOAD_PIECE) {
            piece.push('');
            yield Buffer.from(piece.join('\n'));
            piece = [];
            size = 0;
          }
        }
      }
      if (piece.length) {
        piece.push('');
        yield Buffer.from(piece.join('\n'));
      }
    }
    let started = false;
    const loading = driverLoadData(connection, sql, () => {
      started = true;
      return Readable.from(text());
    });
    if (!loading) return (this.#localInfile = false);
    try {
      await loading;
    } catch (error) {
      if (started || !localInfileRefused(error)) throw error;
      return (this.#localInfile = false);
    }
    return true;
  }

  /** Multi-row INSERTs of about 1 MB each, one in flight while the next is built. */
  async #insert(tenant: TenantRef, table: ArchiveTableShape, rows: AsyncIterable<Buffer>, into: Transaction): Promise<void> {
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
    // Sent on the transaction's driver connection: Sequelize would scan each 1 MB statement's text again.
    const connection = transactionConnection(into);
    const send = async (sql: string) => {
      await sent;
      sent = driverQuery(connection, sql);
      sent.catch(() => undefined); // awaited by the next send or at the end
    };
    let sql = '';
    for await (const chunk of rows) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue; // after the chunk's last \n
        let tuple: string;
        if (plain?.test(line)) {
          // Strings without quotes or backslashes, and nulls: the JSON array is the SQL tuple, quotes swapped.
          tuple = `(${line.slice(1, -1).replace(/"/g, "'")})`;
        } else {
          const values = rowValues(line, writes.length, table.name);
          tuple = '(';
          for (let i = 0; i < writes.length; i++) tuple += (i ? ', ' : '') + (values[i] === null ? 'NULL' : writes[i]!(escape(values[i])));
          tuple += ')';
        }
        sql += (sql ? ', ' : head) + tuple;
        if (sql.length >= INSERT_CHARS) {
          await send(sql);
          sql = '';
        }
      }
    }
    if (sql) await send(sql);
    await sent;
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

/** The values of an archive row's line (a JSON array), which must hold one per column. */
function rowValues(line: string, columns: number, table: string): unknown[] {
  const values = JSON.parse(line) as unknown[];
  if (!Array.isArray(values) || values.length !== columns) {
    throw new Error(`a row of table ${table} has ${Array.isArray(values) ? values.length : 'no'} values, not ${columns}`);
  }
  return values;
}
