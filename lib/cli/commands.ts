import * as fs from 'node:fs';
import * as path from 'node:path';
import { Apartment } from '../apartment';
import { ConfigurationError, MigrationError, describeValue } from '../errors';
import type { Isolation } from '../dialects/contract';
import type { TenantMigrationPlan } from '../migrations/types';
import type { MigrationResult } from '../types';
import { loadRcFile, resolveConnection, tenantSettings, type GlobalFlags } from './config';
import { apartmentModule, loadApartment, loadModels } from './app';
import { migrationFromModels } from './from-models';
import { generateMigration } from './generate';
import { loadAppSequelize } from './sequelize';
import { Output, errorReport, reportOf, seconds, summary, table, type TenantReport } from './output';
import { fleetOptionsOf, fleetSize, stopOf, waveLine, type FleetFlags } from './fleet';
import type { FleetOptions, WaveReport } from '../migrations/types';

/** What every command gets: where it runs, its flags, and where it writes. */
export interface CommandContext {
  readonly command: string;
  readonly cwd: string;
  readonly flags: GlobalFlags;
  readonly out: Output;
}

export interface MigrateFlags {
  tenant?: string;
  to?: string;
  concurrency?: string;
  /** Show what would run per tenant; change nothing. */
  dryRun?: boolean;
  /** db:migrate:undo over all tenants: revert each tenant's last migration even when they differ. */
  force?: boolean;
  /** db:migrate:status over all tenants: list the pending names per tenant. */
  verbose?: boolean;
  /** db:migrate:status: the failures of the last fleet run. */
  failed?: boolean;
}

/**
 * The app's Apartment (`--apartment`, or .sequelizerc `apartment`), else a
 * Sequelize (the app's own copy) + Apartment built from the resolved config;
 * runs `fn` and always closes the connection so the process can exit. The
 * app's instance is closed too: the module was loaded for this one command.
 * `isolation` is given to an Apartment built from the config (the app's keeps its own).
 */
export async function withApartment<T>(ctx: CommandContext, needs: FolderNeeded, fn: (apartment: Apartment) => Promise<T>, isolation?: Isolation): Promise<T> {
  const rc = loadRcFile(ctx.cwd, ctx.flags.optionsPath);
  const appModule = apartmentModule(ctx.cwd, ctx.flags, rc);
  let apartment: Apartment;
  if (appModule) {
    apartment = await loadApartment(appModule);
    if (ctx.flags.debug) process.stderr.write(`apartment from ${appModule}; prefix ${apartment.prefix}; migrations ${apartment.migrationsPath}\n`);
  } else {
    const settings = tenantSettings(ctx.cwd, ctx.flags, rc);
    const connection = await resolveConnection(ctx.cwd, ctx.flags, rc);
    const app = loadAppSequelize(ctx.cwd);
    const logging = ctx.flags.debug ? (sql: string) => process.stderr.write(`${sql}\n`) : false;
    const options = { ...connection.options, logging };
    const sequelize = 'url' in connection
      ? new app.Sequelize(connection.url, options)
      : new app.Sequelize(connection.database, connection.username as string, connection.password as string, options);
    if (ctx.flags.debug) {
      process.stderr.write(`sequelize ${app.version} from ${app.dir}; database from ${connection.source}; prefix ${settings.prefix};${settings.distribute ? ` distribute ${settings.distribute};` : ''} migrations ${settings.migrationsPath}\n`);
    }
    try {
      apartment = new Apartment(sequelize, { prefix: settings.prefix, migrationsPath: settings.migrationsPath, seedersPath: settings.seedersPath, ...(isolation ? { isolation } : {}), ...(settings.distribute ? { distribute: settings.distribute } : {}) });
    } catch (error) {
      await sequelize.close().catch(() => undefined);
      throw error;
    }
  }
  try {
    checkFolder(apartment, needs, appModule);
    return await fn(apartment);
  } finally {
    await apartment.sequelize.close().catch(() => undefined);
  }
}

