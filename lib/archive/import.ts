import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Transaction } from 'sequelize';
import type { Apartment } from '../apartment';
import type { ArchiveTableShape } from '../dialects/contract';
import { ArchiveError, ConfigurationError, TenantExistsError, describeValue, sentence } from '../errors';
import { DATA_TABLE, META_TABLE, TenantMetaStorage } from '../migrations/storage';
import type { TenantRef } from '../tenant';
import type { ArchiveProgress } from './export';
import { ARCHIVE_FORMAT, ARCHIVE_VERSION, IMPORT_MARK, rowChecksum, type ArchiveManifest, type RowChecksum, type TableSummary } from './format';

/** Options of `importTenant`. */
export interface ImportOptions {
  /** Called after each table (and every 10,000 rows) with what is done so far. */
  onProgress?: (progress: ArchiveProgress) => void;
}

/** What `importTenant` created. */
export interface ImportResult {
  readonly tenant: string;
  /** The archive's manifest (where it came from: tenant, server, package, time). */
  readonly manifest: ArchiveManifest;
  /** Rows and checksum of every table, read back from the new tenant. */
  readonly tables: Readonly<Record<string, TableSummary>>;
  readonly rows: number;
}

/** The source's bytes, gunzipped when they start with gzip's magic number. */
async function* bytes(source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = Buffer.isBuffer(first.value) ? first.value : Buffer.from(first.value);
  const all = (async function* () {
    yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
  })();
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    yield* all;
    return;
  }
  const gunzip = createGunzip();
  pipeline(Readable.from(all), gunzip, () => undefined);
  yield* gunzip;
}

function openSource(source: unknown, tenant: string): AsyncIterable<Buffer | string> {
  if (typeof source === 'string' && source !== '') {
    if (!fs.existsSync(source)) throw new ConfigurationError(`The archive file ${source} does not exist, so tenant '${tenant}' was not imported. Check the path.`, { tenant });
    return Object.assign(fs.createReadStream(source, { highWaterMark: FILE_CHUNK }), { [OWNED]: true });
  }
  if (source && typeof (source as any)[Symbol.asyncIterator] === 'function') return source as AsyncIterable<Buffer>;
  throw new ConfigurationError(`Expected the import source to be a file path or a readable stream, got ${describeValue(source)}.`, { tenant });
}

/** How much of an archive file is read at a time (a few hundred rows per chunk or more: less per-chunk work than the default 64 KB). */
const FILE_CHUNK = 1 << 20;

/** Marks a stream the import opened itself (a file), closed when it is done. */
const OWNED = Symbol('sequelize-apartment.owned');

const NEWLINE = 0x0a;

/** Whether `bytes[start, end)` is the line that ends a table's rows (`\.`). */
function endOfRows(bytes: Buffer, start: number, end: number): boolean {
  return end - start === 2 && bytes[start] === 0x5c && bytes[start + 1] === 0x2e;
}

/** Reads an archive's bytes: records line by line, rows in chunks of whole lines; names what it expected when the archive ends early. */
class Reader {
  readonly #chunks: AsyncIterator<Buffer>;
  readonly #source: AsyncIterable<Buffer | string>;
  /** Unread bytes: `#buffer[#at...]`. */
  #buffer: Buffer = Buffer.alloc(0);
  #at = 0;
  #ended = false;
  constructor(source: AsyncIterable<Buffer | string>, readonly tenant: string) {
    this.#source = source;
    this.#chunks = bytes(source)[Symbol.asyncIterator]();
  }

  /**
   * Appends the next chunks to the unread bytes, up to one with a line end
   * (a long line is joined once, not chunk by chunk); false at the end of
   * the source.
   */
  async #more(): Promise<boolean> {
    const parts = [this.#buffer.subarray(this.#at)];
    let size = parts[0]!.length;
    while (!this.#ended) {
      const next = await this.#chunks.next();
      if (next.done) {
        this.#ended = true;
        break;
      }
      parts.push(next.value);
      size += next.value.length;
      if (next.value.indexOf(NEWLINE) !== -1) break;
    }
    if (parts.length === 1) return false;
    this.#buffer = Buffer.concat(parts, size);
    this.#at = 0;
    return true;
  }

