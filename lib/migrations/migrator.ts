import type { Transaction } from 'sequelize';
import { Umzug } from 'umzug';
import { ApartmentError, ConfigurationError, describeValue, FleetStoppedError, MigrationError, sentence, TenantNotFoundError } from '../errors';
import { poolMax } from '../seam/sequelize';
import type { TenantRef } from '../tenant';
import type { MigrationResult } from '../types';
import { boundQueryInterface } from './bound';
import { indexOfVersion, listMigrationFiles, loadMigration, type MigrationFile } from './files';
import type { MigrationHost } from './host';
import { migrationsKind, type StepKind } from './kind';
import { FleetLedger, type FleetRun } from './ledger';
import { runPool } from './pool';
import { readExecuted, TenantMetaStorage } from './storage';
import type { AfterCreate, MigrateAllOptions, MigrateOptions, MigrationStatus, TenantMigrationPlan, TenantMigrationStatus } from './types';
import { WarmTenants } from './warm';
import { checkCanary, fleetPlan, type Wave } from './waves';

type Direction = 'up' | 'down';

/** MigrateOptions, plus the seeders' `only` and `all`. */
export type RunOptions = MigrateOptions & {
  only?: string | string[];
  all?: boolean;
  /** The CLI's: called instead of failing when the ledger cannot be written (a login without CREATE on the default schema); the run goes on unrecorded. */
  ledgerUnavailable?: (error: Error) => void;
};

/** A validated `MigrateOptions`: direction, and the index of `to` in the files. */
/** What a tenant run did: the migrations that completed, and the failure that stopped it. */
interface Outcome {
  readonly versions: string[];
  readonly failure?: MigrationError;
}

interface Plan {
  readonly direction: Direction;
  readonly toIndex: number | undefined;
  /** Only these file names (seeders' `only`). */
  readonly only?: ReadonlySet<string>;
  /** `down`: every applied one, not only the last (db:seed:undo:all). */
  readonly all?: boolean;
}

export type { AfterCreate } from './types';

/** Thrown inside a tenant run to carry the failure out of the lock. */
class RunFailure extends Error {
  constructor(readonly error: ApartmentError, readonly versions?: string[]) {
    super(error.message);
  }
}

/** How `#apply` runs: see there. */
interface ApplyOptions {
  /** A failure escapes the lock (createTenant, seeders), so its transaction rolls everything back. */
  rethrow: boolean;
  /** The schema was created in this run: there is no table of applied steps to read. */
  fresh?: boolean;
  /** The run's catalog read found the table of applied steps: read it without looking it up first. */
  exists?: boolean;
}

/**
 * Runs tenant migrations with umzug, one runner per tenant run, each tenant's
 * state in its own `SequelizeMeta`, under the tenant's migration lock.
 *
 * PostgreSQL: the lock is a transaction (`pg_advisory_xact_lock`); every
 * migration runs in a savepoint of it, so a failing migration is undone
 * entirely and the ones before it are committed. `createTenant` runs CREATE
 * SCHEMA and all migrations in that one transaction. MySQL: DDL commits at
 * once, so migrations run without a transaction, and `createTenant` drops the
 * database again when a migration fails.
 */
export class TenantMigrator {
  readonly #host: MigrationHost;
  /** Migrations or seeders. */
  readonly kind: StepKind;
  #warm: WarmTenants | undefined;

  constructor(host: MigrationHost, kind: StepKind = migrationsKind(host.migrationsPath)) {
    this.#host = host;
    this.kind = kind;
  }

  /** Prewarmed spares that createTenant claims first (lib/migrations/warm.ts); made on first use, so a seeders instance has none. */
  get warm(): WarmTenants {
    this.#warm ??= new WarmTenants(this.#host, (tenant, options) => this.migrate(tenant, options), (tenant, after) => this.build(tenant, after));
    return this.#warm;
  }

  /**
   * The migration files, ordered by name; none with `migrationsPath: false`.
   * @throws ConfigurationError when the folder is missing (createTenant too: an empty tenant nobody asked for would fail later, far from the cause)
   */
  files(): MigrationFile[] {
    const { folder, noun, option } = this.kind;
    if (folder === false) return [];
    const files = listMigrationFiles(folder);
    if (files) return files;
    throw new ConfigurationError(
      `The tenant ${noun}s folder ${folder} does not exist (a relative \`${option}\` is resolved against the current directory, ${process.cwd()}). Create it (mkdir -p ${folder}) and add ${noun} files, ${this.kind.how}.`,
    );
  }