/** The folder a command reads: `true` (or 'migrations') the tenant migrations, 'seeders' the tenant seeders, false none. */
export type FolderNeeded = boolean | 'migrations' | 'seeders';

/**
 * The folder the command reads must exist: the Apartment's own (the one the
 * `--apartment` module configured, or the one built from flags and
 * .sequelizerc), never a flag's default beside it. `false` (an --apartment
 * module's choice): no such files, nothing to check.
 */
function checkFolder(apartment: Apartment, needs: FolderNeeded, appModule: string | undefined): void {
  if (needs === false) return;
  const seeders = needs === 'seeders';
  const folder = seeders ? apartment.seedersPath : apartment.migrationsPath;
  if (folder === false || fs.existsSync(folder)) return;
  const option = seeders ? 'seedersPath' : 'migrationsPath';
  const flags = seeders ? "--seeders-path or `tenant-seeders-path` in .sequelizerc" : "--migrations-path or `tenant-migrations-path` in .sequelizerc";
  throw new ConfigurationError(
    `The tenant ${seeders ? 'seeders' : 'migrations'} folder ${folder} does not exist (the current directory is ${process.cwd()}). ${seeders ? 'Create it and add seeder files (sequelize-cli format)' : 'Create it (`apartment migration:generate --name <name>` does)'}, or point ${appModule ? `\`${option}\` of the Apartment in ${appModule}` : flags} at your tenant ${seeders ? 'seeders' : 'migrations'}.`,
  );
}

export function concurrencyOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigurationError(`Expected \`--concurrency\` to be a number from 1 and up, got ${describeValue(value)}.`);
  }
  return n;
}

function fail(): void {
  process.exitCode = 1;
}

export async function tenantCreate(ctx: CommandContext, key: string): Promise<void> {
  await withApartment(ctx, true, async (apartment) => {
    const started = Date.now();
    let result: MigrationResult;
    try {
      result = await apartment.createTenant(key);
    } catch (error) {
      if (!(error instanceof MigrationError) || !error.result) throw error;
      result = error.result as MigrationResult;
    }
    const report = reportOf(result, Date.now() - started);
    if (!report.ok) fail();
    ctx.out.result({ command: ctx.command, ok: report.ok, results: [report] }, () =>
      report.ok
        ? `Created tenant ${report.tenant} (${report.schema}).\n\n${summary([report], 'up')}`
        : `Could not create tenant ${report.tenant}; nothing was left behind.\n\n${summary([report], 'up')}`,
    );
  });
}

export async function tenantDrop(ctx: CommandContext, key: string): Promise<void> {
  await withApartment(ctx, false, async (apartment) => {
    const schema = apartment.schemaFor(key);
    await apartment.dropTenant(key);
    ctx.out.result({ command: ctx.command, ok: true, tenant: key, schema }, () => `Dropped tenant ${key} (${schema}).`);
  });
}

export async function tenantPrewarm(ctx: CommandContext, count: string): Promise<void> {
  const n = Number(count);
  if (!/^\d+$/.test(String(count)) || !Number.isSafeInteger(n)) {
    throw new ConfigurationError(`Expected \`--count\` to be a number from 0 and up, got ${describeValue(count)}.`);
  }
  await withApartment(ctx, true, async (apartment) => {
    const { built, ready } = await apartment.prewarm(n);
    ctx.out.result({ command: ctx.command, ok: true, built, ready }, () => `Built ${built} spare(s); ${ready} ready.`);
  });
}

export async function tenantList(ctx: CommandContext): Promise<void> {
  await withApartment(ctx, false, async (apartment) => {
    const tenants = (await apartment.tenants({ state: true })).map(({ key, state }) => ({ tenant: key, schema: apartment.schemaFor(key), state }));
    ctx.out.result({ command: ctx.command, ok: true, prefix: apartment.prefix, tenants }, () =>
      tenants.length
        ? `${table(['TENANT', 'SCHEMA', 'STATE'], tenants.map((t) => [t.tenant, t.schema, t.state]))}\n\n${tenants.length} tenant(s).`
        : `No tenants (prefix ${apartment.prefix}).`,
    );
  });
}

