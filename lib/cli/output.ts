import { SingleBar } from 'cli-progress';
import { ApartmentError, MigrationError } from '../errors';
import type { MigrationResult } from '../types';

/** One tenant's line in the summary and in `--json` output. */
export interface TenantReport {
  tenant: string;
  schema: string;
  ok: boolean;
  /** Versions (migration file names) applied or reverted, in order. */
  versions: string[];
  /** Milliseconds from the start of the command until this tenant finished. */
  elapsedMs: number;
  error?: ErrorReport;
}

export interface ErrorReport {
  name: string;
  message: string;
  tenant?: string;
  migration?: string;
}

export function reportOf(result: MigrationResult, elapsedMs: number): TenantReport {
  const base = { tenant: result.tenant, schema: result.schema, ok: result.ok, elapsedMs };
  return result.ok ? { ...base, versions: result.versions } : { ...base, versions: result.versions ?? [], error: errorReport(result.error) };
}

/**
 * The core's errors say what to do next as API calls (`dropTenant('acme')`);
 * a CLI user needs the command instead. Each remedy the core writes has its
 * command here (test/cli/errors.test.ts checks that every API remedy in lib/
 * is covered), so the core stays free of CLI knowledge.
 */
const REMEDIES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:apartment\.)?createTenant\('([^']*)'\)/g, 'apartment tenant:create $1'],
  [/\b(?:apartment\.)?dropTenant\('([^']*)'\)/g, 'apartment tenant:drop $1'],
  [/\b(?:apartment\.)?migrateTenant\('([^']*)'\)/g, 'apartment db:migrate --tenant $1'],
  [/\b(?:apartment\.)?migrationStatus\('([^']*)'\)/g, 'apartment db:migrate:status --tenant $1'],
  [/\b(?:apartment\.)?migrateAll\(\)/g, 'apartment db:migrate'],
  [/\b(?:apartment\.)?prewarm\((\d+)\)/g, 'apartment tenant:prewarm --count $1'],
  [/\b(?:apartment\.)?prewarm\(\)/g, 'apartment tenant:prewarm --count <n>'],
  [/\b(?:apartment\.)?createTenant\(\)/g, 'apartment tenant:create'],
  [/\b(?:apartment\.)?drift\(\)/g, 'apartment db:drift'],
  [/\b(?:apartment\.)?resumeTenant\('([^']*)'\)/g, 'apartment tenant:resume $1'],
  [/\b(?:apartment\.)?importTenant\(\)\/cloneTenant\(\)/g, 'apartment tenant:import/tenant:clone'],
  [/\b(?:apartment\.)?importTenant\(\)/g, 'apartment tenant:import'],
  [/\b(?:apartment\.)?cloneTenant\(\)/g, 'apartment tenant:clone'],
  [/\bpoint migrationsPath at\b/g, 'pass --migrations-path (or set tenant-migrations-path in .sequelizerc) with'],
  [/\bapartment\.tenants\(\)/g, 'apartment tenant:list'],
  [/\b(?:apartment\.)?syncRoles\(\)(?: \(CLI: [^)]*\))?/g, 'apartment tenant:roles'],
  [/\bapartment\.placements?\(\)/g, 'apartment tenant:placement'],
  [/\bapartment\.moveTenant\(\)/g, 'apartment tenant:move'],
  [/\bapartment\.moveTenant\('([^']*)', \{ host, port, mode \}\)/g, 'apartment tenant:move $1 --to <host:port> --mode <mode>'],
  [/\bapartment\.moveTenant\('([^']*)', \{ host, port, mode: '(\w+)' \}\)/g, 'apartment tenant:move $1 --to <host:port> --mode $2'],
  [/\bapartment\.citus\.reference\(\)/g, 'apartment citus:reference'],
  [/\bapartment\.citus\.distribute\('([^']*)'\)/g, 'apartment citus:distribute --tenant $1'],
  [/\bapartment\.citus\.distribute(?:All)?\(\)/g, 'apartment citus:distribute'],
  [/create the Apartment with `distribute: 'citus'`/g, "pass --distribute citus (or set `tenant-distribute: 'citus'` in .sequelizerc; with --apartment, create that Apartment with `distribute: 'citus'`)"],
  [/drop the `distribute` option/g, 'drop --distribute citus (or `tenant-distribute`, or the `distribute` option of the --apartment Apartment)'],
];

