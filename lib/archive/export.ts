import * as fs from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Apartment } from '../apartment';
import { ArchiveError, ConfigurationError, TenantNotFoundError, describeValue } from '../errors';
import { DATA_TABLE, META_TABLE, TenantMetaStorage } from '../migrations/storage';
import type { TenantRef } from '../tenant';
import { ARCHIVE_FORMAT, ARCHIVE_VERSION, END_OF_ROWS, rowChecksum, type ArchiveManifest, type TableSummary } from './format';

/** Where `exportTenant` writes, and how it reports progress. */
export interface ExportOptions {
  /**
   * Gzip the archive. A file path ending in `.gz` is gzipped unless this is `false`.
   * @default false (true for a `.gz` path)
   */
  gzip?: boolean;
  /** Called after each table (and about every 10,000 rows) with what is done so far. */
  onProgress?: (progress: ArchiveProgress) => void;
}

/** What an export or import has done so far. */
export interface ArchiveProgress {
  readonly tenant: string;
  /** The table being read or loaded. */
  readonly table: string;
  /** Rows of that table so far, and of every table so far. */
  readonly rows: number;
  readonly totalRows: number;
  /** Tables finished, of `tables`. */
  readonly done: number;
  readonly tables: number;
}

/** What `exportTenant` wrote. */
export interface ExportResult {
  readonly manifest: ArchiveManifest;
  /** Rows and checksum of every table, by name. */
  readonly tables: Readonly<Record<string, TableSummary>>;
  readonly rows: number;
}

// eslint-disable-next-line @typescript-eslint/no-var-requires
const PACKAGE = `sequelize-apartment@${(require('../../../package.json') as { version: string }).version}`;
const FLUSH_AT = 65_536;
/** How much a file destination buffers before the export waits for it. */
const FILE_BUFFER = 1 << 20;

/** A Writable fed in large chunks, honouring backpressure; a destination closed early fails the export instead of stalling it. */
class Output {
  #pending: Buffer[] = [];
  #size = 0;
  constructor(
    readonly stream: Writable,
    readonly tenant: string,
  ) {}

  line(text: string): Promise<void> {
    return this.bytes(Buffer.from(`${text}\n`));
  }

  async bytes(chunk: Buffer): Promise<void> {
    this.#pending.push(chunk);
    this.#size += chunk.length;
    if (this.#size >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#size === 0) return;
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) throw this.#closed(stream.errored);
    const chunk = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#size);
    this.#pending = [];
    this.#size = 0;
    const flowing = stream.write(chunk);
    if (flowing) return;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => {
        stream.off('drain', drained);
        stream.off('close', closed);
        stream.off('error', done);
        if (error === undefined) resolve();
        else reject(error instanceof ArchiveError ? error : this.#closed(error));
      };
      const drained = () => done();
      const closed = () => done(this.#closed(stream.errored));
      stream.on('drain', drained);
      stream.on('close', closed);
      stream.on('error', done);
    });
  }

  #closed(cause: unknown): ArchiveError {
    return new ArchiveError(
      `The destination of tenant '${this.tenant}''s export was closed before the export ended${cause instanceof Error ? ` (${cause.message})` : ''}. Nothing in the tenant changed; export again to a destination that stays open.`,
      { tenant: this.tenant, cause },
    );
  }
}

/** The checked options, and the destination opened (a file path) or taken as is (a stream). */
function open(destination: unknown, options: ExportOptions, tenant: string): { out: Writable; sink: Writable; file?: string } {
  if (options === null || typeof options !== 'object') throw new ConfigurationError(`Expected exportTenant options to be an object, got ${describeValue(options)}.`, { tenant });
  if (options.gzip !== undefined && typeof options.gzip !== 'boolean') throw new ConfigurationError(`Expected \`gzip\` to be a boolean, got ${describeValue(options.gzip)}.`, { tenant });
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new ConfigurationError(`Expected \`onProgress\` to be a function, got ${describeValue(options.onProgress)}.`, { tenant });
  }
  if (typeof destination === 'string' && destination !== '') {
    // A buffer of a few writes: rows keep streaming from the server while the file takes the previous ones.
    const sink = fs.createWriteStream(destination, { highWaterMark: FILE_BUFFER });
    const gzip = options.gzip ?? destination.endsWith('.gz');
    if (!gzip) return { out: sink, sink, file: destination };
    const out = createGzip();
    out.pipe(sink);
    return { out, sink, file: destination };
  }
  if (destination && typeof (destination as Writable).write === 'function' && typeof (destination as Writable).end === 'function') {
    const sink = destination as Writable;
    if (!options.gzip) return { out: sink, sink };
    const out = createGzip();
    out.pipe(sink);
    return { out, sink };
  }
  throw new ConfigurationError(`Expected the export destination to be a file path or a writable stream, got ${describeValue(destination)}.`, { tenant });
}