/** db:migrate and db:migrate:undo: one tenant with --tenant, else all of them (in waves, with the fleet flags). */
export async function migrate(ctx: CommandContext, direction: 'up' | 'down', flags: MigrateFlags & FleetFlags): Promise<void> {
  const concurrency = concurrencyOf(flags.concurrency);
  const fleet = fleetFlagsFor(ctx, flags);
  await withApartment(ctx, true, async (apartment) => {
    const to = flags.to;
    const everyTenant = flags.tenant === undefined;
    const uneven = direction === 'down' && everyTenant && to === undefined && !flags.force && !fleet.resume;
    const plans = flags.dryRun || uneven
      ? everyTenant ? await apartment.migrationPlanAll({ direction, to }) : [await apartment.migrationPlan(flags.tenant!, { direction, to })]
      : undefined;
    // Only the tenants this run covers (--tenants, --skip-tenants) must agree.
    if (uneven) refuseUnevenUndo(plans!.filter((p) => (!fleet.tenants || fleet.tenants.includes(p.tenant)) && !fleet.skipTenants?.includes(p.tenant)));
    if (flags.dryRun) {
      ctx.out.result({ command: ctx.command, ok: true, dryRun: true, direction, to: to ?? null, plans }, () => planText(plans!, direction));
      return;
    }
    const { ok, durationMs, reports, waves, stopped } = await eachTenant(ctx, apartment, flags.tenant, direction === 'up' ? 'migrating' : 'reverting',
      (tenant) => apartment.migrateTenant(tenant, { direction, to }),
      (hooks) => apartment.migrateAll({ direction, to, concurrency, ...fleet, ...hooks, ...ledgerNote(ctx) }),
      fleet, false);
    ctx.out.result({ command: ctx.command, ok, direction, to: to ?? null, durationMs, ...fleetReport(fleet, waves, stopped), results: reports }, () =>
      `${fleetText(fleet, waves, reports, direction)}${summary(reports, direction)} (${seconds(durationMs)})${stopText(stopped)}`,
    );
  });
}

/** The fleet flags as options; refused next to --tenant, which runs one tenant. */
export function fleetFlagsFor(ctx: CommandContext, flags: FleetFlags & { tenant?: string }): FleetOptions {
  const fleet = fleetOptionsOf(flags, ctx.cwd);
  const given = (['canary', 'waves', 'waveSize', 'tenants', 'skipTenants', 'maxFailures', 'resume'] as const).filter((key) => flags[key] !== undefined);
  if (flags.tenant !== undefined && given.length) {
    const names = given.map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
    throw new ConfigurationError(`--tenant runs one tenant; ${names} shape runs over many. Drop --tenant (--tenants ${flags.tenant} runs that one tenant as a fleet run), or drop ${names}.`);
  }
  return fleet;
}

/** The CLI records every run, but a login that cannot write the ledger still migrates (with a note that the run is not recorded). */
export function ledgerNote(ctx: CommandContext): object {
  return { ledgerUnavailable: (error: Error) => ctx.out.note(`apartment ${ctx.command}: note: ${errorReport(error).message.replace('Nothing was run.', 'This run goes on unrecorded, so --resume and db:migrate:status --failed will not see it.')}`) };
}

/** The fleet part of a run's --json output. */
export function fleetReport(fleet: FleetOptions, waves: WaveReport[], stopped: ReturnType<typeof stopOf>): object {
  return {
    ...(fleet.resume ? { resumed: true } : {}),
    waves,
    stopped: stopped ? { reason: stopped.error.reason, message: cliText(stopped.error.message) } : null,
  };
}