  /**
   * Creates the tenant's schema/database and applies every migration.
   * @throws TenantExistsError (nothing is touched), MigrationError with `.result` (nothing is left behind)
   */
  async createTenant(tenant: TenantRef, after?: AfterCreate): Promise<MigrationResult> {
    const files = this.files();
    // A prewarmed spare, renamed and brought up to date, when there is one.
    if (await this.warm.claim(tenant, after)) return { ok: true, tenant: tenant.key, schema: tenant.name, versions: files.map((f) => f.name) };
    return this.build(tenant, after, files);
  }

  /**
   * Creates the schema/database and applies every migration (then `after`),
   * under its lock; on PostgreSQL in the lock's one transaction, so nobody
   * sees it before it is whole. What createTenant does without a spare, and
   * how a spare is built.
   * @throws TenantExistsError (nothing is touched), MigrationError with `.result` (nothing is left behind)
   */
  async build(tenant: TenantRef, after?: AfterCreate, files: MigrationFile[] = this.files()): Promise<MigrationResult> {
    const plan: Plan = { direction: 'up', toIndex: undefined };
    const { adapter } = this.#host;
    try {
      const { versions } = await adapter.withLock(tenant.name, async (transaction) => {
        await adapter.create(tenant, transaction ? { transaction } : {});
        try {
          const outcome = await this.#apply(tenant, files, plan, transaction, { rethrow: true, fresh: true });
          if (after) await after(tenant, transaction);
          return outcome;
        } catch (error) {
          // Transactional DDL (PostgreSQL): the lock's transaction rolls back the schema with everything else.
          if (!adapter.transactionalDdl) await adapter.drop(tenant).catch(() => undefined);
          throw error;
        }
      });
      return { ok: true, tenant: tenant.key, schema: tenant.name, versions };
    } catch (error) {
      if (!(error instanceof RunFailure)) throw error;
      const failure = new MigrationError(
        `Creating tenant '${tenant.key}' failed, so it was not created ("${tenant.name}" was removed again): ${error.error.message}`,
        {
          tenant: tenant.key,
          cause: (error.error as MigrationError).cause ?? error.error,
          migration: (error.error as MigrationError).migration,
          direction: 'up',
        },
      );
      failure.result = { ok: false, tenant: tenant.key, schema: tenant.name, error: failure } satisfies MigrationResult;
      throw failure;
    }
  }

  /**
   * Creates a tenant with exactly `versions` applied (an archive's, in file
   * order; never a warm spare, which has every migration), then runs `fill`
   * in the same lock and, on PostgreSQL, the same transaction. On any failure
   * nothing is left: PostgreSQL rolls back, MySQL drops the database.
   * @throws MigrationError (a migration failed), whatever `fill` throws
   */
  async createExactly(tenant: TenantRef, versions: readonly string[], fill: (transaction: Transaction | undefined) => Promise<void>): Promise<string[]> {
    const files = this.files();
    const plan: Plan = { direction: 'up', toIndex: undefined, only: new Set(versions) };
    const { adapter } = this.#host;
    try {
      return await adapter.withLock(tenant.name, async (transaction) => {
        await adapter.create(tenant, transaction ? { transaction } : {});
        try {
          const outcome = versions.length ? await this.#apply(tenant, files, plan, transaction, { rethrow: true, fresh: true }) : { versions: [] };
          await fill(transaction);
          return outcome.versions;
        } catch (error) {
          if (!transaction) await adapter.drop(tenant).catch(() => undefined);
          throw error;
        }
      });
    } catch (error) {
      throw error instanceof RunFailure ? error.error : error;
    }
  }

