#!/usr/bin/env node
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import * as commands from './commands';
import { registerArchiveCommands } from './archive';
import { registerCitusCommands } from './citus';
import { registerRenameCommand } from './rename';
import { registerRolesCommand } from './roles';
import { registerSeedCommands } from './seed';
import type { GlobalFlags } from './config';
import { Output } from './output';
import { fleetOptions } from './fleet';
import { registerDriftCommand } from './drift';
import { registerDoctorCommand } from './doctor';

/**
 * The `apartment` command: sequelize-cli's conventions for tenant migrations.
 * Thin on purpose: it resolves the config, builds Sequelize and an Apartment,
 * and calls the public API.
 */
export function program(): Command {
  const cli = new Command('apartment')
    .description('Tenant schemas/databases and tenant migrations for Sequelize (sequelize-apartment).')
    .version(version(), '-V, --version')
    .option('--url <url>', 'database URL; overrides .sequelizerc, the config file and DATABASE_URL')
    .option('--config <file>', 'sequelize-cli config file (default: .sequelizerc `config`, else config/config.js or config/config.json)')
    .option('--env <name>', 'section of the config file (default: .sequelizerc `env`, else NODE_ENV, else development)')
    .option('--options-path <file>', 'the .sequelizerc to read (default: ./.sequelizerc)')
    .option('--migrations-path <dir>', 'tenant migrations folder (default: .sequelizerc `tenant-migrations-path`, else tenant-migrations)')
    .option('--seeders-path <dir>', 'tenant seeders folder (default: .sequelizerc `tenant-seeders-path`, else tenant-seeders)')
    .option('--prefix <prefix>', 'tenant schema/database prefix (default: .sequelizerc `tenant-prefix`, else tenant_)')
    .option('--distribute <cluster>', "spread tenants over a cluster: citus (default: .sequelizerc `tenant-distribute`, else off)")
    .option('--apartment <module>', "module exporting the app's Apartment instance; database, prefix and migrations folder come from it (default: .sequelizerc `apartment`)")
    .option('--json', 'machine-readable JSON on stdout (nothing else goes to stdout)')
    .option('--debug', 'log SQL and show stacks on errors (also when DEBUG is set)')
    .showHelpAfterError();

  const tenantOptions = (cmd: Command, verb: string) =>
    cmd
      .option('--tenant <key>', `${verb} this tenant only (default: every tenant)`)
      .option('--concurrency <n>', 'tenants at once (default: what the connection pool allows)');

  cli.command('tenant:create <key>')
    .description("create a tenant's schema/database and run every tenant migration in it")
    .action(action('tenant:create', (ctx, key: string) => commands.tenantCreate(ctx, key)));

  cli.command('tenant:drop <key>')
    .description("drop a tenant's schema/database with everything in it")
    .action(action('tenant:drop', (ctx, key: string) => commands.tenantDrop(ctx, key)));

  cli.command('tenant:prewarm')
    .description('keep <n> fully migrated spare schemas/databases ready, so tenant:create/createTenant only renames one')
    .requiredOption('--count <n>', 'how many spares to have ready (existing ones count)')
    .action(action('tenant:prewarm', (ctx, flags: { count: string }) => commands.tenantPrewarm(ctx, flags.count)));

  cli.command('tenant:list')
    .description('list tenants (schemas/databases with the prefix)')
    .action(action('tenant:list', (ctx) => commands.tenantList(ctx)));

  fleetOptions(tenantOptions(cli.command('db:migrate'), 'migrate'))
    .description('apply pending tenant migrations')
    .option('--to <version>', 'apply up to and including this version (default: all pending)')
    .option('--dry-run', 'show what would be applied in each tenant; change nothing')
    .action(action('db:migrate', (ctx, flags: commands.MigrateFlags) => commands.migrate(ctx, 'up', flags)));

  fleetOptions(tenantOptions(cli.command('db:migrate:undo'), 'revert'))
    .description('revert the last tenant migration, or with --to every one back to and including that version')
    .option('--to <version>', 'revert back to and including this version (default: only the last applied)')
    .option('--force', "without --to: revert each tenant's last migration even when tenants are at different ones")
    .option('--dry-run', 'show what would be reverted in each tenant; change nothing')
    .action(action('db:migrate:undo', (ctx, flags: commands.MigrateFlags) => commands.migrate(ctx, 'down', flags)));

  // Reads every tenant in a few batched catalog queries: no --concurrency to set.
  cli.command('db:migrate:status')
    .option('--tenant <key>', 'show this tenant only (default: every tenant)')
    .description('show executed and pending tenant migrations')
    .option('--verbose', 'over all tenants: list the pending migrations of each tenant, not only their count')
    .option('--failed', 'list the failed tenants (and those not reached) of the last db:migrate/db:migrate:undo run, with their errors')
    .action(action('db:migrate:status', (ctx, flags: commands.MigrateFlags) => commands.status(ctx, flags)));

  registerSeedCommands(cli, action);
  registerDriftCommand(cli, action);
  registerDoctorCommand(cli, action);
  registerRenameCommand(cli, action);
  registerArchiveCommands(cli, action);
  registerRolesCommand(cli, action);
  registerCitusCommands(cli, action);

  cli.command('migration:generate')
    .description('write a new tenant migration skeleton (YYYYMMDDHHMMSS-<name>.js) into the migrations folder')
    .requiredOption('--name <name>', 'migration name, e.g. create-widgets')
    .option('--ts', 'write a TypeScript migration (.ts)')
    .option('--from-models [module]', "write a migration creating the tables of the app's tenant models (module exporting the Apartment or Sequelize they are defined on; default: the --apartment module)")
    .action(action('migration:generate', (ctx, flags: commands.GenerateFlags) => commands.generate(ctx, flags)));

  return cli;
}

/** Wraps a command: builds its context, prints errors, sets the exit code. */
function action<A extends unknown[]>(name: string, run: (ctx: commands.CommandContext, ...args: A) => Promise<void>) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const flags = cmd.optsWithGlobals<GlobalFlags>();
    const debug = Boolean(flags.debug || process.env.DEBUG);
    const out = new Output({ json: flags.json, debug });
    const ctx: commands.CommandContext = { command: name, cwd: process.cwd(), flags: { ...flags, debug }, out };
    try {
      // commander passes the positional arguments, then the command's own options, then the command.
      await run(ctx, ...(args.slice(0, -1) as A));
    } catch (error) {
      out.error(name, error);
      process.exitCode = 1;
    }
  };
}

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

if (require.main === module) {
  program().parseAsync(process.argv).catch((error: unknown) => {
    process.stderr.write(`apartment: error: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
