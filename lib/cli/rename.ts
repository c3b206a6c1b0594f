import type { Command } from 'commander';
import { withApartment, type CommandContext } from './commands';

type Action = <A extends unknown[]>(name: string, run: (ctx: CommandContext, ...args: A) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** `tenant:rename <from> <to>`: apartment.renameTenant. */
export function registerRenameCommand(cli: Command, action: Action): void {
  cli.command('tenant:rename <from> <to>')
    .description("rename a tenant's schema/database (refused while another process migrates it)")
    .action(action('tenant:rename', (ctx, from: string, to: string) => tenantRename(ctx, from, to)));
}

async function tenantRename(ctx: CommandContext, from: string, to: string): Promise<void> {
  await withApartment(ctx, false, async (apartment) => {
    const schemas = { from: apartment.schemaFor(from), to: apartment.schemaFor(to) };
    await apartment.renameTenant(from, to);
    ctx.out.result({ command: ctx.command, ok: true, from, to, schemas }, () => `Renamed tenant ${from} (${schemas.from}) to ${to} (${schemas.to}).`);
  });
}
