import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Transaction, type Sequelize } from 'sequelize';
import { loadOrder } from '../archive/format';
import type { TenantRef } from '../tenant';
import type { ArchiveOperations, ArchiveTableShape } from './contract';
import { pgCopyStreams } from '../seam/pg';
import { transactionConnection } from '../seam/sequelize';

/** What the PostgreSQL archive needs from its adapter. */
export interface PostgresArchiveContext {
  sequelize: Sequelize;
  quote(name: string): string;
  /** A statement with routing off (catalog reads). */
  admin(sql: string, options?: { transaction?: Transaction; replacements?: unknown[] }): Promise<any>;
  /** A statement with `tenant` in context: search_path and, with roles, the tenant role are set for it (and stay set in `transaction`). */
  inTenant(tenant: TenantRef, sql: string, options?: { transaction?: Transaction; replacements?: unknown[] }): Promise<any>;
  unrouted<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Settings that make COPY's text output the same on every server and
 * session (time zone, date and interval styles, float digits, bytea as hex),
 * set for the transaction only.
 */
const STABLE_TEXT = "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'";

/**
 * PostgreSQL: rows travel in COPY's text format through `pg-copy-streams`
 * (an optional peer dependency), on the driver connection of the
 * transaction, after a routed statement has set the tenant's search_path and
 * (isolation: 'role') role for the transaction.
 */
export class PostgresArchive implements ArchiveOperations {
  readonly encoding = 'pg-copy-text';
  readonly transactional = true;
  readonly #ctx: PostgresArchiveContext;

  constructor(ctx: PostgresArchiveContext) {
    this.#ctx = ctx;
  }