/** Wave lines before the summary, when the run was cut into waves; a note when --resume found nothing. */
export function fleetText(fleet: FleetOptions, waves: WaveReport[], reports: TenantReport[], direction: 'up' | 'down'): string {
  if (fleet.resume && reports.length === 0) return `Nothing to resume: the last ${direction === 'up' ? '' : 'reverting '}run finished with every tenant ok, or none is recorded.\n`;
  return waves.length > 1 || waves.some((w) => w.canary) ? `${waves.map(waveLine).join('\n')}\n\n` : '';
}

export function stopText(stopped: ReturnType<typeof stopOf>): string {
  return stopped ? `\n\nSTOPPED: ${cliText(stopped.error.message)}` : '';
}

/** The core's "… again with resume: true" as the command that does it. */
function cliText(message: string): string {
  return message.replace(/(?:migrate|seed) again with resume: true/, 'run the same command again with --resume');
}

/**
 * The run of db:migrate and db:seed: `one` for --tenant, else `all` with a
 * progress bar fed by its onProgress. Sets exit code 1 when a tenant failed,
 * 2 when the canary failed and 3 when a wave stopped the run.
 */
export async function eachTenant(
  ctx: CommandContext,
  apartment: Apartment,
  tenant: string | undefined,
  label: string,
  one: (tenant: string) => Promise<MigrationResult>,
  all: (hooks: { onProgress: (result: MigrationResult) => void; onWave: (wave: WaveReport) => void }) => Promise<MigrationResult[]>,
  fleet: FleetOptions = {},
  seeders = false,
): Promise<{ ok: boolean; durationMs: number; reports: TenantReport[]; waves: WaveReport[]; stopped: ReturnType<typeof stopOf> }> {
  const started = Date.now();
  let reports: TenantReport[];
  const waves: WaveReport[] = [];
  let stopped: ReturnType<typeof stopOf>;
  if (tenant !== undefined) {
    reports = [reportOf(await one(tenant), Date.now() - started)];
  } else {
    const total = await fleetSize(apartment, fleet, seeders);
    const bar = ctx.out.progress(total, label);
    const finished = new Map<string, TenantReport>();
    let results: MigrationResult[];
    try {
      results = await all({
        onProgress: (result) => {
          const report = reportOf(result, Date.now() - started);
          finished.set(result.tenant, report);
          bar.tick(report);
        },
        onWave: (wave) => void waves.push(wave),
      });
    } finally {
      bar.stop();
    }
    reports = results.map((r) => finished.get(r.tenant) ?? reportOf(r, Date.now() - started));
    stopped = stopOf(results);
  }
  const ok = reports.every((r) => r.ok);
  if (!ok) fail();
  if (stopped) process.exitCode = stopped.exitCode;
  return { ok, durationMs: Date.now() - started, reports, waves, stopped };
}

/**
 * A plain `db:migrate:undo` reverts each tenant's last migration: when those
 * differ, it would revert a different change in each (and drop data where a
 * tenant is behind). Refuse, saying which tenants are where.
 */
function refuseUnevenUndo(plans: TenantMigrationPlan[]): void {
  const byLast = new Map<string, string[]>();
  for (const p of plans) if (p.versions.length) byLast.set(p.versions[0]!, [...(byLast.get(p.versions[0]!) ?? []), p.tenant]);
  if (byLast.size < 2) return;
  const where = [...byLast].map(([last, tenants]) => `${listed(tenants)} at ${last}`).join('; ');
  throw new ConfigurationError(
    `Tenants are at different migrations, so db:migrate:undo would revert a different one in each: ${where}. Revert one tenant with apartment db:migrate:undo --tenant <key>, bring every tenant back to the same version with apartment db:migrate:undo --to <version>, or revert each tenant's last migration anyway with --force (apartment db:migrate:undo --dry-run --force shows what that does).`,
  );
}

