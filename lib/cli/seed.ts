import type { Command } from 'commander';
import { concurrencyOf, eachTenant, fleetFlagsFor, fleetReport, ledgerNote, fleetText, stopText, withApartment, type CommandContext } from './commands';
import { fleetOptions, type FleetFlags } from './fleet';
import { seconds, summary } from './output';

/** Flags of the db:seed commands. */
export interface SeedFlags {
  tenant?: string;
  seed?: string[];
  concurrency?: string;
}

type Action = <A extends unknown[]>(name: string, run: (ctx: CommandContext, ...args: A) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/**
 * The tenant seeder commands, sequelize-cli's names: db:seed:all, db:seed
 * --seed, db:seed:undo [--seed], db:seed:undo:all. Each runs in every tenant,
 * or in one with --tenant, like db:migrate (progress, --json, exit code 1
 * when a tenant failed).
 */
export function registerSeedCommands(cli: Command, action: Action): void {
  const common = (cmd: Command, verb: string) =>
    cmd
      .option('--tenant <key>', `${verb} this tenant only (default: every tenant)`)
      .option('--concurrency <n>', 'tenants at once (default: what the connection pool allows)');

  fleetOptions(common(cli.command('db:seed:all'), 'seed'))
    .description("run every tenant seeder not yet run in the tenant (recorded in the tenant's SequelizeData)")
    .action(action('db:seed:all', (ctx, flags: SeedFlags & FleetFlags) => seed(ctx, 'up', { ...flags, seed: undefined })));

  common(cli.command('db:seed'), 'seed')
    .description('run the named tenant seeder(s), once per tenant')
    .requiredOption('--seed <names...>', 'seeder file name(s), with or without .js')
    .action(action('db:seed', (ctx, flags: SeedFlags) => seed(ctx, 'up', flags)));

  common(cli.command('db:seed:undo'), 'revert')
    .description('revert the last tenant seeder run, or with --seed the named one(s)')
    .option('--seed <names...>', 'seeder file name(s), with or without .js')
    .action(action('db:seed:undo', (ctx, flags: SeedFlags) => seed(ctx, 'down', flags)));

  common(cli.command('db:seed:undo:all'), 'revert')
    .description('revert every tenant seeder run')
    .action(action('db:seed:undo:all', (ctx, flags: SeedFlags) => seed(ctx, 'down', { ...flags, seed: undefined }, true)));
}

async function seed(ctx: CommandContext, direction: 'up' | 'down', flags: SeedFlags & FleetFlags, all = false): Promise<void> {
  const concurrency = concurrencyOf(flags.concurrency);
  // Only db:seed:all has the fleet flags; every seed run over many tenants is recorded in the ledger.
  const fleet = fleetFlagsFor(ctx, flags);
  await withApartment(ctx, 'seeders', async (apartment) => {
    const options = { direction, only: flags.seed, all };
    const { ok, durationMs, reports, waves, stopped } = await eachTenant(ctx, apartment, flags.tenant, direction === 'up' ? 'seeding' : 'reverting seeds',
      (tenant) => apartment.seedTenant(tenant, options),
      (more) => apartment.seedAll({ ...options, concurrency, ...fleet, ...more, ...ledgerNote(ctx) }),
      fleet, true);
    ctx.out.result({ command: ctx.command, ok, direction, seeders: flags.seed ?? null, durationMs, ...fleetReport(fleet, waves, stopped), results: reports }, () =>
      `${fleetText(fleet, waves, reports, direction)}${summary(reports, direction, 'seeders')} (${seconds(durationMs)})${stopText(stopped)}`,
    );
  });
}
