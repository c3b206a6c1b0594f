import type { Command } from 'commander';
import type { DriftDifference, DriftReport } from '../migrations/drift';
import { withApartment, type CommandContext } from './commands';
import { keysOf } from './fleet';
import { seconds, type Progress } from './output';

type Action = <A extends unknown[]>(name: string, run: (ctx: CommandContext, ...args: A) => Promise<void>) => (...args: unknown[]) => Promise<void>;

interface DriftFlags {
  tenants?: string;
  skipTenants?: string;
}

/** `apartment db:drift`: apartment.drift(); exit code 1 when a tenant drifted, so CI can gate on it. */
export function registerDriftCommand(cli: Command, action: Action): void {
  cli.command('db:drift')
    .description("compare every tenant's tables, columns, indexes and keys with what its applied migrations make (built in a scratch schema/database); exit code 1 when one differs")
    .option('--tenants <keys|@file>', 'only these tenants: key,key,... or @file with one key per line')
    .option('--skip-tenants <keys|@file>', 'leave these tenants out: key,key,... or @file')
    .action(action('db:drift', (ctx, flags: DriftFlags) => driftCommand(ctx, flags)));
}

async function driftCommand(ctx: CommandContext, flags: DriftFlags): Promise<void> {
  const tenants = keysOf('--tenants', flags.tenants, ctx.cwd);
  const skipTenants = keysOf('--skip-tenants', flags.skipTenants, ctx.cwd);
  await withApartment(ctx, 'migrations', async (apartment) => {
    let bar: Progress | undefined;
    let report: DriftReport;
    try {
      report = await apartment.drift({
        ...(tenants ? { tenants } : {}),
        ...(skipTenants ? { skipTenants } : {}),
        onProgress: (tenant) => (bar ??= ctx.out.progress(tenant.total, 'comparing')).tick(tenant, tenant.ok ? 'same' : 'DRIFTED'),
      });
    } finally {
      bar?.stop();
    }
    const ok = report.drifted.length === 0;
    if (!ok) process.exitCode = 1;
    ctx.out.result({ command: ctx.command, ok, ...report }, () => driftText(report));
  });
}

export function differenceText(d: DriftDifference): string {
  const what = d.kind === 'table' ? `table ${d.table}` : d.kind === 'migrations' ? `migration ${d.name}` : `${d.kind} ${d.table}.${d.name}`;
  if (d.expected === null) return `${what}: unexpected (${d.actual})`;
  if (d.actual === null) return `${what}: missing (expected ${d.expected})`;
  return `${what}: expected ${d.expected}, found ${d.actual}`;
}

function driftText(report: DriftReport): string {
  const blocks = report.drifted.map((t) => `${t.tenant} (${t.schema}) at ${t.version ?? 'no migrations'}:\n${t.differences.map((d) => `  ${differenceText(d)}`).join('\n')}`);
  const tail = `${report.drifted.length} of ${report.tenants} tenant(s) drifted; ${report.references} reference(s) built and dropped (${seconds(report.durationMs)}).`;
  const next = report.drifted.length ? '\nFix each tenant by hand (or drop and recreate it), or write a migration that brings them all to one shape; apartment db:drift --json gives the details for scripts.' : '';
  return blocks.length ? `${blocks.join('\n\n')}\n\n${tail}${next}` : `No drift. ${tail}`;
}
