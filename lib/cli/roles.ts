import type { Command } from 'commander';
import { ConfigurationError } from '../errors';
import { withApartment, type CommandContext } from './commands';

type Action = <A extends unknown[]>(name: string, run: (ctx: CommandContext, ...args: A) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** `tenant:roles`: apartment.syncRoles(), turning `isolation: 'role'` on for existing tenants. */
export function registerRolesCommand(cli: Command, action: Action): void {
  cli.command('tenant:roles')
    .description("isolation: 'role' (PostgreSQL): create and grant the role of every existing tenant and warm spare; idempotent")
    .action(action('tenant:roles', (ctx) => tenantRoles(ctx)));
}

async function tenantRoles(ctx: CommandContext): Promise<void> {
  await withApartment(
    ctx,
    false,
    async (apartment) => {
      if (apartment.isolation !== 'role') {
        // Only the app's own Apartment (--apartment) can get here without it.
        throw new ConfigurationError(
          "The app's Apartment runs without `isolation: 'role'`, so tenant:roles would create roles it never uses. Add isolation: 'role' to its options, then run apartment tenant:roles again.",
        );
      }
      const { tenants, created, group, shared } = await apartment.syncRoles();
      ctx.out.result({ command: ctx.command, ok: true, tenants, created, group, shared }, () =>
        [
          `Roles of ${tenants} tenant(s) and spare(s) are created and granted (${created} new); group role ${group} holds ${shared.length} shared table(s)${shared.length ? `: ${shared.join(', ')}` : ''}.`,
          ...(shared.length ? [] : ["Shared models' tables are known only to the app's Apartment: run with --apartment <module> to grant them too."]),
        ].join('\n'),
      );
    },
    'role',
  );
}
