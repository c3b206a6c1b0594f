import { randomBytes } from 'node:crypto';
import type { MigrationResult } from '../types';
import type { MigrationHost } from './host';

/** Tables of the fleet ledger, in the default schema/database. */
export const RUNS_TABLE = 'apartment_fleet_runs';
export const TENANTS_TABLE = 'apartment_fleet_tenants';

/** Rows per INSERT and tenants per `IN (...)` list. */
const CHUNK = 500;
/** Results queued before they are written; also written after each wave and every second. */
const FLUSH_AT = 100;

/** How a recorded run ended: `running` when it never ended (killed), `resumed` once a later run took over its rest. */
export type RunState = 'running' | 'done' | 'failed' | 'stopped' | 'resumed';
/** A tenant's state in a recorded run. `pending`: not reached (the run stopped or was killed first). */
export type TenantState = 'pending' | 'ok' | 'failed';

/** One recorded fleet run (`lastRun()`). */
export interface FleetRun {
  id: string;
  /** `migrations` or `seeders`. */
  kind: string;
  direction: 'up' | 'down';
  /** The run's `to` version, or null. */
  to: string | null;
  state: RunState;
  /** Why the run stopped or failed, in words. */
  reason: string | null;
  /** The run this one resumed, or null. */
  resumes: string | null;
  startedAt: string;
  finishedAt: string | null;
  tenants: FleetRunTenant[];
}

/** One tenant of a recorded run. */
export interface FleetRunTenant {
  tenant: string;
  schema: string;
  /** Wave index (0 is the canary when there is one); -1 for tenants that had nothing to do. */
  wave: number;
  state: TenantState;
  /** Versions applied or reverted. */
  versions: string[];
  error: string | null;
  /** The migration that failed. */
  migration: string | null;
  finishedAt: string | null;
}

/**
 * The fleet ledger: what each fleet run did, per tenant, so a stopped or
 * killed run can be resumed and its failures listed. Two tables of the
 * default schema/database, created on first use with portable SQL:
 *
 * - `apartment_fleet_runs`: one row per run (`id`, `prefix`, `kind`,
 *   `direction`, `target`, `state`, `reason`, `resumes`, `started_at`,
 *   `finished_at`; times as ISO-8601 text);
 * - `apartment_fleet_tenants`: one row per tenant in the run (`run_id`,
 *   `tenant`, `schema_name`, `wave`, `state`, `versions` as JSON text,
 *   `error`, `migration`, `finished_at`).
 *
 * Results are written in batches (every 100, after each wave, every second),
 * so a killed run may show a finished tenant as `pending`: resuming it reads
 * the tenant's own `SequelizeMeta` first and finds nothing to do. The
 * tenant's migration table, not the ledger, is what keeps a migration from
 * running twice.
 */
