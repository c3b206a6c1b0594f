import { createHash } from 'node:crypto';

/**
 * The tenant archive, version 2 (docs/reference/archive-format.md).
 *
 * UTF-8 text, one record per line (`\n`), optionally gzipped as a whole:
 *
 * 1. the manifest: `{"format":"sequelize-apartment-archive","version":2,...}`
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
 * they follow the rows. A table's checksum is a sum over its row lines'
 * hashes, so independent of row order: a reader checks a table it reloaded
 * by reading it back in any order. Version 2 hashes each row with
 * MurmurHash3 (`MurmurRowChecksum`); version 1, otherwise the same, with
 * SHA-256 (`Sha256RowChecksum`), and is still read.
 */
export const ARCHIVE_FORMAT = 'sequelize-apartment-archive';
/** The archive format's version; a reader refuses a later one. */
export const ARCHIVE_VERSION = 2;
/**
 * What follows the prefix in the name of a MySQL/MariaDB tenant being
 * imported (`<prefix>_import_<8 hex>`): never a tenant (keys start with a
 * letter or digit), left behind only by a process killed mid-import.
 */
export const IMPORT_MARK = '_import_';
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
const NEWLINE = 0x0a;

/**
 * The order-independent checksum of a table's row lines (see the format
 * above), fed the rows' bytes: whole rows with `row()`, or a byte stream cut
 * anywhere with `update()` (a row split across chunks is joined).
 */
export abstract class RowChecksum {
  rows = 0;
  /** The start of a row whose end is in a later chunk. */
  #carry: Buffer[] = [];

  /** The row `bytes[start, end)` (without its `\n`). */
  abstract row(bytes: Buffer, start: number, end: number): void;
  /** The checksum, 32 hex digits. */
  abstract get checksum(): string;

  /** Rows in a chunk of `\n`-ended lines, cut anywhere. */
  update(chunk: Buffer): void {
    let start = 0;
    if (this.#carry.length) {
      const end = chunk.indexOf(NEWLINE);
      if (end === -1) {
        this.#carry.push(Buffer.from(chunk));
        return;
      }
      const row = Buffer.concat([...this.#carry, chunk.subarray(0, end)]);
      this.#carry = [];
      this.row(row, 0, row.length);
      start = end + 1;
    }
    for (let end = chunk.indexOf(NEWLINE, start); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      this.row(chunk, start, end);
      start = end + 1;
    }
    if (start < chunk.length) this.#carry.push(Buffer.from(chunk.subarray(start)));
  }

  /** Rows and checksum; a last row without its `\n` counts as a row. */
  summary(): TableSummary {
    if (this.#carry.length) {
      const row = Buffer.concat(this.#carry);
      this.#carry = [];
      this.row(row, 0, row.length);
    }
    return { rows: this.rows, checksum: this.checksum };
  }
}

/** Version 1: per row, the first 16 bytes of its SHA-256 as two little-endian 64-bit numbers, each summed modulo 2^64. */
export class Sha256RowChecksum extends RowChecksum {
  #low = 0n;
  #high = 0n;

  row(bytes: Buffer, start: number, end: number): void {
    const digest = createHash('sha256').update(bytes.subarray(start, end)).digest();
    this.#low = (this.#low + digest.readBigUInt64LE(0)) & MASK;
    this.#high = (this.#high + digest.readBigUInt64LE(8)) & MASK;
    this.rows += 1;
  }

  get checksum(): string {
    return this.#low.toString(16).padStart(16, '0') + this.#high.toString(16).padStart(16, '0');
  }
}

/** MurmurHash3's final mix (fmix32). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Version 2: per row, MurmurHash3_x86_32 of its bytes with the seeds 0, 1,
 * 2 and 3, each summed modulo 2^32; the four sums as 8 hex digits each,
 * seed 0 first. The four hashes share one pass over the bytes (the block
 * mix does not depend on the seed). About twenty times cheaper than
 * version 1's SHA-256 per row; like it, it detects damage, not tampering.
 */
export class MurmurRowChecksum extends RowChecksum {
  #sums = [0, 0, 0, 0];

  row(b: Buffer, start: number, end: number): void {
    let h0 = 0;
    let h1 = 1;
    let h2 = 2;
    let h3 = 3;
    let i = start;
    const blocks = start + ((end - start) & ~3);
    for (; i < blocks; i += 4) {
      let k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h0 ^= k;
      h0 = (h0 << 13) | (h0 >>> 19);
      h0 = (Math.imul(h0, 5) + 0xe6546b64) | 0;
      h1 ^= k;
      h1 = (h1 << 13) | (h1 >>> 19);
      h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
      h2 ^= k;
      h2 = (h2 << 13) | (h2 >>> 19);
      h2 = (Math.imul(h2, 5) + 0xe6546b64) | 0;
      h3 ^= k;
      h3 = (h3 << 13) | (h3 >>> 19);
      h3 = (Math.imul(h3, 5) + 0xe6546b64) | 0;
    }
    const rest = end - i;
    if (rest > 0) {
      let k = b[i]!;
      if (rest > 1) k ^= b[i + 1]! << 8;
      if (rest > 2) k ^= b[i + 2]! << 16;
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h0 ^= k;
      h1 ^= k;
      h2 ^= k;
      h3 ^= k;
    }
    const length = end - start;
    const sums = this.#sums;
    sums[0] = (sums[0]! + fmix32(h0 ^ length)) >>> 0;
    sums[1] = (sums[1]! + fmix32(h1 ^ length)) >>> 0;
    sums[2] = (sums[2]! + fmix32(h2 ^ length)) >>> 0;
    sums[3] = (sums[3]! + fmix32(h3 ^ length)) >>> 0;
    this.rows += 1;
  }

  get checksum(): string {
    return this.#sums.map((s) => s.toString(16).padStart(8, '0')).join('');
  }
}

/** The row checksum of an archive format version (1 or 2). */
export function rowChecksum(version: number): RowChecksum {
  return version === 1 ? new Sha256RowChecksum() : new MurmurRowChecksum();
}

/** MurmurHash3_x86_32 of `bytes` with `seed` (the per-row hash of version 2, one seed at a time; for tests and other readers). */
export function murmur3(bytes: Buffer, seed: number): number {
  let h = seed | 0;
  let i = 0;
  const blocks = bytes.length & ~3;
  for (; i < blocks; i += 4) {
    let k = bytes.readInt32LE(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let j = bytes.length - 1; j >= i; j--) k = (k << 8) | bytes[j]!;
  if (bytes.length > i) {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  return fmix32(h ^ bytes.length);
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
