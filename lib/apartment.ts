import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { TenantContext } from './context';
import { adapterFor, type DialectAdapter } from './dialects';
import { checkMove, CitusOperations, type MoveOptions, type MoveResult, type NodeAddress } from './cluster';
import type { Isolation, RolesResult, SuspendState } from './dialects/contract';
import { ConfigurationError, TenantBusyError, TenantExistsError, TenantNotFoundError, describeValue } from './errors';
import type { TenantMigrator } from './migrations/migrator';
import type { MigrationHost } from './migrations/host';
import type { PrewarmResult } from './migrations/warm';
import type { FleetRun } from './migrations/ledger';
import type { DriftOptions, DriftReport } from './migrations/drift';
import type { DoctorOptions, DoctorReport } from './doctor';
import type { CreateTenantOptions, MigrateAllOptions, MigrateOptions, MigrationStatus, SeedAllOptions, SeedOptions, TenantMigrationPlan, TenantMigrationStatus } from './migrations/types';
import type { MiddlewareOptions, TenantMiddleware } from './http/middleware';
import type { ExpressRequestLike, TenantRequest } from './http/request';
import type { ExportOptions, ExportResult } from './archive/export';
import type { ImportOptions, ImportResult } from './archive/import';
import { checkAssociations, patchAssociations, routers } from './routing/associations';
import { checkSeam } from './seam/checks';
import { boolean, checkOptions, folder, names, oneOf, type OptionTable } from './options';
import { installModelMethods } from './routing/models';
import { affinityOptions, TenantAffinity, type AffinityOptions } from './pool/affinity';
import { installQueryRouting } from './routing/queries';
import { installQueryInterfaceScoping } from './routing/query-interface';
import { Router } from './routing/router';
import { installTable, installTableQuoting, relinkReferences } from './routing/tables';
import { checkDefaultSchema, checkPrefix, TenantNames, type Tenant, type TenantRef } from './tenant';
import type { MigrationResult } from './types';

/** Options of `new Apartment(sequelize, options)`; each is checked before anything is installed (an unknown key is a `ConfigurationError` naming the closest known one). */
export interface ApartmentOptions {
  /**
   * Put in front of a tenant key to make its schema (PostgreSQL) or database
   * (MySQL/MariaDB) name.
   * @default 'tenant_'
   * @example new Apartment(sequelize, { prefix: 'org_' }) // 'acme' -> org_acme
   */
  prefix?: string;
  /**
   * Folder of tenant migrations (sequelize-cli format), relative to
   * `process.cwd()`; an absolute path (`path.join(__dirname, ...)`) works
   * whatever folder the app is started from. A folder that does not exist is
   * a `ConfigurationError` for every call that runs migrations, `createTenant`
   * included. `false`: this app has no tenant migrations (`createTenant` makes
   * an empty schema/database, `migrateTenant`/`migrateAll` have nothing to do).
   * @default 'tenant-migrations'
   * @example new Apartment(sequelize, { migrationsPath: path.join(__dirname, 'tenant-migrations') })
   * @example new Apartment(sequelize, { migrationsPath: false }) // tables made by sync() inside run()
   */
  migrationsPath?: string | false;
  /**
   * Folder of tenant seeders (sequelize-cli format: `up(queryInterface, Sequelize)` /
   * `down`), relative to `process.cwd()` (or absolute); `false` for none.
   * Only read when seeding; then a folder that does not exist is a
   * `ConfigurationError` (default or configured), as for `migrationsPath`.
   * @default 'tenant-seeders'
   * @example new Apartment(sequelize, { seedersPath: 'db/tenant-seeders' })
   */
  seedersPath?: string | false;
  /**
   * Run the tenant seeders in every tenant `createTenant` makes (in the same
   * lock, and on PostgreSQL the same transaction, as its migrations).
   * `createTenant(key, { seed })` overrides it per call.
   * @default false
   */
  seedAfterCreate?: boolean;
  /**
   * Names of models that always live in the default schema/database, also
   * inside a tenant context (accounts, plans, ...). A belongsToMany between
   * two shared models needs its through model listed too.
   * @default []
   * @example new Apartment(sequelize, { sharedModels: ['Account'] })
   */
  sharedModels?: string[];
  /**
   * Strict mode: a tenant model used with no tenant (no context, no `tenant`
   * option, no bound instance) throws `NoTenantError` without sending SQL.
   * With `false` it falls back to the default schema/database.
   * @default true
   */
  strict?: boolean;
  /**
   * The schema (PostgreSQL) or database (MySQL) that shared models and
   * tenant-less queries use.
   * @default 'public' on PostgreSQL; the connection's database on MySQL
   */
  defaultSchema?: string;
  /**
   * Tags every statement sent in a tenant context (model and raw SQL) with a
   * trailing `/* tenant='acme' *\/`, so `pg_stat_activity`,
   * `pg_stat_statements`, slow-query and general logs show the tenant; the
   * line Sequelize logs carries it too, and a `logging` function gets
   * `options.tenant`. Off by default: it makes every statement's text
   * tenant-specific.
   * @default false
   * @example new Apartment(sequelize, { sqlComment: true }) // SELECT ... FROM "tenant_acme"."widgets" ...; /* tenant='acme' *\/
   */
  sqlComment?: boolean;
  /**
   * Spread tenants over a Citus (12+) cluster with schema-based sharding:
   * every tenant schema is created distributed (a colocation group on one
   * worker node). PostgreSQL only; connect Sequelize to the coordinator.
   * Adds `placement`, `moveTenant` and `apartment.citus`.
   * @default undefined (one server)
   * @example new Apartment(sequelize, { distribute: 'citus' })
   */
  distribute?: 'citus';
  /**
   * Tenant-affine connections (lib/pool): the pool hands a tenant's queries
   * to an idle connection that last served the tenant, else to the tenant's
   * home connection (its name hashed over the pool's slots), so each
   * tenant's catalog is cached in about one PostgreSQL backend instead of
   * every pooled one (and, on MySQL, its database is usually still
   * selected). It needs idle connections to choose from: a pool saturated by
   * as many concurrent requests as connections has one. A preference,
   * never a wait: a busy connection means any idle one serves. Connections
   * are retired once they served `maxTenantsPerConnection` distinct tenants.
   * Works on Sequelize's own pool and its options (`max`, `min`, `idle`,
   * `acquire`, `maxUses`). `false`: the plain pool, no recycling.
   * @default true ({ prefer: true, maxTenantsPerConnection: 2000 })
   * @example new Apartment(sequelize, { affinity: { maxTenantsPerConnection: 500 } })
   */
  affinity?: boolean | AffinityOptions;
  /**
   * Defense in depth (PostgreSQL only). `'role'`: each tenant gets a NOLOGIN
   * role named like its schema that alone may use the schema, every statement
   * for a tenant runs under `SET LOCAL ROLE <tenant role>`, and the database
   * refuses a statement in one tenant that reaches another's tables
   * (`CrossTenantError`). The login role must be NOINHERIT, CREATEROLE and not
   * a superuser. Existing tenants get their roles with `syncRoles()` (CLI:
   * `tenant:roles`). `'none'`: isolation rests on routing alone.
   * @default 'none'
   * @example new Apartment(sequelize, { isolation: 'role' })
   */
  isolation?: Isolation;
}