export class FleetLedger {
  readonly #host: MigrationHost;
  readonly id = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}-${randomBytes(4).toString('hex')}`;
  #queue: MigrationResult[] = [];
  #writing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(host: MigrationHost) {
    this.#host = host;
  }

  static table(host: MigrationHost, name: string): string {
    const queryGenerator = (host.sequelize.getQueryInterface() as any).queryGenerator;
    return queryGenerator.quoteTable({ tableName: name, schema: host.adapter.defaultSchema, delimiter: '.' });
  }

  static #q(host: MigrationHost, name: string): string {
    return (host.sequelize.getQueryInterface() as any).queryGenerator.quoteIdentifier(name, true);
  }

  static #query(host: MigrationHost, sql: string, replacements: unknown[] = [], type: 'SELECT' | 'RAW' = 'RAW'): Promise<any> {
    // Qualified admin statements: no tenant routing.
    return host.context.runWithout(() => host.sequelize.query(sql, { replacements, type, raw: true, logging: false } as any));
  }

  static async #ensure(host: MigrationHost): Promise<void> {
    const q = (name: string) => FleetLedger.#q(host, name);
    await FleetLedger.#query(host, `CREATE TABLE IF NOT EXISTS ${FleetLedger.table(host, RUNS_TABLE)} (${q('id')} VARCHAR(40) NOT NULL PRIMARY KEY, ${q('prefix')} VARCHAR(255) NOT NULL, ${q('kind')} VARCHAR(16) NOT NULL, ${q('direction')} VARCHAR(4) NOT NULL, ${q('target')} VARCHAR(255), ${q('state')} VARCHAR(16) NOT NULL, ${q('reason')} TEXT, ${q('resumes')} VARCHAR(40), ${q('started_at')} VARCHAR(32) NOT NULL, ${q('finished_at')} VARCHAR(32))`);
    await FleetLedger.#query(host, `CREATE TABLE IF NOT EXISTS ${FleetLedger.table(host, TENANTS_TABLE)} (${q('run_id')} VARCHAR(40) NOT NULL, ${q('tenant')} VARCHAR(255) NOT NULL, ${q('schema_name')} VARCHAR(255) NOT NULL, ${q('wave')} INTEGER NOT NULL, ${q('state')} VARCHAR(16) NOT NULL, ${q('versions')} TEXT, ${q('error')} TEXT, ${q('migration')} VARCHAR(255), ${q('finished_at')} VARCHAR(32), PRIMARY KEY (${q('run_id')}, ${q('tenant')}))`);
  }

  /**
   * The last recorded run of this prefix and kind, with its tenants; undefined when none is recorded.
   */
  static async last(host: MigrationHost, kind: string): Promise<FleetRun | undefined> {
    const q = (name: string) => FleetLedger.#q(host, name);
    if (!(await host.adapter.tableExists(host.adapter.defaultSchema, RUNS_TABLE))) return undefined;
    const runs = await FleetLedger.#query(
      host,
      `SELECT * FROM ${FleetLedger.table(host, RUNS_TABLE)} WHERE ${q('prefix')} = ? AND ${q('kind')} = ? ORDER BY ${q('started_at')} DESC, ${q('id')} DESC LIMIT 1`,
      [host.names.prefix, kind],
      'SELECT',
    );
    const run = runs[0];
    if (!run) return undefined;
    const rows = await FleetLedger.#query(host, `SELECT * FROM ${FleetLedger.table(host, TENANTS_TABLE)} WHERE ${q('run_id')} = ? ORDER BY ${q('tenant')}`, [run.id], 'SELECT');
    return {
      id: run.id,
      kind: run.kind,
      direction: run.direction,
      to: run.target ?? null,
      state: run.state,
      reason: run.reason ?? null,
      resumes: run.resumes ?? null,
      startedAt: run.started_at,
      finishedAt: run.finished_at ?? null,
      tenants: (rows as any[]).map((row) => ({
        tenant: row.tenant,
        schema: row.schema_name,
        wave: Number(row.wave),
        state: row.state,
        versions: row.versions ? JSON.parse(row.versions) : [],
        error: row.error ?? null,
        migration: row.migration ?? null,
        finishedAt: row.finished_at ?? null,
      })),
    };
  }

  /** Records the start of a run and its tenants: `pending`, or `ok` for those with nothing to do. */
  async start(run: { kind: string; direction: 'up' | 'down'; to: string | null; resumes?: string }, tenants: ReadonlyArray<{ tenant: string; schema: string; wave: number; done: boolean }>): Promise<void> {
    const host = this.#host;
    const q = (name: string) => FleetLedger.#q(host, name);
    await FleetLedger.#ensure(host);
    const now = new Date().toISOString();
    await FleetLedger.#query(
      host,
      `INSERT INTO ${FleetLedger.table(host, RUNS_TABLE)} (${['id', 'prefix', 'kind', 'direction', 'target', 'state', 'resumes', 'started_at'].map(q).join(', ')}) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)`,
      [this.id, host.names.prefix, run.kind, run.direction, run.to, run.resumes ?? null, now],
    );
    if (run.resumes) await FleetLedger.#query(host, `UPDATE ${FleetLedger.table(host, RUNS_TABLE)} SET ${q('state')} = 'resumed' WHERE ${q('id')} = ?`, [run.resumes]);
    for (let i = 0; i < tenants.length; i += CHUNK) {
      const chunk = tenants.slice(i, i + CHUNK);
      await FleetLedger.#query(
        host,
        `INSERT INTO ${FleetLedger.table(host, TENANTS_TABLE)} (${['run_id', 'tenant', 'schema_name', 'wave', 'state', 'versions', 'finished_at'].map(q).join(', ')}) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((t) => [this.id, t.tenant, t.schema, t.wave, t.done ? 'ok' : 'pending', t.done ? '[]' : null, t.done ? now : null]),
      );
    }
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), 1000);
    this.#timer.unref();
  }

  /** Queues a tenant's result; written with the next batch. */
  record(result: MigrationResult): void {
    this.#queue.push(result);
    if (this.#queue.length >= FLUSH_AT) void this.flush().catch(() => undefined);
  }

  /**
   * Writes the queued results (one UPDATE per group of tenants with the same
   * versions, one per failure). Bookkeeping never fails the run: a batch that
   * cannot be written leaves its tenants `pending`, which resume re-checks.
   */
  flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    this.#writing = this.#writing.then(() => this.#write(batch)).catch(() => undefined);
    return this.#writing;
  }

  async #write(batch: MigrationResult[]): Promise<void> {
    if (batch.length === 0) return;
    const host = this.#host;
    const q = (name: string) => FleetLedger.#q(host, name);
    const table = FleetLedger.table(host, TENANTS_TABLE);
    const now = new Date().toISOString();
    const ok = new Map<string, string[]>();
    for (const result of batch) {
      if (result.ok) {
        const versions = JSON.stringify(result.versions);
        ok.set(versions, [...(ok.get(versions) ?? []), result.tenant]);
        continue;
      }
      await FleetLedger.#query(
        host,
        `UPDATE ${table} SET ${q('state')} = ?, ${q('versions')} = ?, ${q('error')} = ?, ${q('migration')} = ?, ${q('finished_at')} = ? WHERE ${q('run_id')} = ? AND ${q('tenant')} = ?`,
        // A run stopped before the tenant: it stays pending (resume runs it).
        [(result.error as any)?.name === 'FleetStoppedError' ? 'pending' : 'failed', JSON.stringify(result.versions ?? []), (result.error as Error)?.message ?? String(result.error), (result.error as any)?.migration ?? null, now, this.id, result.tenant],
      );
    }
    for (const [versions, tenants] of ok) {
      for (let i = 0; i < tenants.length; i += CHUNK) {
        const chunk = tenants.slice(i, i + CHUNK);
        await FleetLedger.#query(
          host,
          `UPDATE ${table} SET ${q('state')} = 'ok', ${q('versions')} = ?, ${q('error')} = NULL, ${q('finished_at')} = ? WHERE ${q('run_id')} = ? AND ${q('tenant')} IN (${chunk.map(() => '?').join(', ')})`,
          [versions, now, this.id, ...chunk],
        );
      }
    }
  }

  /** Writes what is queued and how the run ended. */
  async finish(state: Exclude<RunState, 'running' | 'resumed'>, reason: string | null): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
    const q = (name: string) => FleetLedger.#q(this.#host, name);
    // Like flush: a run whose end cannot be written stays `running`, which resume treats as interrupted.
    await FleetLedger.#query(
      this.#host,
      `UPDATE ${FleetLedger.table(this.#host, RUNS_TABLE)} SET ${q('state')} = ?, ${q('reason')} = ?, ${q('finished_at')} = ? WHERE ${q('id')} = ?`,
      [state, reason, new Date().toISOString(), this.id],
    ).catch(() => undefined);
  }

  /** Stops the timer without writing (the run threw). */
  abandon(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