function listed(items: string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

function planText(plans: TenantMigrationPlan[], direction: 'up' | 'down'): string {
  if (plans.length === 0) return 'No tenants.';
  const verb = direction === 'up' ? 'APPLY' : 'REVERT';
  const rows = plans.map((p) => [p.tenant, p.last ?? '-', p.versions.length ? p.versions.join(', ') : 'nothing']);
  const busy = plans.filter((p) => p.versions.length > 0).length;
  return `${table(['TENANT', 'LAST APPLIED', `WOULD ${verb}`], rows)}\n\nDry run: nothing was changed; ${busy} of ${plans.length} tenant(s) would ${direction === 'up' ? 'migrate' : 'revert'}.`;
}

interface StatusReport {
  tenant: string;
  schema: string;
  ok: boolean;
  executed: string[];
  pending: string[];
  error?: ReturnType<typeof errorReport>;
}

export async function status(ctx: CommandContext, flags: MigrateFlags): Promise<void> {
  if (flags.failed) return failedStatus(ctx, flags);
  await withApartment(ctx, true, async (apartment) => {
    let reports: StatusReport[];
    if (flags.tenant !== undefined) {
      const { executed, pending } = await apartment.migrationStatus(flags.tenant);
      reports = [{ tenant: flags.tenant, schema: apartment.schemaFor(flags.tenant), ok: true, executed, pending }];
    } else {
      // Every tenant's state in a few catalog queries, not one round trip per tenant.
      reports = (await apartment.migrationStatusAll()).map((s) => ({ ...s, ok: true }));
    }
    ctx.out.result({ command: ctx.command, ok: true, tenants: reports }, () => statusText(reports, flags.tenant !== undefined, Boolean(flags.verbose)));
  });
}

/** db:migrate:status --failed: the failed tenants of the last fleet run (from the ledger). */
async function failedStatus(ctx: CommandContext, flags: MigrateFlags): Promise<void> {
  if (flags.tenant !== undefined) throw new ConfigurationError('--failed lists the failures of the last run over many tenants; drop --tenant (or drop --failed to see one tenant).');
  await withApartment(ctx, false, async (apartment) => {
    const run = await apartment.lastRun();
    const failed = run?.tenants.filter((t) => t.state === 'failed') ?? [];
    const pending = run?.tenants.filter((t) => t.state === 'pending') ?? [];
    const info = run ? { id: run.id, direction: run.direction, to: run.to, state: run.state, reason: run.reason && cliText(run.reason), resumes: run.resumes, startedAt: run.startedAt, finishedAt: run.finishedAt } : null;
    ctx.out.result({ command: ctx.command, ok: true, run: info, failed, notReached: pending.map((t) => t.tenant) }, () => {
      if (!run) return 'No fleet run is recorded yet (apartment db:migrate records each run).';
      const head = `Last run ${run.id} (${run.direction}${run.to ? ` to ${run.to}` : ''}), started ${run.startedAt}: ${run.state}${run.reason ? ` (${cliText(run.reason)})` : ''}.`;
      const rows = failed.map((t) => [t.tenant, t.migration ?? '-', t.error ?? '']);
      const body = failed.length ? `\n\n${table(['TENANT', 'MIGRATION', 'ERROR'], rows)}` : '\n\nNo tenant failed.';
      const rest = pending.length ? `\n\n${pending.length} tenant(s) not reached.` : '';
      const next = failed.length || pending.length ? (run.state === 'resumed' ? '\nA later run resumed it.' : `\nRetry them with apartment ${run.direction === 'up' ? 'db:migrate' : 'db:migrate:undo'} --resume.`) : '';
      return `${head}${body}${rest}${next}`;
    });
  });
}

function statusText(reports: StatusReport[], single: boolean, verbose: boolean): string {
  if (reports.length === 0) return 'No tenants.';
  if (single) {
    const r = reports[0]!;
    const lines = [...r.executed.map((v) => `up   ${v}`), ...r.pending.map((v) => `down ${v}`)];
    return `${r.tenant} (${r.schema}):\n${lines.length ? lines.join('\n') : 'no migrations'}`;
  }
  const rows = reports.map((r) =>
    r.ok
      ? [r.tenant, String(r.executed.length), String(r.pending.length), r.executed.at(-1) ?? '-']
      : [r.tenant, '?', '?', `error: ${r.error?.message}`],
  );
  const behind = reports.filter((r) => r.pending.length > 0);
  const pending = verbose ? behind.map((r) => `\n${r.tenant} pending:\n${r.pending.map((v) => `  ${v}`).join('\n')}`) : [];
  return [
    table(['TENANT', 'EXECUTED', 'PENDING', 'LAST'], rows),
    ...pending,
    `\n${reports.length} tenant(s), ${behind.length} with pending migrations.${behind.length && !verbose ? ' --verbose lists them.' : ''}`,
  ].join('\n');
}

export interface GenerateFlags {
  name?: string;
  ts?: boolean;
  /** A module path, or `true` (flag without a value): the `--apartment` module. */
  fromModels?: string | true;
}

/**
 * migration:generate: a skeleton, or with --from-models a migration creating
 * the tables of the app's tenant models (lib/cli/from-models.ts).
 */
export async function generate(ctx: CommandContext, flags: GenerateFlags): Promise<void> {
  const rc = loadRcFile(ctx.cwd, ctx.flags.optionsPath);
  const appModule = apartmentModule(ctx.cwd, ctx.flags, rc);
  // The folder: --migrations-path / .sequelizerc, else the app's Apartment (--apartment, or the
  // --from-models module when it exports one), else the default.
  const configured = !appModule && (ctx.flags.migrationsPath ?? rc['tenant-migrations-path']) !== undefined;
  let migrationsPath: string | false | undefined = configured ? tenantSettings(ctx.cwd, ctx.flags, rc).migrationsPath : undefined;
  let content: string | undefined;
  if (flags.fromModels !== undefined) {
    if (flags.ts) throw new ConfigurationError('--from-models writes a JavaScript migration; drop --ts (rename the file to .ts and add types afterwards if you like).');
    const file = flags.fromModels === true ? appModule : path.resolve(ctx.cwd, flags.fromModels);
    if (!file) {
      throw new ConfigurationError("--from-models needs the module that defines your models: --from-models ./src/models.js, or --apartment ./src/db.js (or .sequelizerc 'apartment') for the module that exports your Apartment.");
    }
    const { apartment, sequelize } = await loadModels(file);
    try {
      content = migrationFromModels({
        sequelize,
        sharedModels: apartment?.sharedModels ?? new Set(),
        sharedSchema: (apartment as any)?.adapter?.defaultSchema,
      });
      migrationsPath ??= apartment?.migrationsPath;
    } finally {
      await sequelize.close().catch(() => undefined);
    }
  }
  if (migrationsPath === undefined && !appModule) migrationsPath = tenantSettings(ctx.cwd, ctx.flags, rc).migrationsPath;
  if (migrationsPath === undefined) {
    const apartment = await loadApartment(appModule!);
    migrationsPath = apartment.migrationsPath;
    await apartment.sequelize.close().catch(() => undefined);
  }
  if (migrationsPath === false) {
    throw new ConfigurationError(
      `The app's Apartment (${appModule ?? flags.fromModels}) has \`migrationsPath: false\` (no tenant migrations), so there is no folder to write to. Set its \`migrationsPath\` to a folder, e.g. path.join(__dirname, 'tenant-migrations'), and run this command again.`,
    );
  }
  const file = generateMigration(migrationsPath, flags.name, Boolean(flags.ts), new Date(), content);
  const shown = path.relative(ctx.cwd, file) || file;
  ctx.out.result({ command: ctx.command, ok: true, file, version: path.basename(file).split('-')[0] }, () =>
    content === undefined
      ? `New tenant migration was created at ${shown}.`
      : `New tenant migration was created at ${shown} from the app's models. Review it, then run apartment db:migrate.`,
  );
}