/**
 * The known options and how each is checked: adding an option is one entry
 * here (beside its field in `ApartmentOptions`, which the table's type
 * requires). The unknown-key check ("did you mean") reads its keys.
 */
const OPTIONS = {
  prefix: (value: unknown) => (value === undefined ? 'tenant_' : checkPrefix(value)),
  migrationsPath: folder('tenant-migrations'),
  seedersPath: folder('tenant-seeders', { nullIsDefault: true }),
  seedAfterCreate: boolean(false),
  sharedModels: names('model names'),
  strict: boolean(true),
  defaultSchema: checkDefaultSchema,
  sqlComment: boolean(false),
  distribute: oneOf(['citus'] as const, undefined),
  affinity: affinityOptions,
  isolation: oneOf(['none', 'role'] as const, 'none'),
} satisfies OptionTable<ApartmentOptions>;

/** Checks the instance and every option; changes nothing. */
function validate(sequelize: Sequelize, options: ApartmentOptions) {
  if (!sequelize || typeof (sequelize as any).getQueryInterface !== 'function') {
    throw new ConfigurationError(`Expected a Sequelize instance as the first argument, got ${describeValue(sequelize)}.`);
  }
  if (routers.has(sequelize)) {
    throw new ConfigurationError(
      'sequelize-apartment is already installed on this Sequelize instance. Create one Apartment per Sequelize instance and share it (export it from the module that creates Sequelize).',
    );
  }
  return checkOptions<ApartmentOptions, typeof OPTIONS>(OPTIONS, options);
}

/** The events an `Apartment` emits (it is an `EventEmitter`), with their arguments: `apartment.on('tenantCreated', (tenant) => ...)`. */
export interface ApartmentEvents {
  /** A tenant was created (and migrated) by this process. */
  tenantCreated: [tenant: TenantRef];
  /** A tenant was dropped by this process. */
  tenantDropped: [tenant: TenantRef];
  /** A tenant was renamed by this process: `from` no longer exists, `to` does. */
  tenantRenamed: [from: TenantRef, to: TenantRef];
  /** A tenant was suspended or resumed by this process (`suspendTenant`, `resumeTenant`). */
  tenantStateChanged: [tenant: TenantRef, state: SuspendState];
}

/** Options of `suspendTenant`. */
export interface SuspendOptions {
  /**
   * `'closed'`: the integrations answer every request with 503 and
   * `tenantProcessor` fails its jobs. `'read-only'`: reads (GET, HEAD,
   * OPTIONS) are served, writes answered with 423; with `isolation: 'role'`
   * PostgreSQL itself refuses writes.
   * @default 'closed'
   */
  mode?: 'read-only' | 'closed';
}

/** A tenant and its state, as `tenants({ state: true })` lists them. */
export interface TenantInfo {
  readonly key: string;
  readonly state: SuspendState;
}

/**
 * Schema-per-tenant (PostgreSQL) or database-per-tenant (MySQL/MariaDB) for
 * one Sequelize instance and its one connection pool.
 *
 * @example
 * const apartment = new Apartment(sequelize, { sharedModels: ['Account'] });
 * await apartment.createTenant('acme');
 * await apartment.run('acme', () => Widget.findAll()); // tenant_acme.widgets
 */