  async line(expected: string): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf(NEWLINE, this.#at);
      if (end !== -1) {
        const text = this.#buffer.toString('utf8', this.#at, end);
        this.#at = end + 1;
        return text;
      }
      if (!(await this.#more())) {
        // The last line, without its \n.
        if (this.#at >= this.#buffer.length) throw this.error(`The archive ends before ${expected} (it was cut short)`);
        const text = this.#buffer.toString('utf8', this.#at);
        this.#at = this.#buffer.length;
        return text;
      }
    }
  }

  async json(expected: string): Promise<any> {
    const text = await this.line(expected);
    try {
      return JSON.parse(text);
    } catch {
      throw this.error(`The archive has ${describeValue(text)} where ${expected} belongs (not an archive of this package, or damaged)`);
    }
  }

  /** A table's rows up to its end line, in chunks of whole lines (each with its \n), counted and hashed into `sum`. */
  async *rows(sum: RowChecksum): AsyncGenerator<Buffer> {
    for (;;) {
      const buffer = this.#buffer;
      const first = this.#at;
      let start = first;
      for (let end = buffer.indexOf(NEWLINE, start); end !== -1; end = buffer.indexOf(NEWLINE, start)) {
        if (endOfRows(buffer, start, end)) {
          this.#at = end + 1;
          if (start > first) yield buffer.subarray(first, start);
          return;
        }
        sum.row(buffer, start, end);
        start = end + 1;
      }
      this.#at = start;
      if (start > first) yield buffer.subarray(first, start);
      if (!(await this.#more())) throw this.error('The archive ends before the end of a table (it was cut short)');
    }
  }

  /** A file the import opened is closed; a stream given to it is left to its owner, read to its end (a writer may wait for that). */
  close(): void {
    const source = this.#source as any;
    if (source[OWNED]) source.destroy();
    else if (typeof source.resume === 'function') source.resume();
  }

  error(what: string): ArchiveError {
    return new ArchiveError(`${sentence(what)} Tenant '${this.tenant}' was not imported (nothing was created).`, { tenant: this.tenant });
  }
}

/** The manifest, checked against this app: format and version, dialect, migrations. */
function checkManifest(apartment: Apartment, reader: Reader, manifest: any, appMigrations: readonly string[]): ArchiveManifest {
  if (manifest?.format !== ARCHIVE_FORMAT) throw reader.error('The source is not a sequelize-apartment tenant archive (its first line is not the manifest)');
  if (!Number.isInteger(manifest.version) || manifest.version < 1 || manifest.version > ARCHIVE_VERSION) {
    throw reader.error(`The archive is format version ${describeValue(manifest.version)}, written by ${manifest.package}; this package reads versions 1 to ${ARCHIVE_VERSION}. Upgrade sequelize-apartment to import it`);
  }
  const { dialect } = apartment.adapter;
  if (manifest.dialect !== apartment.adapter.dialect || manifest.encoding !== apartment.adapter.archive.encoding) {
    throw reader.error(
      `The archive comes from ${manifest.dialect === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'} (${manifest.server}) and this app runs on ${dialect === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'}; archives move between servers of the same dialect only`,
    );
  }
  const known = new Set(appMigrations);
  const missing = (manifest.migrations as string[]).filter((name) => !known.has(name));
  if (missing.length) {
    throw reader.error(
      `The archive's tenant has ${missing.length} migration(s) this app does not have (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}): it was exported from a newer version of the app. Deploy that version (its tenant migrations folder) and import again`,
    );
  }
  return manifest as ArchiveManifest;
}

function sameColumns(a: ArchiveTableShape, b: ArchiveTableShape): boolean {
  const names = (t: ArchiveTableShape) => t.columns.map((c) => c.name).sort().join('\0');
  return names(a) === names(b);
}

/**
 * Creates tenant `ref` from an archive: the archive's migrations exactly,
 * then its rows, sequences/AUTO_INCREMENT past the highest ids, every table
 * read back and checked against the archive's counts and checksums. All or
 * nothing: PostgreSQL does it in one transaction; MySQL/MariaDB builds the
 * tenant under a reserved temporary name (never a tenant, never listed) and
 * renames it at the end.
 */
export async function importTenant(apartment: Apartment, ref: TenantRef, source: unknown, options: ImportOptions = {}): Promise<ImportResult> {
  if (options === null || typeof options !== 'object') throw new ConfigurationError(`Expected importTenant options to be an object, got ${describeValue(options)}.`, { tenant: ref.key });
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new ConfigurationError(`Expected \`onProgress\` to be a function, got ${describeValue(onProgress)}.`, { tenant: ref.key });
  }
  const { adapter } = apartment;
  const archive = adapter.archive;
  if (await adapter.exists(ref)) {
    throw new TenantExistsError(`Tenant '${ref.key}' already exists ("${ref.name}"), so the archive was not imported. Import under another key, or drop it first with dropTenant('${ref.key}').`, { tenant: ref.key });
  }
  const reader = new Reader(openSource(source, ref.key), ref.key);
  try {
    const appMigrations = apartment.migrator.files().map((f) => f.name);
    const manifest = checkManifest(apartment, reader, await reader.json('the manifest'), appMigrations);
    // MySQL/MariaDB: built under a reserved name (keys start with a letter or digit), renamed when complete.
    const target: TenantRef = archive.transactional ? ref : Object.freeze({ key: ref.key, name: `${apartment.prefix}${IMPORT_MARK}${randomBytes(4).toString('hex')}` });
    const host = apartment.migrationHost();
    const tables: Record<string, TableSummary> = {};
    let totalRows = 0;
    const fill = async (transaction: Transaction | undefined) => {
      if (manifest.seeders.length) {
        const seeded = new TenantMetaStorage(host, target, transaction, DATA_TABLE);
        for (const name of manifest.seeders) await seeded.logMigration({ name });
      }
      const live = new Map((await archive.tables(target, [META_TABLE, DATA_TABLE], transaction)).map((t) => [t.name, t]));
      for (const table of manifest.tables) {
        const made = live.get(table.name);
        if (!made || !sameColumns(made, table)) {
          throw reader.error(
            `The archive's table ${table.name} (${table.columns.map((c) => c.name).join(', ')}) ${made ? `has other columns than the migrations made (${made.columns.map((c) => c.name).join(', ')})` : 'is not made by the tenant migrations'}; tables made outside migrations (sync()) cannot be imported`,
          );
        }
      }
      // Each table is read back and checked against the archive. In one transaction (PostgreSQL) the check waits
      // for its table; otherwise (MySQL/MariaDB: each table is committed as it is loaded) it runs on another
      // connection while the next table loads, one check at a time.
      let done = 0;
      const check = async (table: ArchiveTableShape, sum: RowChecksum) => {
        const reading = rowChecksum(manifest.version);
        for await (const chunk of archive.rows(target, table, transaction)) reading.update(chunk);
        const back = reading.summary();
        if (back.rows !== sum.rows || back.checksum !== sum.checksum) {
          throw reader.error(`Table ${table.name} read back from the new tenant has ${back.rows} rows (checksum ${back.checksum}), the archive ${sum.rows} (${sum.checksum}): the server changed values on load`);
        }
        tables[table.name] = back;
        totalRows += back.rows;
        onProgress?.({ tenant: ref.key, table: table.name, rows: back.rows, totalRows, done: ++done, tables: manifest.tables.length });
      };
      let checking: Promise<void> = Promise.resolve();
      try {
        for (const table of manifest.tables) {
          const head = await reader.json(`table ${table.name}`);
          if (head?.table !== table.name || head.rows !== undefined) throw reader.error(`The archive has ${describeValue(head)} where table ${table.name} begins`);
          const sum = rowChecksum(manifest.version);
          await archive.load(target, table, reader.rows(sum), transaction);
          const end = await reader.json(`the summary of table ${table.name}`);
          if (end?.table !== table.name || end.rows !== sum.rows || end.checksum !== sum.checksum) {
            throw reader.error(`Table ${table.name} in the archive has ${sum.rows} rows (checksum ${sum.checksum}) but its summary says ${end?.rows} (${end?.checksum}): the archive is damaged`);
          }
          await checking;
          checking = check(table, sum);
          checking.catch(() => undefined); // awaited before the next check or at the end; meanwhile not unhandled
          if (archive.transactional) await checking;
        }
        await checking;
      } catch (error) {
        await checking.catch(() => undefined); // no query of a check left running on what is dropped next
        throw error;
      }
      const trailer = await reader.json('the end of the archive');
      if (trailer?.end !== true) throw reader.error(`The archive has ${describeValue(trailer)} where its end belongs`);
      await archive.resetCounters(target, transaction);
    };
    await apartment.migrator.createExactly(target, manifest.migrations, fill);
    if (target !== ref) {
      try {
        await adapter.renameTenant(target, ref);
      } catch (error) {
        await adapter.drop(target).catch(() => undefined);
        throw error;
      }
    }
    return { tenant: ref.key, manifest, tables, rows: totalRows };
  } finally {
    reader.close();
  }
}