/**
 * Writes the tenant's archive (lib/archive/format.ts) to `destination` from
 * one consistent snapshot, streamed. A stream given as destination is ended
 * (not destroyed) when the export is done or fails; a file is removed when
 * the export fails.
 */
export async function exportTenant(apartment: Apartment, ref: TenantRef, destination: unknown, options: ExportOptions = {}): Promise<ExportResult> {
  const { out, sink, file } = open(destination, options, ref.key);
  // The written side only: a duplex destination (clone's pipe) is read by someone else, maybe not to its end.
  const written = finished(sink, { readable: false });
  written.catch(() => undefined);
  const onProgress = options.onProgress;
  const archive = apartment.adapter.archive;
  const host = apartment.migrationHost();
  try {
    const result = await archive.snapshot(ref, async (transaction) => {
      if ((await apartment.adapter.state(ref, transaction)) === undefined) {
        throw new TenantNotFoundError(`Tenant '${ref.key}' does not exist, so it cannot be exported. Check the key, or list tenants with apartment.tenants().`, { tenant: ref.key });
      }
      const [migrations, seeders] = await Promise.all(
        [META_TABLE, DATA_TABLE].map((table) => new TenantMetaStorage(host, ref, transaction, table).executed()),
      );
      const tables = await archive.tables(ref, [META_TABLE, DATA_TABLE], transaction);
      const manifest: ArchiveManifest = {
        format: ARCHIVE_FORMAT,
        version: ARCHIVE_VERSION,
        package: PACKAGE,
        dialect: apartment.adapter.dialect,
        server: await archive.serverVersion(transaction),
        encoding: archive.encoding,
        tenant: ref.key,
        schema: ref.name,
        createdAt: new Date().toISOString(),
        migrations,
        seeders,
        tables,
      };
      const output = new Output(out, ref.key);
      await output.line(JSON.stringify(manifest));
      const summaries: Record<string, TableSummary> = {};
      let totalRows = 0;
      for (const [index, table] of tables.entries()) {
        await output.line(JSON.stringify({ table: table.name }));
        // The dialect's bytes as they come: counted and hashed row by row, written unparsed.
        const sum = rowChecksum(ARCHIVE_VERSION);
        let reported = 0;
        for await (const chunk of archive.rows(ref, table, transaction)) {
          sum.update(chunk);
          await output.bytes(chunk);
          if (onProgress && sum.rows - reported >= 10_000) {
            reported = sum.rows;
            onProgress({ tenant: ref.key, table: table.name, rows: sum.rows, totalRows: totalRows + sum.rows, done: index, tables: tables.length });
          }
        }
        const summary = sum.summary();
        totalRows += summary.rows;
        summaries[table.name] = summary;
        await output.line(END_OF_ROWS);
        await output.line(JSON.stringify({ table: table.name, ...summary }));
        onProgress?.({ tenant: ref.key, table: table.name, rows: summary.rows, totalRows, done: index + 1, tables: tables.length });
      }
      await output.line(JSON.stringify({ end: true, tables: summaries }));
      await output.flush();
      return { manifest, tables: summaries, rows: totalRows };
    });
    out.end();
    await written;
    return result;
  } catch (error) {
    if (file) {
      out.destroy();
      sink.destroy();
      await fs.promises.rm(file, { force: true });
    } else {
      out.end();
    }
    throw error;
  }
}