export class Apartment extends EventEmitter<ApartmentEvents> {
  readonly sequelize: Sequelize;
  /** @default 'tenant_' */
  readonly prefix: string;
  /** Absolute path of the tenant migrations folder, or `false` (no tenant migrations). */
  readonly migrationsPath: string | false;
  /** @default true */
  readonly strict: boolean;
  /** `'role'`: the database refuses what routing gets wrong (README: Defense in depth). @default 'none' */
  readonly isolation: Isolation;
  readonly sharedModels: ReadonlySet<string>;
  /** @internal */
  readonly adapter: DialectAdapter;
  /** @internal */
  readonly context = new TenantContext();
  /** @internal */
  readonly names: TenantNames;
  /** @internal */
  readonly router: Router;
  #migrator: TenantMigrator | undefined;
  /** Citus-only operations (reference tables, distributing existing tenants); see `distribute`. */
  readonly citus: CitusOperations;
  #seeder: TenantMigrator | undefined;
  /** Absolute path of the tenant seeders folder, or `false` (none). */
  readonly seedersPath: string | false;
  /** @default false */
  readonly seedAfterCreate: boolean;

  constructor(sequelize: Sequelize, options: ApartmentOptions = {}) {
    super();
    // Validate, then install: everything below `#install` only reads Sequelize,
    // so a bad option throws with the instance exactly as it was.
    const settings = validate(sequelize, options);
    this.sequelize = sequelize;
    this.strict = settings.strict;
    this.isolation = settings.isolation;
    this.sharedModels = new Set(settings.sharedModels);
    this.migrationsPath = settings.migrationsPath === false ? false : path.resolve(process.cwd(), settings.migrationsPath);
    this.seedersPath = settings.seedersPath === false ? false : path.resolve(process.cwd(), settings.seedersPath);
    this.seedAfterCreate = settings.seedAfterCreate;
    const affinity = settings.affinity ? new TenantAffinity(this.context, settings.affinity) : undefined;
    this.adapter = adapterFor(
      {
        sequelize,
        unrouted: (fn) => this.context.runWithout(fn),
        routed: (tenant, fn) => this.context.run(tenant, fn),
        isolation: settings.isolation,
        prefix: () => this.names.prefix,
        keyOf: (name) => this.names.keyOf(name),
        sharedTables: () =>
          Object.values(sequelize.models)
            .filter((model) => this.sharedModels.has(model.name))
            .map((model) => (model as any).getTableName()),
      },
      settings.defaultSchema,
      settings.distribute,
    );
    this.names = new TenantNames(settings.prefix, this.adapter.maxNameBytes, (name) => this.adapter.isReservedName(name));
    this.prefix = this.names.prefix;
    this.router = new Router({
      sequelize,
      context: this.context,
      names: this.names,
      adapter: this.adapter,
      strict: settings.strict,
      sharedModels: this.sharedModels,
      sqlComment: settings.sqlComment,
      affinity,
    });
    this.citus = new CitusOperations(this);
    checkAssociations(sequelize);
    checkSeam(sequelize, { affinity: affinity !== undefined, roles: settings.isolation === 'role' });
    this.#installOn(sequelize);
  }

  /** The one place that changes Sequelize: runs after every check passed. */
  #installOn(sequelize: Sequelize): void {
    routers.set(sequelize, this.router);
    patchAssociations(sequelize);
    this.adapter.install();
    installTableQuoting(this.router);
    this.router.affinity?.install(sequelize);
    installQueryRouting(this.router);
    installQueryInterfaceScoping(this.router);
    const existing = Object.values(sequelize.models);
    for (const model of existing) this.#install(model);
    relinkReferences(existing);
    sequelize.addHook('afterDefine', 'sequelize-apartment', (model) => this.#install(model as ModelStatic<Model>));
  }

  /**
   * @internal The migration runner, loaded on first use: umzug and the runner
   * stay out of `require('sequelize-apartment')`, which every cold start pays.
   */
  get migrator(): TenantMigrator {
    if (!this.#migrator) {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const { TenantMigrator: Migrator } = require('./migrations/migrator') as typeof import('./migrations/migrator');
      this.#migrator = new Migrator(this.#host());
    }
    return this.#migrator;
  }

  /** @internal The same runner as `migrator`, over the seeders and each tenant's `SequelizeData`; loaded on first use too. */
  get seeder(): TenantMigrator {
    if (!this.#seeder) {
      const { TenantMigrator: Migrator } = require('./migrations/migrator') as typeof import('./migrations/migrator');
      const { seedersKind } = require('./migrations/kind') as typeof import('./migrations/kind');
      this.#seeder = new Migrator(this.#host(), seedersKind(this.seedersPath));
    }
    return this.#seeder;
  }

