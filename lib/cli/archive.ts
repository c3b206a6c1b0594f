import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import type { ArchiveProgress } from '../archive/export';
import { withApartment, type CommandContext } from './commands';

type Action = <A extends unknown[]>(name: string, run: (ctx: CommandContext, ...args: A) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** `tenant:export`, `tenant:import`, `tenant:clone`, `tenant:suspend`, `tenant:resume`: a tenant's whole life (docs/guides/backup-restore-clone-suspend.md). */
export function registerArchiveCommands(cli: Command, action: Action): void {
  cli.command('tenant:export <key>')
    .description("write the tenant's archive (one consistent snapshot) to a file, or to stdout")
    .option('--file <file>', 'archive file to write (gzipped when it ends in .gz; default: stdout)')
    .option('--gzip', 'gzip the archive (also on stdout)')
    .action(action('tenant:export', (ctx, key: string, options: { file?: string; gzip?: boolean }) => tenantExport(ctx, key, options)));
  cli.command('tenant:import <key>')
    .description('create the tenant from an archive (a file, or stdin; gzipped or not), all or nothing')
    .option('--file <file>', 'archive file to read (default: stdin)')
    .action(action('tenant:import', (ctx, key: string, options: { file?: string }) => tenantImport(ctx, key, options)));
  cli.command('tenant:clone <from> <to>')
    .description('copy a tenant into a new one (export piped into import; <from> is only read)')
    .action(action('tenant:clone', (ctx, from: string, to: string) => tenantClone(ctx, from, to)));
  cli.command('tenant:suspend <key>')
    .description('suspend a tenant: closed (HTTP 503), or with --read-only writes refused (HTTP 423)')
    .option('--read-only', 'serve reads, refuse writes (default: closed)')
    .action(action('tenant:suspend', (ctx, key: string, options: { readOnly?: boolean }) => tenantSuspend(ctx, key, options)));
  cli.command('tenant:resume <key>')
    .description('end a suspension: the tenant serves reads and writes again')
    .action(action('tenant:resume', (ctx, key: string) => tenantResume(ctx, key)));
}

/** Rows per second, as a short figure. */
function rate(rows: number, ms: number): string {
  return `${Math.round(rows / Math.max(ms / 1000, 0.001)).toLocaleString('en-US')} rows/s`;
}

/** A progress bar over tables on stderr, drawn only when stderr is a terminal and --json is off. */
function progressBar(ctx: CommandContext, label: string): { onProgress: (p: ArchiveProgress) => void; stop(): void } {
  let bar: SingleBar | undefined;
  const enabled = Boolean(process.stderr.isTTY) && !ctx.flags.json;
  return {
    onProgress(p) {
      if (!enabled) return;
      if (!bar) {
        bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} tables | {rows} rows | {table}`, stream: process.stderr, clearOnComplete: true, hideCursor: true });
        bar.start(p.tables, 0, { rows: 0, table: '' });
      }
      bar.update(p.done, { rows: p.totalRows, table: p.table });
    },
    stop: () => bar?.stop(),
  };
}

async function tenantExport(ctx: CommandContext, key: string, options: { file?: string; gzip?: boolean }): Promise<void> {
  await withApartment(ctx, false, async (apartment) => {
    const started = Date.now();
    const progress = progressBar(ctx, `export ${key}`);
    // stdout carries the archive itself: the result goes to stderr (or nowhere, with --json and no --file).
    const toStdout = options.file === undefined;
    try {
      const result = await apartment.exportTenant(key, toStdout ? process.stdout : options.file!, { gzip: options.gzip, onProgress: progress.onProgress });
      progress.stop();
      const durationMs = Date.now() - started;
      const data = { command: ctx.command, ok: true, tenant: key, file: options.file ?? null, rows: result.rows, tables: result.tables, version: result.manifest.version, migrations: result.manifest.migrations.length, durationMs };
      const text = `Exported tenant ${key}: ${Object.keys(result.tables).length} table(s), ${result.rows} row(s) in ${durationMs} ms (${rate(result.rows, durationMs)})${options.file ? ` to ${options.file}` : ''}.`;
      if (toStdout) process.stderr.write(`${ctx.flags.json ? JSON.stringify(data) : text}\n`);
      else ctx.out.result(data, () => text);
    } finally {
      progress.stop();
    }
  });
}

async function tenantImport(ctx: CommandContext, key: string, options: { file?: string }): Promise<void> {
  await withApartment(ctx, 'migrations', async (apartment) => {
    const started = Date.now();
    const progress = progressBar(ctx, `import ${key}`);
    try {
      const result = await apartment.importTenant(key, options.file ?? process.stdin, { onProgress: progress.onProgress });
      progress.stop();
      const durationMs = Date.now() - started;
      ctx.out.result(
        { command: ctx.command, ok: true, tenant: key, schema: apartment.schemaFor(key), from: { tenant: result.manifest.tenant, server: result.manifest.server, createdAt: result.manifest.createdAt }, rows: result.rows, tables: result.tables, durationMs },
        () => `Imported tenant ${key} (${apartment.schemaFor(key)}) from the archive of ${result.manifest.tenant} (${result.manifest.createdAt}): ${Object.keys(result.tables).length} table(s), ${result.rows} row(s) checked, in ${durationMs} ms (${rate(result.rows, durationMs)}).`,
      );
    } finally {
      progress.stop();
    }
  });
}

async function tenantClone(ctx: CommandContext, from: string, to: string): Promise<void> {
  await withApartment(ctx, 'migrations', async (apartment) => {
    const started = Date.now();
    const progress = progressBar(ctx, `clone ${from} -> ${to}`);
    try {
      const result = await apartment.cloneTenant(from, to, { onProgress: progress.onProgress });
      progress.stop();
      const durationMs = Date.now() - started;
      ctx.out.result({ command: ctx.command, ok: true, from, to, schema: apartment.schemaFor(to), rows: result.rows, tables: result.tables, durationMs }, () =>
        `Cloned tenant ${from} into ${to} (${apartment.schemaFor(to)}): ${result.rows} row(s) in ${durationMs} ms.`,
      );
    } finally {
      progress.stop();
    }
  });
}

async function tenantSuspend(ctx: CommandContext, key: string, options: { readOnly?: boolean }): Promise<void> {
  await withApartment(ctx, false, async (apartment) => {
    const mode = options.readOnly ? 'read-only' : 'closed';
    await apartment.suspendTenant(key, { mode });
    ctx.out.result({ command: ctx.command, ok: true, tenant: key, state: mode }, () =>
      `Suspended tenant ${key} (${mode}: ${mode === 'closed' ? 'every request is answered 503' : 'writes are answered 423'}); every app process sees it within its existence cache's ttl. Resume it with apartment tenant:resume ${key}.`,
    );
  });
}

async function tenantResume(ctx: CommandContext, key: string): Promise<void> {
  await withApartment(ctx, false, async (apartment) => {
    await apartment.resumeTenant(key);
    ctx.out.result({ command: ctx.command, ok: true, tenant: key, state: 'active' }, () => `Resumed tenant ${key}.`);
  });
}
