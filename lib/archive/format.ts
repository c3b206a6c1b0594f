import { createHash } from 'node:crypto';

/**
 * The tenant archive, version 1 (docs/guides/backup-restore-clone-suspend.md).
 *
 * UTF-8 text, one record per line (`\n`), optionally gzipped as a whole:
 *
 * 1. the manifest: `{"format":"sequelize-apartment-archive","version":1,...}`
 *    (package version, dialect, server version, tenant, applied migrations
 *    and seeders, every table with its columns, in load order);
 * 2. for each table: a line `{"table":"widgets"}`, its rows one per line in
 *    the dialect's row encoding (PostgreSQL: COPY text format; MySQL/MariaDB:
 *    a JSON array of text values, `null`, or `{"hex":"..."}` for binary
 *    columns), the line `\.` (never a row in either encoding), and a line
 *    `{"table":"widgets","rows":1000,"checksum":"<32 hex>"}`;
 * 3. the trailer: `{"end":true,"tables":{"widgets":{"rows":1000,"checksum":"..."}}}`.
 *
 * Row counts and checksums are known only once the rows have streamed, so
 * they follow the rows. A table's checksum is the sum, modulo 2^128, of the
 * first 16 bytes (as two little-endian 64-bit halves, each summed modulo
 * 2^64) of the SHA-256 of each row line: independent of row order, so a
 * reader checks a table it reloaded by reading it back in any order.
 */
export const ARCHIVE_FORMAT = 'sequelize-apartment-archive';
/** The archive format's version; a reader refuses a later one. */
export const ARCHIVE_VERSION = 1;
/** The line that ends a table's rows. */
export const END_OF_ROWS = '\\.';

/** A column of an archived table, in the table's column order. */
export interface ArchiveColumn {
  /** The column's name. */
  readonly name: string;
  /** The column's type as the server names it (`integer`, `jsonb`, `varchar(255)`, `longblob`...). */
  readonly type: string;
}

/** A table of the archive's manifest: its rows follow in the archive, in manifest order. */
export interface ArchiveTable {
  /** The table's name (without the tenant's schema/database). */
  readonly name: string;
  /** Its columns, in the order each row lists their values. */
  readonly columns: readonly ArchiveColumn[];
}

/** The first line of an archive. */
export interface ArchiveManifest {
  readonly format: typeof ARCHIVE_FORMAT;
  readonly version: number;
  /** `sequelize-apartment@<version>` that wrote it. */
  readonly package: string;
  readonly dialect: 'postgres' | 'mysql';
  /** The server's version string (`SHOW server_version` / `SELECT VERSION()`). */
  readonly server: string;
  /** How rows are written: `'pg-copy-text'` or `'mysql-json'`. */
  readonly encoding: string;
  /** The tenant key exported, and its schema/database name. */
  readonly tenant: string;
  readonly schema: string;
  /** When the snapshot was taken (ISO 8601). */
  readonly createdAt: string;
  /** Applied tenant migrations (SequelizeMeta) and seeders (SequelizeData), sorted. */
  readonly migrations: readonly string[];
  readonly seeders: readonly string[];
  /** Every table but the two above, parents before the tables that reference them. */
  readonly tables: readonly ArchiveTable[];
}

/** What each table's end line and the trailer record. */
export interface TableSummary {
  readonly rows: number;
  readonly checksum: string;
}

const MASK = (1n << 64n) - 1n;

/** The order-independent checksum of a table's row lines (see the format above). */
export class RowChecksum {
  #low = 0n;
  #high = 0n;
  rows = 0;

  add(line: string): void {
    const digest = createHash('sha256').update(line).digest();
    this.#low = (this.#low + digest.readBigUInt64LE(0)) & MASK;
    this.#high = (this.#high + digest.readBigUInt64LE(8)) & MASK;
    this.rows += 1;
  }

  get checksum(): string {
    return this.#low.toString(16).padStart(16, '0') + this.#high.toString(16).padStart(16, '0');
  }

  summary(): TableSummary {
    return { rows: this.rows, checksum: this.checksum };
  }
}

/** Orders tables so that every table comes after the tables it references (cycles and self-references keep their place). */
export function loadOrder(tables: readonly string[], references: ReadonlyArray<{ from: string; to: string }>): string[] {
  const names = [...tables].sort();
  const parents = new Map(names.map((n) => [n, new Set<string>()]));
  for (const { from, to } of references) if (from !== to && parents.has(from) && parents.has(to)) parents.get(from)!.add(to);
  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string) => {
    if (state.get(name)) return; // done, or a cycle: keep going
    state.set(name, 'visiting');
    for (const parent of [...parents.get(name)!].sort()) visit(parent);
    state.set(name, 'done');
    ordered.push(name);
  };
  for (const name of names) visit(name);
  return ordered;
}