  #install(model: ModelStatic<Model>): void {
    installTable(this.router, model);
    installModelMethods(this.router, model);
    // isolation: 'role': a shared table created by sync() is granted to the tenant roles' group.
    if (this.sharedModels.has(model.name)) model.addHook('afterSync', 'sequelize-apartment-roles', () => this.adapter.roles?.grantShared());
  }

  /** @internal What the migration runner and the tenant archive (lib/archive) work with. */
  migrationHost(): MigrationHost {
    return this.#host();
  }

  #host(): MigrationHost {
    return {
      sequelize: this.sequelize,
      adapter: this.adapter,
      context: this.context,
      names: this.names,
      migrationsPath: this.migrationsPath,
      listTenants: async () => (await this.tenants()).map((key) => this.names.ref(key)),
    };
  }

  /**
   * The schema/database name of a tenant: `prefix + key`.
   * @throws TenantNameError for a key that is not valid (no SQL is sent).
   * @example apartment.schemaFor('acme') // 'tenant_acme'
   */
  schemaFor(tenant: Tenant): string {
    return this.names.ref(tenant).name;
  }

  /**
   * Creates the tenant's schema/database and runs all tenant migrations in it;
   * with `seed` (default: the `seedAfterCreate` option) the tenant seeders
   * too, in the same lock (and on PostgreSQL the same transaction): a failing
   * seeder leaves no tenant behind.
   * @throws TenantNameError, TenantExistsError, MigrationError (carrying the failed `MigrationResult`), ConfigurationError (the migrations folder, or when seeding the seeders folder, does not exist)
   * @example await apartment.createTenant('acme', { seed: true })
   */
  async createTenant(tenant: Tenant, options: CreateTenantOptions = {}): Promise<MigrationResult> {
    const ref = this.names.ref(tenant);
    if (options === null || typeof options !== 'object') {
      throw new ConfigurationError(`Expected createTenant options to be an object, got ${describeValue(options)}.`, { tenant: ref.key });
    }
    const seed = options.seed ?? this.seedAfterCreate;
    if (typeof seed !== 'boolean') {
      throw new ConfigurationError(`Expected \`seed\` to be a boolean, got ${describeValue(seed)}.`, { tenant: ref.key });
    }
    if (seed) this.seeder.files(); // a missing folder fails before anything is created
    const result = await this.migrator.createTenant(ref, seed ? (t, transaction) => this.seeder.applyPending(t, transaction) : undefined);
    this.emit('tenantCreated', ref);
    return result;
  }

  /**
   * Drops the tenant's schema (CASCADE) or database, with everything in it.
   * @throws TenantNameError, TenantNotFoundError
   */
  async dropTenant(tenant: Tenant): Promise<void> {
    const ref = this.names.ref(tenant);
    await this.adapter.drop(ref);
    this.emit('tenantDropped', ref);
  }

  /**
   * Renames a tenant: PostgreSQL `ALTER SCHEMA … RENAME` (one catalog change,
   * atomic); MySQL/MariaDB creates the new database and moves every table
   * into it in one `RENAME TABLE`, then drops the old one. Runs under the
   * tenant's migration lock and refuses (TenantBusyError) while another
   * process migrates it. Other tenants are untouched and keep working.
   * Instances loaded before still belong to the old key.
   * @throws TenantNameError, TenantNotFoundError (`from` missing), TenantExistsError (`to` exists), TenantBusyError
   * @example await apartment.renameTenant('acme', 'acme-corp')
   */
  async renameTenant(from: Tenant, to: Tenant): Promise<void> {
    const source = this.names.ref(from);
    const target = this.names.ref(to);
    if (source.name === target.name) {
      throw new ConfigurationError(`Cannot rename tenant '${source.key}' to itself. Pass another key as \`to\`.`, { tenant: source.key });
    }
    const busy = () =>
      new TenantBusyError(
        `Tenant '${source.key}' is being migrated by another process, so it was not renamed. Wait for the migration to finish and retry renameTenant('${source.key}', '${target.key}').`,
        { tenant: source.key },
      );
    await this.adapter.withLock(
      source.name,
      async (transaction) => {
        if (!(await this.adapter.exists(source))) {
          throw new TenantNotFoundError(
            `Tenant '${source.key}' does not exist (no schema/database "${source.name}"), so it cannot be renamed. Check the key, or list tenants with apartment.tenants().`,
            { tenant: source.key },
          );
        }
        if (await this.adapter.exists(target)) {
          throw new TenantExistsError(
            `Tenant '${target.key}' already exists ("${target.name}"), so '${source.key}' was not renamed. Use another key, or drop it first with dropTenant('${target.key}').`,
            { tenant: target.key },
          );
        }
        await this.adapter.renameTenant(source, target, transaction ? { transaction } : {});
      },
      { busy },
    );
    this.emit('tenantRenamed', source, target);
  }

  /**
   * `isolation: 'role'`: creates and grants the roles of every existing
   * tenant and warm spare (the role, its memberships, the schema grant,
   * ownership of everything in the schema), and grants the shared models'
   * tables to the group role. Turns isolation on for a deployment that ran
   * without it; idempotent. What `npx apartment tenant:roles` runs.
   * @throws ConfigurationError when the login role cannot hold tenant roles (superuser, INHERIT, no CREATEROLE)
   * @example await apartment.syncRoles() // { tenants: 12, created: 12, group: 'tenant__shared' }
   */
  async syncRoles(): Promise<RolesResult> {
    const tenants = (await this.tenants()).map((key) => this.names.ref(key));
    const spares = (await this.migrator.warm.spares()).map((name) => Object.freeze({ key: name.slice(this.prefix.length), name }));
    const all = [...tenants, ...spares];
    // Without roles there is nothing to create or grant.
    return this.adapter.roles ? this.adapter.roles.sync(all) : { tenants: all.length, created: 0, group: undefined, shared: [] };
  }

  /** Whether the tenant's schema/database exists. @throws TenantNameError */
  async exists(tenant: Tenant): Promise<boolean> {
    return this.adapter.exists(this.names.ref(tenant));
  }

  /**
   * Keys of all tenants (prefix removed), sorted; with `{ state: true }`,
   * each key with its state (`'active'`, `'read-only'`, `'closed'`), read in
   * the same one catalog query.
   * @example await apartment.tenants({ state: true }) // [{ key: 'acme', state: 'active' }, { key: 'beta', state: 'closed' }]
   */
  async tenants(): Promise<string[]>;
  async tenants(options: { state: true }): Promise<TenantInfo[]>;
  async tenants(options?: { state?: boolean }): Promise<string[] | TenantInfo[]>;
  async tenants(options: { state?: boolean } = {}): Promise<string[] | TenantInfo[]> {
    if (options === null || typeof options !== 'object' || (options.state !== undefined && typeof options.state !== 'boolean')) {
      throw new ConfigurationError(`Expected tenants() options to be \`{ state: boolean }\`, got ${describeValue(options)}.`);
    }
    const states = options.state ? await this.adapter.states(this.prefix) : undefined;
    const names = states ? [...states.keys()] : await this.adapter.list(this.prefix);
    const keys: string[] = [];
    for (const name of names) {
      const key = this.names.keyOf(name);
      if (key !== undefined && !this.#isInternalName(name)) keys.push(key);
    }
    keys.sort();
    return states ? keys.map((key) => ({ key, state: states.get(this.names.ref(key).name) ?? 'active' })) : keys;
  }

  /**
   * Suspends a tenant (an unpaid account, an investigation, a move):
   * `'closed'` (default) or `'read-only'`. The state is stored with the
   * tenant (a comment on its schema/database), so every process sees it:
   * this one at once, others within their existence cache's `ttl`. The HTTP
   * integrations answer a closed tenant with 503 and a write to a read-only
   * one with 423 before the handler runs; `tenantProcessor` fails the jobs
   * of a suspended tenant. `apartment.run()` itself is not refused (scripts
   * and the CLI keep working), except that with `isolation: 'role'`
   * PostgreSQL refuses every write to a suspended tenant's tables.
   * @throws TenantNameError, TenantNotFoundError, ConfigurationError (bad mode)
   * @example await apartment.suspendTenant('acme', { mode: 'read-only' })
   */
  async suspendTenant(tenant: Tenant, options: SuspendOptions = {}): Promise<void> {
    const ref = this.names.ref(tenant);
    const mode = options?.mode ?? 'closed';
    if (mode !== 'read-only' && mode !== 'closed') {
      throw new ConfigurationError(`Expected \`mode\` to be 'read-only' or 'closed', got ${describeValue(mode)}.`, { tenant: ref.key });
    }
    await this.#setState(ref, mode, 'suspended');
  }

  /**
   * Ends a suspension: the tenant serves reads and writes again (this
   * process at once, others within their existence cache's `ttl`).
   * Resuming an active tenant does nothing.
   * @throws TenantNameError, TenantNotFoundError
   * @example await apartment.resumeTenant('acme')
   */
  async resumeTenant(tenant: Tenant): Promise<void> {
    await this.#setState(this.names.ref(tenant), 'active', 'resumed');
  }

  /**
   * The tenant's state: `'active'`, `'read-only'` or `'closed'`, read from the catalog.
   * @throws TenantNameError, TenantNotFoundError
   */
  async tenantState(tenant: Tenant): Promise<SuspendState> {
    const ref = this.names.ref(tenant);
    const state = await this.adapter.state(ref);
    if (state === undefined) throw this.#missing(ref, 'has no state');
    return state;
  }

  async #setState(ref: TenantRef, state: SuspendState, verb: string): Promise<void> {
    if ((await this.adapter.state(ref)) === undefined) throw this.#missing(ref, `cannot be ${verb}`);
    await this.adapter.setState(ref, state);
    this.emit('tenantStateChanged', ref, state);
  }

  #missing(ref: TenantRef, what: string): TenantNotFoundError {
    return new TenantNotFoundError(`Tenant '${ref.key}' does not exist, so it ${what}. Check the key, or list tenants with apartment.tenants().`, { tenant: ref.key });
  }

  /** @internal Names this package uses for itself (warm spares) inside the prefix. */
  #isInternalName(name: string): boolean {
    return this.adapter.isReservedName(name);
  }

  /**
   * Runs `fn` with `tenant` in context: every model operation and raw query
   * inside it (across `await`s) goes to the tenant's schema/database.
   * Returns what `fn` returns. The previous tenant, if any, is back afterwards.
   * @throws TenantNameError for an invalid key, before `fn` runs
   * @example await apartment.run('acme', async () => Widget.create({ name: 'gear' }))
   */
  run<T>(tenant: Tenant, fn: () => T): T {
    const ref = this.names.ref(tenant);
    if (typeof fn !== 'function') {
      throw new ConfigurationError(`Expected \`fn\` to be a function, got ${describeValue(fn)}.`, { tenant: ref.key });
    }
    return this.context.run(ref, fn);
  }

  /**
   * `fn` bound to the tenant in context now: however later it is called (a
   * callback, an event listener, a timer), it runs in that tenant. With no
   * tenant in context it runs with none.
   * @throws ConfigurationError when `fn` is not a function
   * @example emitter.on('done', apartment.bind(() => Audit.create({ what: 'done' })))
   */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    if (typeof fn !== 'function') throw new ConfigurationError(`Expected \`fn\` to be a function, got ${describeValue(fn)}.`);
    const tenant = this.context.tenant();
    return (...args) => (tenant ? this.context.run(tenant, () => fn(...args)) : this.context.runWithout(() => fn(...args)));
  }

  /** The key of the tenant in context, or undefined. */
  current(): string | undefined {
    return this.context.tenant()?.key;
  }

  /** The key of the tenant an instance belongs to (where it was loaded or created), or undefined. */
  tenantOf(instance: Model): string | undefined {
    return this.router.tenantOf(instance)?.key;
  }

  // ---- Backup, restore, clone (lib/archive) ----

  /**
   * Writes the tenant's archive to a file path or a writable stream: a
   * manifest (package and server versions, dialect, tenant, applied
   * migrations and seeders, tables) and every table's rows with their counts
   * and checksums, read from one consistent snapshot while the app keeps
   * writing, streamed (memory stays flat). The format is versioned and
   * documented (docs/guides/backup-restore-clone-suspend.md). On PostgreSQL
   * it needs the `pg-copy-streams` package.
   * @throws TenantNameError, TenantNotFoundError, ArchiveError (the destination closed before the export ended), ConfigurationError (bad destination or options, pg-copy-streams missing)
   * @example await apartment.exportTenant('acme', 'acme.archive.gz')
   */
  async exportTenant(tenant: Tenant, destination: string | NodeJS.WritableStream, options: ExportOptions = {}): Promise<ExportResult> {
    const ref = this.names.ref(tenant);
    const { exportTenant } = require('./archive/export') as typeof import('./archive/export');
    return exportTenant(this, ref, destination, options);
  }

  /**
   * Creates tenant `tenant` from an archive (a file path or a readable
   * stream, gzipped or not), on this server or another of the same dialect:
   * exactly the archive's tenant migrations, its rows, sequences and
   * AUTO_INCREMENT past the highest ids, every table read back and checked
   * against the archive's counts and checksums. All or nothing: on any
   * failure (a damaged or cut-short archive, a killed process) the tenant
   * does not exist afterwards. With `isolation: 'role'` it gets its role,
   * with `distribute: 'citus'` it is distributed, as `createTenant` does.
   * @throws TenantNameError, TenantExistsError, ArchiveError (not an archive, another dialect, migrations this app lacks, damaged), MigrationError
   * @example await apartment.importTenant('acme-copy', 'acme.archive.gz')
   */
  async importTenant(tenant: Tenant, source: string | NodeJS.ReadableStream, options: ImportOptions = {}): Promise<ImportResult> {
    const ref = this.names.ref(tenant);
    const { importTenant } = require('./archive/import') as typeof import('./archive/import');
    const result = await importTenant(this, ref, source, options);
    this.emit('tenantCreated', ref);
    return result;
  }

  /**
   * Copies tenant `from` into a new tenant `to` (a template, a staging copy,
   * a support reproduction): `exportTenant` piped into `importTenant`, with
   * their guarantees (one snapshot of `from`, which is only read; all or
   * nothing for `to`).
   * @throws TenantNameError, TenantNotFoundError (`from`), TenantExistsError (`to`), ArchiveError (as exportTenant and importTenant), ConfigurationError (same key)
   * @example await apartment.cloneTenant('template', 'acme')
   */
  async cloneTenant(from: Tenant, to: Tenant, options: ImportOptions = {}): Promise<ImportResult> {
    const source = this.names.ref(from);
    const target = this.names.ref(to);
    if (source.name === target.name) throw new ConfigurationError(`Cannot clone tenant '${source.key}' into itself. Pass another key as \`to\`.`, { tenant: source.key });
    if (!(await this.adapter.exists(source))) throw this.#missing(source, 'cannot be cloned');
    if (await this.adapter.exists(target)) {
      throw new TenantExistsError(`Tenant '${target.key}' already exists ("${target.name}"), so tenant '${source.key}' was not cloned into it. Clone under another key, or drop it first with dropTenant('${target.key}').`, { tenant: target.key });
    }
    const { PassThrough } = require('node:stream') as typeof import('node:stream');
    const pipe = new PassThrough({ highWaterMark: 1 << 20 });
    // Either side failing closes the pipe, which fails the other; both are awaited (the import has cleaned up
    // when this returns), and the error is the first side's: the other's is only its consequence.
    let first: unknown;
    const fail = (error: unknown) => {
      first ??= error;
      pipe.destroy(error as Error);
      throw error;
    };
    const [imported, exported] = await Promise.allSettled([this.importTenant(target.key, pipe, options).catch(fail), this.exportTenant(source.key, pipe).catch(fail)]);
    if (imported.status === 'rejected' || exported.status === 'rejected') throw first;
    return imported.value;
  }

  // ---- Scale-out (distribute: 'citus') ----

  /**
   * The node that holds the tenant's tables, or undefined while it has none.
   * @throws ConfigurationError without `distribute: 'citus'`; TenantNameError
   * @example await apartment.placement('acme') // { host: '10.0.0.2', port: 5432 }
   */
  async placement(tenant: Tenant): Promise<NodeAddress | undefined> {
    const ref = this.names.ref(tenant);
    return this.citus.ops('apartment.placement()', ref).placement(ref);
  }

  /**
   * Every tenant's node, by key (undefined for a tenant with no tables yet), in one query.
   * @throws ConfigurationError without `distribute: 'citus'`
   */
  async placements(): Promise<Map<string, NodeAddress | undefined>> {
    const byName = await this.citus.ops('apartment.placements()').placements(this.prefix);
    const found = new Map<string, NodeAddress | undefined>();
    for (const key of await this.tenants()) found.set(key, byName.get(this.names.ref(key).name));
    return found;
  }

  /**
   * Moves a tenant to another node online (Citus's `citus_schema_move`):
   * queries keep working while it copies; writes block only for the switch
   * (`mode: 'block_writes'`: for the whole copy).
   * A tenant on `host:port` already stays there (`moved: false`).
   * @throws ConfigurationError (no Citus, unknown node, no tables yet, Citus refused), TenantNotFoundError
   * @example await apartment.moveTenant('acme', { host: '10.0.0.3', port: 5432 }) // { from: { host: '10.0.0.2', ... }, moved: true, ... }
   */
  async moveTenant(tenant: Tenant, options: MoveOptions): Promise<MoveResult> {
    const ref = this.names.ref(tenant);
    const target = checkMove(options, ref);
    const { from, moved } = await this.citus.ops('apartment.moveTenant()', ref).move(ref, target, target.mode);
    return { tenant: ref.key, schema: ref.name, from, to: { host: target.host, port: target.port }, mode: target.mode, moved };
  }

  // ---- Tenant migrations (lib/migrations) ----

  /**
   * Applies (or with `direction: 'down'`, reverts) the tenant's migrations.
   * Never throws for a failing migration: the result is `{ ok: false, error }`
   * and the error names the migration file.
   * @throws TenantNameError for an invalid key; TenantNotFoundError when the
   * tenant does not exist; ConfigurationError for bad options (`to` that is no migration's version) or a migrations folder that does not exist
   */
  async migrateTenant(tenant: Tenant, options: MigrateOptions = {}): Promise<MigrationResult> {
    return this.migrator.migrate(this.names.ref(tenant), options);
  }

  /** Migrates every tenant, concurrently, past failures; one result per tenant. */
  async migrateAll(options: MigrateAllOptions = {}): Promise<MigrationResult[]> {
    return this.migrator.migrateAll(options);
  }

  /**
   * The last fleet run of this prefix recorded in the ledger (`migrateAll`
   * or `seedAll` with `ledger: true`, and every CLI run), with each tenant's
   * state and error; undefined when none is recorded.
   * @example (await apartment.lastRun())?.tenants.filter((t) => t.state === 'failed')
   */
  async lastRun(options: { seeders?: boolean } = {}): Promise<FleetRun | undefined> {
    return (options.seeders ? this.seeder : this.migrator).lastRun();
  }

  /**
   * Audits the set-up for isolation and explains each finding with what
   * fixes it: a tenant table shadowed in the default schema (error), an unfit
   * login role under `isolation: 'role'` (error), tenants without their role,
   * roles and leftover scratch schemas with no tenant, spares behind the
   * migrations, a login role whose default search_path names a tenant schema,
   * a pooler in transaction mode, held migration locks, and applied
   * migrations missing from the folder. Each check is a few statements
   * whatever the number of tenants. `ok` is false when a finding is an error.
   * @throws ConfigurationError for a bad option or a missing migrations folder
   * @example
   * const { ok, findings } = await apartment.doctor();
   * for (const f of findings) console.log(`${f.level} ${f.code}: ${f.message}\nfix: ${f.fix}`);
   */
  async doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
    const { doctor, checkDoctorOptions } = require('./doctor') as typeof import('./doctor');
    const checked = checkDoctorOptions(options);
    return doctor(this.#host(), this.migrator, (await this.tenants()).map((key) => this.names.ref(key)), checked);
  }

  /**
   * Compares every tenant's catalog (tables, columns with types, defaults
   * and nullability, indexes, unique and foreign keys) with a reference built
   * from the migrations that tenant has applied, in a scratch schema/database
   * dropped afterwards, and reports each tenant that differs and how.
   * Tenants at different versions are each compared with their own version.
   * @throws ConfigurationError for a missing migrations folder or a bad option;
   * TenantNotFoundError for an unknown key in `tenants`; MigrationError when a migration fails while the reference is built
   * @example const { drifted } = await apartment.drift(); for (const t of drifted) console.log(t.tenant, t.differences);
   */
  async drift(options: DriftOptions = {}): Promise<DriftReport> {
    const { drift, checkDriftOptions } = require('./migrations/drift') as typeof import('./migrations/drift');
    const { fleetPlan } = require('./migrations/waves') as typeof import('./migrations/waves');
    const checked = checkDriftOptions(options);
    const tenants = fleetPlan({ tenants: checked.tenants, skipTenants: checked.skipTenants }).scope((await this.tenants()).map((key) => this.names.ref(key)));
    return drift(this.#host(), this.migrator, tenants, checked);
  }


  /**
   * Tops up the pool of warm tenants to `count`: fully migrated spare
   * schemas/databases under reserved names (`prefix + '_spare_' + random`,
   * never a valid key, never listed by `tenants()`). `createTenant` claims one
   * by renaming it, so sign-up latency does not grow with the migration
   * count; with none left it builds the tenant as usual. `migrateAll` keeps
   * spares current.
   * Spares are not seeded until claimed (`createTenant(key, { seed: true })`
   * seeds the claimed one) unless `seed` is set: then each new spare runs the
   * tenant seeders too.
   * @throws ConfigurationError for a `count` that is not a number from 0 up, or
   * a `seed` that is not a boolean; MigrationError when a migration (or with `seed`, a seeder) fails in a new spare (which is dropped again)
   * @example await apartment.prewarm(5) // { built: 5, ready: 5 }
   */
  async prewarm(count: number, options: { seed?: boolean } = {}): Promise<PrewarmResult> {
    const seed = options?.seed ?? false;
    if (typeof seed !== 'boolean') throw new ConfigurationError(`Expected \`seed\` to be a boolean, got ${describeValue(seed)}.`);
    return this.migrator.warm.prewarm(count, seed ? (spare, transaction) => this.seeder.applyPending(spare, transaction) : undefined);
  }

  /** Which tenant migrations are applied in the tenant and which are pending. @throws TenantNameError, TenantNotFoundError */
  async migrationStatus(tenant: Tenant): Promise<MigrationStatus> {
    return this.migrator.status(this.names.ref(tenant));
  }

  /**
   * The status of every tenant, read in a few catalog queries (not one
   * round trip per tenant): what `apartment db:migrate:status` shows.
   * @throws ConfigurationError when the migrations folder is missing
   */
  async migrationStatusAll(): Promise<TenantMigrationStatus[]> {
    return this.migrator.statusAll();
  }

  /**
   * What `migrateTenant(tenant, options)` would apply or revert, read from the
   * catalog; nothing is changed (`apartment db:migrate --dry-run --tenant`).
   * @throws TenantNameError, TenantNotFoundError, ConfigurationError for bad options or a missing folder
   * @example await apartment.migrationPlan('acme', { direction: 'down' }) // { versions: ['20260102-add-color.js'], last: '20260102-add-color.js', ... }
   */
  async migrationPlan(tenant: Tenant, options: MigrateOptions = {}): Promise<TenantMigrationPlan> {
    return this.migrator.plan(this.names.ref(tenant), options);
  }

  /**
   * What `migrateAll(options)` would apply or revert in every tenant, in a few
   * catalog queries; nothing is changed (`apartment db:migrate --dry-run`).
   * @throws ConfigurationError for bad options or a missing folder
   * @example const behind = (await apartment.migrationPlanAll()).filter((p) => p.versions.length > 0);
   */
  async migrationPlanAll(options: MigrateOptions = {}): Promise<TenantMigrationPlan[]> {
    return this.migrator.planAll(options);
  }

  // ---- Tenant seeders (lib/migrations: the migration runner over `seedersPath` and SequelizeData) ----

  /**
   * Runs the tenant's pending seeders (with `only`, just those files; with
   * `direction: 'down'` reverts the last one, the `only` ones, or with `all`
   * every one). Each seeder runs once per tenant: which ran is recorded in the
   * tenant's `SequelizeData` (sequelize-cli's table). On PostgreSQL the run
   * is one transaction, so a failing seeder leaves nothing of the run behind.
   * Never throws for a failing seeder (the result has `ok: false`).
   * @throws TenantNameError, TenantNotFoundError, ConfigurationError (unknown `only` name, seeders folder missing)
   * @example await apartment.seedTenant('acme', { only: '20260101000000-plans.js' })
   */
  async seedTenant(tenant: Tenant, options: SeedOptions = {}): Promise<MigrationResult> {
    return this.seeder.migrate(this.names.ref(tenant), options);
  }

  /**
   * Seeds every tenant (pending seeders, or `only`; or reverts, as
   * seedTenant), concurrently, past failures; one result per tenant. Warm
   * spares are not seeded: a tenant is seeded when it is created with `seed`.
   * @throws ConfigurationError for bad options (an unknown `only` name) or a seeders folder that does not exist
   */
  async seedAll(options: SeedAllOptions = {}): Promise<MigrationResult[]> {
    return this.seeder.migrateAll(options);
  }

  /** Which seeders ran in the tenant and which are pending. @throws TenantNameError, TenantNotFoundError */
  async seedStatus(tenant: Tenant): Promise<MigrationStatus> {
    return this.seeder.status(this.names.ref(tenant));
  }

  // ---- HTTP (lib/http) ----

  /**
   * Express middleware: resolves the tenant of each request and runs the rest
   * of the request inside `apartment.run(tenant, ...)`.
   * @example app.use(apartment.middleware({ resolve: 'subdomain' }))
   * @typeParam Req - the request a resolver function gets: by default the part of Express's `req` resolvers read; pass Express's `Request` for the rest.
   */
  middleware<Req extends TenantRequest = ExpressRequestLike>(options?: MiddlewareOptions<Req>): TenantMiddleware<Req> {
    // The HTTP resolvers load on first use: an app without middleware never pays for them.
    const { createMiddleware } = require('./http/middleware') as typeof import('./http/middleware');
    return createMiddleware(this, options);
  }
}