  snapshot<T>(tenant: TenantRef, fn: (transaction: Transaction) => Promise<T>): Promise<T> {
    pgCopyStreams(); // a missing package fails before the transaction starts
    return this.#ctx.unrouted(() =>
      this.#ctx.sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.REPEATABLE_READ }, async (transaction) => {
        await this.#ctx.admin('SET TRANSACTION READ ONLY', { transaction });
        await this.#enter(tenant, transaction);
        return fn(transaction);
      }),
    );
  }

  /** Stable text settings, then a routed statement: the transaction is in the tenant (search_path, role) from here on. */
  async #enter(tenant: TenantRef, transaction: Transaction): Promise<void> {
    await this.#ctx.admin(STABLE_TEXT, { transaction });
    await this.#ctx.inTenant(tenant, 'SELECT 1', { transaction });
  }

  async serverVersion(transaction?: Transaction): Promise<string> {
    const [rows] = await this.#ctx.admin('SHOW server_version', { transaction });
    return String((rows as Array<{ server_version: string }>)[0]?.server_version);
  }

  async tables(tenant: TenantRef, skip: readonly string[], transaction?: Transaction): Promise<ArchiveTableShape[]> {
    const [columns] = await this.#ctx.admin(
      `SELECT c.relname AS "table", a.attname AS "column", pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        WHERE n.nspname = ? AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname, a.attnum`,
      { replacements: [tenant.name], transaction },
    );
    const [references] = await this.#ctx.admin(
      `SELECT s.relname AS "from", d.relname AS "to" FROM pg_catalog.pg_constraint k
         JOIN pg_catalog.pg_class s ON s.oid = k.conrelid JOIN pg_catalog.pg_class d ON d.oid = k.confrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace
        WHERE k.contype = 'f' AND n.nspname = ? AND d.relnamespace = s.relnamespace`,
      { replacements: [tenant.name], transaction },
    );
    return shapes(columns, references, skip);
  }

  /** COPY's bytes as they arrive, unparsed (the archive's row encoding is COPY's). */
  async *rows(tenant: TenantRef, table: ArchiveTableShape, transaction?: Transaction): AsyncGenerator<Buffer> {
    const connection = transactionConnection(transaction!);
    await this.#enter(tenant, transaction!);
    const stream = connection.query(pgCopyStreams().to(`COPY (SELECT ${this.#columns(table)} FROM ${this.#table(tenant, table)}) TO STDOUT`));
    let ended = false;
    try {
      for await (const chunk of stream) yield chunk as Buffer;
      ended = true;
    } finally {
      // A reader that stops early (the destination failed): the COPY is read to its end, so the
      // connection is free for the ROLLBACK that follows instead of waiting on a paused COPY forever.
      if (!ended && !stream.destroyed) {
        stream.resume();
        await finished(stream).catch(() => undefined);
      }
    }
  }

  async load(tenant: TenantRef, table: ArchiveTableShape, rows: AsyncIterable<Buffer>, transaction?: Transaction): Promise<void> {
    const connection = transactionConnection(transaction!);
    await this.#enter(tenant, transaction!);
    const stream = connection.query(pgCopyStreams().from(`COPY ${this.#table(tenant, table)} (${this.#columns(table)}) FROM STDIN`));
    const done = finished(stream);
    done.catch(() => undefined); // awaited below; an early failure must not be unhandled meanwhile
    try {
      // The archive's lines are COPY's own: passed through as they are.
      for await (const chunk of rows) {
        if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), done]);
      }
      stream.end();
    } catch (error) {
      stream.destroy(error as Error);
      await done.catch(() => undefined);
      throw error;
    }
    await done;
  }

  async resetCounters(tenant: TenantRef, transaction?: Transaction): Promise<void> {
    // Sequences owned by a column (serial, identity): past the column's highest value.
    const [rows] = await this.#ctx.admin(
      `SELECT t.relname AS "table", a.attname AS "column", s.oid::regclass::text AS sequence
         FROM pg_catalog.pg_depend d
         JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
         JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
         JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
         JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') AND n.nspname = ?`,
      { replacements: [tenant.name], transaction },
    );
    const owned = rows as Array<{ table: string; column: string; sequence: string }>;
    if (!owned.length) return;
    const q = (name: string) => this.#ctx.quote(name);
    // The highest ids first, then the sequences set in a statement that reads no table: Citus routes a statement
    // that reads a tenant's (distributed) table to its worker, setval() included, which would set the worker's copy
    // of the sequence instead of the coordinator's that the column defaults draw from.
    const [[next]] = await this.#ctx.inTenant(
      tenant,
      `SELECT ${owned.map((r, i) => `COALESCE((SELECT max(${q(r.column)}) FROM ${q(tenant.name)}.${q(r.table)}), 0) + 1 AS "${i}"`).join(', ')}`,
      { transaction },
    );
    const escape = (value: unknown) => this.#ctx.sequelize.escape(String(value));
    await this.#ctx.inTenant(tenant, `SELECT ${owned.map((r, i) => `pg_catalog.setval(${escape(r.sequence)}, ${escape(next[i])}, false)`).join(', ')}`, { transaction });
  }

  #table(tenant: TenantRef, table: ArchiveTableShape): string {
    return `${this.#ctx.quote(tenant.name)}.${this.#ctx.quote(table.name)}`;
  }

  #columns(table: ArchiveTableShape): string {
    return table.columns.map((c) => this.#ctx.quote(c.name)).join(', ');
  }
}

/** Tables with their columns from catalog rows, minus `skip`, in load order. */
export function shapes(
  columns: Array<{ table: string; column: string; type: string }>,
  references: Array<{ from: string; to: string }>,
  skip: readonly string[],
): ArchiveTableShape[] {
  const byTable = new Map<string, Array<{ name: string; type: string }>>();
  for (const row of columns) {
    if (skip.includes(row.table)) continue;
    let list = byTable.get(row.table);
    if (!list) byTable.set(row.table, (list = []));
    list.push({ name: row.column, type: row.type });
  }
  return loadOrder([...byTable.keys()], references).map((name) => ({ name, columns: byTable.get(name)! }));
}