/** `message` with the API calls it recommends replaced by the CLI commands that do the same. */
export function cliMessage(message: string): string {
  return REMEDIES.reduce((text, [api, command]) => text.replace(api, command), message);
}

export function errorReport(error: unknown): ErrorReport {
  const e = error instanceof Error ? error : new Error(String(error));
  const report: ErrorReport = { name: e.name, message: cliMessage(e.message) };
  if (e instanceof ApartmentError && e.tenant !== undefined) report.tenant = e.tenant;
  if (e instanceof MigrationError && e.migration !== undefined) report.migration = e.migration;
  return report;
}

/** Writes what the user (or a script, with `--json`) reads: stdout for results, stderr for the rest. */
export class Output {
  readonly json: boolean;
  readonly debug: boolean;

  constructor(options: { json?: boolean; debug?: boolean }) {
    this.json = Boolean(options.json);
    this.debug = Boolean(options.debug);
  }

  /** A result: JSON on stdout with `--json`, else the human text. */
  result(data: object, human: () => string): void {
    if (this.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else process.stdout.write(`${human()}\n`);
  }

  /** A side note for humans; on stderr so stdout stays clean for pipes. */
  note(text: string): void {
    if (!this.json) process.stderr.write(`${text}\n`);
  }

  /** The error message (its stack only with --debug or DEBUG); with --json also as JSON on stdout. */
  error(command: string, error: unknown): void {
    const shown = this.debug && error instanceof Error && error.stack ? cliMessage(error.stack) : errorReport(error).message;
    process.stderr.write(`apartment ${command}: error: ${shown}\n`);
    if (this.debug && error instanceof Error && error.cause instanceof Error && error.cause.stack) {
      process.stderr.write(`Caused by: ${error.cause.stack}\n`);
    }
    if (this.json) process.stdout.write(`${JSON.stringify({ command, ok: false, error: errorReport(error) }, null, 2)}\n`);
  }

  /** A progress bar on stderr, drawn only when stderr is a terminal. */
  progress(total: number, label: string, unit = 'tenants'): Progress {
    return new Progress(total, label, Boolean(process.stderr.isTTY) && total > 1, unit);
  }
}

export class Progress {
  readonly #bar: SingleBar | undefined;

  constructor(total: number, label: string, enabled: boolean, unit = 'tenants') {
    if (!enabled) return;
    this.#bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} ${unit} | {duration_formatted} | {last}`,
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
    });
    this.#bar.start(total, 0, { last: '' });
  }

  /** One tenant done; `status` replaces the 'ok'/'FAILED' shown after its key. */
  tick(report: { tenant: string; ok: boolean }, status?: string): void {
    this.#bar?.increment(1, { last: `${report.tenant} ${status ?? (report.ok ? 'ok' : 'FAILED')}` });
  }

  stop(): void {
    this.#bar?.stop();
  }
}

/** A plain text table: one header row, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/**
 * The summary of a migrate (or seed) run: a table, failures spelled out below
 * it, and a closing count. A failed tenant lists what completed before the
 * failure under VERSIONS/SEEDERS, and the one that failed in its own FAILED column.
 */
export function summary(reports: TenantReport[], direction: 'up' | 'down', what: 'versions' | 'seeders' = 'versions'): string {
  if (reports.length === 0) return 'No tenants.';
  const verb = direction === 'up' ? (what === 'seeders' ? 'run' : 'applied') : 'reverted';
  const failed = reports.filter((r) => !r.ok);
  const done = (r: TenantReport) =>
    r.versions.length ? r.versions.join(', ') : r.ok ? `nothing to ${direction === 'up' ? 'apply' : 'revert'}` : '-';
  const rows = reports.map((r) => [
    r.tenant,
    r.ok ? 'ok' : 'failed',
    done(r),
    ...(failed.length ? [r.ok ? '' : r.error?.migration ?? '(none ran)'] : []),
    seconds(r.elapsedMs),
  ]);
  const header = ['TENANT', 'STATUS', `${what.toUpperCase()} ${verb.toUpperCase()}`, ...(failed.length ? ['FAILED'] : []), 'TIME'];
  const out = [table(header, rows)];
  for (const r of failed) out.push(`\n${r.tenant}: ${r.error?.message}`);
  out.push(`\n${reports.length - failed.length} of ${reports.length} tenant(s) ok${failed.length ? `, ${failed.length} failed` : ''}.`);
  return out.join('\n');
}