  /**
   * Applies or reverts one tenant's migrations. Never throws for a failing
   * migration (the result has `ok: false`).
   * @throws ConfigurationError for bad options or a missing folder, TenantNotFoundError for an unknown tenant
   */
  async migrate(tenant: TenantRef, options: RunOptions = {}): Promise<MigrationResult> {
    const files = this.files();
    const plan = this.#plan(files, options);
    if (!(await this.#host.adapter.exists(tenant))) throw this.#notFound(tenant);
    return this.#run(tenant, files, plan);
  }

  /**
   * Migrates every tenant (or those `tenants`/`skipTenants` leave), `concurrency`
   * at a time. Reads the state of all tenants in a few catalog queries first;
   * only tenants with work take a lock and a runner. Without `canary` or waves
   * it continues past failures; with them it runs the canary, then each wave,
   * and stops before the next wave when one has more failures than
   * `maxFailures` (lib/migrations/waves.ts). `ledger`/`resume`: lib/migrations/ledger.ts.
   */
  async migrateAll(options: RunOptions & MigrateAllOptions = {}): Promise<MigrationResult[]> {
    const files = this.files();
    let plan = this.#plan(files, options);
    const fleet = fleetPlan(options);
    const concurrency = this.#concurrency(options.concurrency);
    const onProgress = options.onProgress;
    if (onProgress !== undefined && typeof onProgress !== 'function') {
      throw new ConfigurationError(`Expected \`onProgress\` to be a function, got ${describeValue(onProgress)}.`);
    }
    const all = await this.#host.listTenants();
    let scope = fleet.scope(all);
    let resumes: FleetRun | undefined;
    if (options.resume) {
      resumes = await FleetLedger.last(this.#host, `${this.kind.noun}s`);
      if (!resumes || resumes.state === 'done' || resumes.state === 'resumed') return [];
      options = this.#resumeOptions(options, resumes);
      const rest = new Set(resumes.tenants.filter((t) => t.state !== 'ok').map((t) => t.tenant));
      scope = scope.filter((tenant) => rest.has(tenant.key));
    }
    if (resumes) plan = this.#plan(files, options);
    checkCanary(options, scope);
    const executed = await readExecuted(this.#host, scope, this.kind.table);
    const results: MigrationResult[] = new Array(scope.length);
    const position = new Map(scope.map((tenant, index) => [tenant.key, index]));
    let ledger = options.ledger || options.resume ? new FleetLedger(this.#host) : undefined;
    let progressError: unknown;
    const report = (tenant: TenantRef, result: MigrationResult) => {
      results[position.get(tenant.key)!] = result;
      ledger?.record(result);
      try {
        onProgress?.(result);
      } catch (error) {
        progressError ??= error;
      }
    };
    const work = scope.filter((tenant) => this.#select(files, executed.get(tenant.name) ?? [], plan).length > 0);
    const waves = fleet.waves(work);
    if (ledger) {
      const waveOf = new Map(waves.flatMap((wave) => wave.tenants.map((tenant) => [tenant.key, wave.index] as const)));
      try {
        await ledger.start(
          { kind: `${this.kind.noun}s`, direction: plan.direction, to: options.to === undefined || options.to === null ? null : String(options.to), resumes: resumes?.id },
          scope.map((tenant) => ({ tenant: tenant.key, schema: tenant.name, wave: waveOf.get(tenant.key) ?? -1, done: !waveOf.has(tenant.key) })),
        );
      } catch (error) {
        ledger.abandon();
        const failure = new ConfigurationError(
          `Cannot record this run in the fleet ledger (tables apartment_fleet_runs and apartment_fleet_tenants of "${this.#host.adapter.defaultSchema}"): ${sentence((error as Error)?.message ?? error)} Nothing was run. Let this login create tables there, or run without \`ledger\` and \`resume\`.`,
          { cause: error },
        );
        if (!options.ledgerUnavailable || options.resume) throw failure;
        options.ledgerUnavailable(failure);
        ledger = undefined;
      }
    }
    const busy = new Set(work.map((tenant) => tenant.key));
    for (const tenant of scope) if (!busy.has(tenant.key)) report(tenant, { ok: true, tenant: tenant.key, schema: tenant.name, versions: [] });
    let stopped: FleetStoppedError | undefined;
    try {
      for (const wave of waves) {
        if (stopped) {
          for (const tenant of wave.tenants) report(tenant, { ok: false, tenant: tenant.key, schema: tenant.name, versions: [], error: stopped });
          continue;
        }
        const failed: string[] = [];
        await runPool(wave.tenants, concurrency, async (tenant) => {
          let result: MigrationResult;
          try {
            result = await this.#run(tenant, files, plan, (executed.get(tenant.name)?.length ?? 0) > 0);
          } catch (error) {
            result = { ok: false, tenant: tenant.key, schema: tenant.name, error: error as Error };
          }
          if (!result.ok) failed.push(tenant.key);
          report(tenant, result);
        });
        if (failed.length > wave.maxFailures) stopped = this.#stopped(wave, failed, waves.length);
        await ledger?.flush();
        try {
          options.onWave?.({ index: wave.index, total: waves.length, canary: wave.canary, tenants: wave.tenants.map((t) => t.key), failed: failed.sort(), stopped: stopped !== undefined });
        } catch (error) {
          progressError ??= error;
        }
      }
    } catch (error) {
      ledger?.abandon();
      throw error;
    }
    // Spares follow the tenants (they are not in the results) after a whole, unstopped run over every tenant.
    // When no tenant had work, spares built since are current too, and claim() catches up any that is not.
    const everyTenant = scope.length === all.length && !options.resume;
    if (!stopped && everyTenant && work.length > 0 && this.kind.noun === 'migration') await this.warm.migrateSpares({ direction: options.direction, to: options.to });
    if (ledger) {
      const failures = results.filter((r) => !r.ok && !(r.error instanceof FleetStoppedError)).length;
      await ledger.finish(stopped ? 'stopped' : failures ? 'failed' : 'done', stopped ? stopped.message : failures ? `${failures} tenant(s) failed` : null);
    }
    if (progressError !== undefined) throw progressError;
    return results;
  }

  /** The error of every tenant a stopped run did not reach. */
  #stopped(wave: Wave, failed: string[], total: number): FleetStoppedError {
    const names = failed.map((key) => `'${key}'`).join(', ');
    const verb = this.kind.noun === 'migration' ? 'migrate' : 'seed';
    return wave.canary
      ? new FleetStoppedError(
        `The canary failed (${names}), so the run stopped before the other tenants: nothing ran in them. Fix the ${this.kind.noun}, then ${verb} again with resume: true.`,
        { reason: 'canary' },
      )
      : new FleetStoppedError(
        `Wave ${wave.index + 1} of ${total} had ${failed.length} failure(s) (${names}), more than maxFailures allows (${wave.maxFailures}), so the run stopped before the next wave. Fix the ${this.kind.noun}, then ${verb} again with resume: true.`,
        { reason: 'max-failures' },
      );
  }

  /** A resumed run goes the recorded run's way; options that contradict it are refused. */
  #resumeOptions(options: RunOptions & MigrateAllOptions, run: FleetRun): RunOptions & MigrateAllOptions {
    const direction = options.direction ?? run.direction;
    const to = options.to ?? run.to ?? undefined;
    if (direction !== run.direction || String(to ?? '') !== String(run.to ?? '')) {
      throw new ConfigurationError(
        `The run to resume (${run.id}) went ${run.direction}${run.to ? ` to ${run.to}` : ''}; got direction ${describeValue(options.direction)} and to ${describeValue(options.to)}. Resume without them, or start a new run.`,
      );
    }
    return { ...options, direction, to };
  }

  /** The last fleet run recorded in the ledger (`ledger: true`, the CLI), or undefined. */
  lastRun(): Promise<FleetRun | undefined> {
    return FleetLedger.last(this.#host, `${this.kind.noun}s`);
  }

  /**
   * Applied and pending migrations of one tenant.
   * @throws ConfigurationError for a missing folder, TenantNotFoundError for an unknown tenant
   */
  async status(tenant: TenantRef): Promise<MigrationStatus> {
    const files = this.files();
    if (!(await this.#host.adapter.exists(tenant))) throw this.#notFound(tenant);
    return statusOf(files, (await readExecuted(this.#host, [tenant], this.kind.table)).get(tenant.name) ?? []);
  }

  /** Status of every tenant from the same few catalog queries migrateAll uses to find its work. */
  async statusAll(): Promise<TenantMigrationStatus[]> {
    const files = this.files();
    const tenants = await this.#host.listTenants();
    const executed = await readExecuted(this.#host, tenants, this.kind.table);
    return tenants.map((tenant) => ({ tenant: tenant.key, schema: tenant.name, ...statusOf(files, executed.get(tenant.name) ?? []) }));
  }

  /**
   * What `migrate(tenant, options)` would run, without running it.
   * @throws ConfigurationError for bad options or a missing folder, TenantNotFoundError for an unknown tenant
   */
  async plan(tenant: TenantRef, options: MigrateOptions = {}): Promise<TenantMigrationPlan> {
    const files = this.files();
    const plan = this.#plan(files, options);
    if (!(await this.#host.adapter.exists(tenant))) throw this.#notFound(tenant);
    return this.#planOf(tenant, files, (await readExecuted(this.#host, [tenant])).get(tenant.name) ?? [], plan);
  }

  /** What `migrateAll(options)` would run in every tenant, read in the few catalog queries migrateAll uses. */
  async planAll(options: MigrateOptions = {}): Promise<TenantMigrationPlan[]> {
    const files = this.files();
    const plan = this.#plan(files, options);
    const tenants = await this.#host.listTenants();
    const executed = await readExecuted(this.#host, tenants);
    return tenants.map((tenant) => this.#planOf(tenant, files, executed.get(tenant.name) ?? [], plan));
  }

  #planOf(tenant: TenantRef, files: MigrationFile[], executed: readonly string[], plan: Plan): TenantMigrationPlan {
    const last = [...executed].sort().at(-1) ?? null;
    return { tenant: tenant.key, schema: tenant.name, direction: plan.direction, versions: this.#select(files, executed, plan), last };
  }

  /** Default concurrency: as many tenants as the pool has connections for (one spare). */
  #concurrency(requested: unknown): number {
    const max = poolMax(this.#host.sequelize);
    const perTenant = this.#host.adapter.lockHoldsConnection ? 2 : 1;
    const fits = Math.max(1, Math.floor((max - 1) / perTenant));
    if (requested === undefined) return fits;
    if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
      throw new ConfigurationError(`Expected \`concurrency\` to be a number from 1 and up, got ${describeValue(requested)}.`);
    }
    // More would wait for connections held by lock owners that wait for connections.
    return Math.min(requested, fits);
  }

  #plan(files: MigrationFile[], options: RunOptions): Plan {
    if (options === null || typeof options !== 'object') {
      throw new ConfigurationError(`Expected ${this.kind.noun === 'migration' ? 'migrate' : 'seed'} options to be an object, got ${describeValue(options)}.`);
    }
    const { direction = 'up', to } = options;
    if (direction !== 'up' && direction !== 'down') {
      throw new ConfigurationError(`Expected \`direction\` to be 'up' or 'down', got ${describeValue(direction)}.`);
    }
    const only = this.#only(files, options.only);
    const all = options.all === undefined ? undefined : options.all;
    if (all !== undefined && typeof all !== 'boolean') {
      throw new ConfigurationError(`Expected \`all\` to be a boolean, got ${describeValue(all)}.`);
    }
    if (to === undefined || to === null) return { direction, toIndex: undefined, only, all };
    if (typeof to !== 'string' && typeof to !== 'number') {
      throw new ConfigurationError(`Expected \`to\` to be a migration version like '20260101120000', got ${describeValue(to)}.`);
    }
    const toIndex = indexOfVersion(files, to);
    if (toIndex === -1) {
      throw new ConfigurationError(
        `No tenant migration has the version ${describeValue(to)} in ${where(this.kind)}. Pass the leading number of a migration file name${files.length ? `, e.g. '${files[files.length - 1]!.version}'` : ''}.`,
      );
    }
    return { direction, toIndex, only, all };
  }

  /** `only`: file names, with or without their extension, that must all exist. */
  #only(files: MigrationFile[], only: unknown): Set<string> | undefined {
    if (only === undefined || only === null) return undefined;
    const wanted = typeof only === 'string' ? [only] : only;
    if (!Array.isArray(wanted) || wanted.length === 0 || wanted.some((name) => typeof name !== 'string')) {
      throw new ConfigurationError(`Expected \`only\` to be a ${this.kind.noun} file name or a non-empty array of them, got ${describeValue(only)}.`);
    }
    const names = new Set<string>();
    for (const name of wanted as string[]) {
      const file = files.find((f) => f.name === name || f.name.replace(/\.[cm]?[jt]s$/, '') === name);
      if (!file) {
        throw new ConfigurationError(
          `No tenant ${this.kind.noun} named ${describeValue(name)} in ${where(this.kind)}. Pass a file name from it${files.length ? `, e.g. '${files[0]!.name}'` : ''}.`,
        );
      }
      names.add(file.name);
    }
    return names;
  }

  /**
   * Runs every pending step in a tenant being created, in createTenant's lock
   * and transaction (an `AfterCreate`: seeders after the migrations). A
   * failure escapes, so createTenant leaves nothing behind.
   */
  async applyPending(tenant: TenantRef, transaction: Transaction | undefined): Promise<string[]> {
    const { versions } = await this.#apply(tenant, this.files(), { direction: 'up', toIndex: undefined }, transaction, { rethrow: true });
    return versions;
  }

  /** Names to run, in order: pending up to `to`; or applied back to `to` (default: the last one), newest first. */
  #select(files: MigrationFile[], executed: readonly string[], plan: Plan): string[] {
    const done = new Set(executed);
    if (plan.direction === 'up') {
      const last = plan.toIndex ?? files.length - 1;
      return files.filter((file, index) => index <= last && !done.has(file.name) && (!plan.only || plan.only.has(file.name))).map((f) => f.name);
    }
    const applied = [...executed].sort();
    if (plan.only) return applied.filter((name) => plan.only!.has(name)).reverse();
    if (plan.all) return applied.reverse();
    if (plan.toIndex === undefined) return applied.slice(-1);
    const from = files[plan.toIndex]!.name;
    return applied.filter((name) => name >= from).reverse();
  }

  /** One tenant, under its lock. Failures become `{ ok: false }`. */
  async #run(tenant: TenantRef, files: MigrationFile[], plan: Plan, exists = false): Promise<MigrationResult> {
    try {
      // Seeders (wholeRun): a failure escapes the lock, so PostgreSQL rolls back the whole run.
      const outcome = await this.#host.adapter.withLock(tenant.name, (transaction) => this.#apply(tenant, files, plan, transaction, { rethrow: this.kind.wholeRun, exists }));
      if (outcome.failure) return { ok: false, tenant: tenant.key, schema: tenant.name, error: outcome.failure, versions: outcome.versions };
      return { ok: true, tenant: tenant.key, schema: tenant.name, versions: outcome.versions };
    } catch (error) {
      if (error instanceof RunFailure) return { ok: false, tenant: tenant.key, schema: tenant.name, error: error.error, ...(error.versions ? { versions: error.versions } : {}) };
      const wrapped = error instanceof ApartmentError ? error : new MigrationError(
        `${this.kind.noun === 'migration' ? 'Migrating' : 'Seeding'} tenant '${tenant.key}' ("${tenant.name}") failed before any ${this.kind.noun} ran: ${sentence((error as Error)?.message ?? error)} Check the connection and retry.`,
        { tenant: tenant.key, cause: error, direction: plan.direction },
      );
      return { ok: false, tenant: tenant.key, schema: tenant.name, error: wrapped };
    }
  }

  /**
   * Runs the selected migrations with umzug. On PostgreSQL (`transaction`
   * given) each migration runs in a savepoint, so a failure undoes only that
   * migration and the lock's transaction commits the ones before it. With
   * `rethrow` (createTenant, seeders) the failure escapes the lock instead,
   * so its transaction rolls everything back.
   *
   * Savepoints cost a round trip each (10,000 of them in a fleet run): a step
   * that would be rolled back with the whole transaction anyway (every step
   * with `rethrow`, the first step of a run otherwise) runs without one, and
   * its failure rolls the lock's transaction back, which leaves the tenant
   * as a savepoint would have.
   */
  async #apply(tenant: TenantRef, files: MigrationFile[], plan: Plan, transaction: Transaction | undefined, options: ApplyOptions): Promise<Outcome> {
    const { rethrow, fresh, exists } = options;
    const host = this.#host;
    const { noun } = this.kind;
    const Noun = noun === 'migration' ? 'Migration' : 'Seeder';
    // createTenant (`fresh`) made the schema in this run: it has no table of applied steps to read.
    const storage = new TenantMetaStorage(host, tenant, transaction, this.kind.table, { fresh, exists });
    const names = this.#select(files, await storage.executed(), plan);
    if (names.length === 0) return { versions: [] };
    const byName = new Map(files.map((file) => [file.name, file]));
    const missing = names.find((name) => !byName.has(name));
    if (missing) {
      throw new RunFailure(
        new MigrationError(
          `${Noun} ${missing} is applied in tenant '${tenant.key}' ("${tenant.name}") but its file is not in ${where(this.kind)}. Restore the file to revert it.`,
          { tenant: tenant.key, migration: missing, direction: plan.direction },
        ),
      );
    }
    const Sequelize = host.sequelize.constructor;
    const queryInterface = host.sequelize.getQueryInterface();
    const step = (file: MigrationFile, direction: Direction) => async () => {
      const migration = await loadMigration(file);
      const fn = migration[direction];
      if (typeof fn !== 'function') {
        throw new ConfigurationError(`${Noun} ${file.name} has no \`down\` function, so it cannot be reverted. Add \`async down(queryInterface, Sequelize) {}\` to it.`);
      }
      await host.context.run(tenant, async () => {
        if (!transaction) {
          await fn.call(migration, queryInterface, Sequelize);
          return;
        }
        if (rethrow || versions.length === 0) {
          await fn.call(migration, boundQueryInterface(queryInterface, transaction), Sequelize);
          return;
        }
        await host.sequelize.transaction({ transaction }, (savepoint) =>
          Promise.resolve(fn.call(migration, boundQueryInterface(queryInterface, savepoint), Sequelize)),
        );
      });
    };
    const versions: string[] = [];
    const umzug = new Umzug({
      migrations: files.map((file) => ({ name: file.name, path: file.path, up: step(file, 'up'), down: step(file, 'down') })),
      storage,
      context: {},
      logger: undefined,
    });
    umzug.on('migrated', ({ name }) => void versions.push(name));
    umzug.on('reverted', ({ name }) => void versions.push(name));
    try {
      if (plan.direction === 'up') await umzug.up({ migrations: names });
      else await umzug.down({ migrations: names });
      return { versions };
    } catch (error) {
      const mode = !transaction || !host.adapter.transactionalDdl ? 'partial' : this.kind.wholeRun ? 'run' : rethrow ? 'create' : 'atomic';
      const failure = this.#failure(tenant, plan.direction, error, mode);
      // No savepoint undid the failed step (see above): the lock's transaction must roll back.
      if (rethrow || (transaction && versions.length === 0)) throw new RunFailure(failure, rethrow ? undefined : versions);
      return { versions, failure };
    }
  }

  #failure(tenant: TenantRef, direction: Direction, error: unknown, mode: 'atomic' | 'partial' | 'create' | 'run'): MigrationError {
    const info = (error as any)?.migration as { name?: string; direction?: Direction } | undefined;
    const cause = info ? ((error as any).cause ?? error) : error;
    const migration = info?.name;
    const { noun } = this.kind;
    const what = migration ? `${noun === 'migration' ? 'Migration' : 'Seeder'} ${migration}` : `A ${noun}`;
    const after = {
      atomic: ' Its changes were rolled back and the tenant stays at its last good version.',
      run: ` Its changes and those of the ${noun}s before it in this run were rolled back: the tenant is as it was.`,
      partial: ' Changes it made before failing were not rolled back (MySQL commits DDL at once); check the tenant before retrying.',
      create: '',
    }[mode];
    const again = noun === 'migration' ? 'run the migrations again' : 'seed again';
    return new MigrationError(
      `${what} failed going ${info?.direction ?? direction} in tenant '${tenant.key}' ("${tenant.name}"): ${sentence((cause as Error)?.message ?? cause)}${after} Fix the ${noun} and ${again}.`,
      { tenant: tenant.key, cause, migration, direction: info?.direction ?? direction },
    );
  }

  #notFound(tenant: TenantRef): TenantNotFoundError {
    return new TenantNotFoundError(
      `Tenant '${tenant.key}' does not exist (no schema/database "${tenant.name}"). Create it with createTenant('${tenant.key}'), or list tenants with apartment.tenants().`,
      { tenant: tenant.key },
    );
  }
}

/** Applied migrations as stored, and the files not applied yet, in file order. */
function statusOf(files: readonly MigrationFile[], executed: string[]): MigrationStatus {
  const applied = new Set(executed);
  return { executed, pending: files.filter((f) => !applied.has(f.name)).map((f) => f.name) };
}

/** How messages name the folder. */
function where(kind: StepKind): string {
  return kind.folder === false ? `this app (\`${kind.option}: false\`: no tenant ${kind.noun}s)` : kind.folder;
}
