import type { Command } from 'commander';
import type { DoctorReport } from '../doctor';
import { withApartment, type CommandContext } from './commands';
import { cliMessage, seconds, type Progress } from './output';

type Action = <A extends unknown[]>(name: string, run: (ctx: CommandContext, ...args: A) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** `apartment doctor`: apartment.doctor(); exit code 1 on an error-level finding. */
export function registerDoctorCommand(cli: Command, action: Action): void {
  cli.command('doctor')
    .description('audit the set-up for isolation (shadowed tables, roles, search_path, poolers, held locks, unknown migrations, leftovers), each finding with what fixes it; exit code 1 on an error')
    .action(action('doctor', (ctx) => doctorCommand(ctx)));
}

async function doctorCommand(ctx: CommandContext): Promise<void> {
  await withApartment(ctx, 'migrations', async (apartment) => {
    let bar: Progress | undefined;
    let report: DoctorReport;
    try {
      report = await apartment.doctor({ onProgress: (step) => (bar ??= ctx.out.progress(step.total, 'checking', 'checks')).tick({ tenant: step.check, ok: true }, 'done') });
    } finally {
      bar?.stop();
    }
    const findings = report.findings.map((f) => ({ ...f, fix: cliMessage(f.fix) }));
    if (!report.ok) process.exitCode = 1;
    ctx.out.result({ command: ctx.command, ...report, findings }, () => doctorText({ ...report, findings }));
  });
}

function doctorText(report: DoctorReport): string {
  const blocks = report.findings.map((f) => `${f.level.toUpperCase()} ${f.code}: ${f.message}\n  fix: ${f.fix}`);
  const errors = report.findings.filter((f) => f.level === 'error').length;
  const tail = `${report.findings.length} finding(s), ${errors} error(s); ${report.tenants} tenant(s), ${report.checks.length} checks (${seconds(report.durationMs)}).`;
  return blocks.length ? `${blocks.join('\n\n')}\n\n${tail}` : `No findings. ${tail}`;
}
