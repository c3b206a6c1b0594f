import { randomBytes } from 'node:crypto';
import { ConfigurationError, MigrationError, TenantExistsError, describeValue, sentence } from '../errors';
import type { TenantRef } from '../tenant';
import type { MigrationResult } from '../types';
import type { MigrationHost } from './host';
import type { AfterCreate } from './types';
import type { MigrateOptions } from './types';

/**
 * Put between the prefix and a random suffix to name a spare. Keys must start
 * with a letter or digit, so `prefix + '_spare_' + ...` is never the name of a
 * tenant, and `tenants()` (which maps names back to valid keys) never lists it.
 */
export const SPARE_MARK = '_spare_';

/**
 * Put after the prefix to name the spares flag: an empty schema/database
 * that exists while there may be spares, on adapters whose listing reads
 * every database of the server (`listScansAll`: MySQL). `createTenant` asks
 * for it by name (a point lookup) instead of listing the spares; `prewarm`
 * raises it, a claim that finds none left lowers it. Not a valid key, so
 * `tenants()` never lists it, and not a spare's name (`_spares` vs `_spare_`).
 */
export const SPARES_FLAG = '_spares';

/**
 * Put after the prefix to name a spare while it is built: claims list only
 * `_spare_` names, so a spare becomes claimable when it is renamed from
 * `_build_` once whole (under the claims' lock). Not a valid key either.
 */
export const BUILD_MARK = '_build_';

/** What `prewarm` did. */
export interface PrewarmResult {
  /** Spares built by this call. */
  built: number;
  /** Spares ready to be claimed now. */
  ready: number;
}

/**
 * Warm tenants: fully migrated spare schemas/databases under reserved names.
 * `createTenant` claims one by renaming it (one catalog change instead of N
 * migrations), so sign-up latency does not grow with the migration count.
 * Claims are serialised by the adapter lock, so two concurrent sign-ups never
 * get the same spare. Where listing reads every database of the server
 * (MySQL), a sign-up asks for the spares flag by name instead of listing.
 */
export class WarmTenants {
  readonly #host: MigrationHost;
  readonly #migrate: (tenant: TenantRef, options?: MigrateOptions) => Promise<MigrationResult>;
  readonly #create: (tenant: TenantRef, after?: AfterCreate) => Promise<MigrationResult>;

  /**
   * `migrate` runs a tenant's (or spare's) migrations, like `migrateTenant`: a failing migration gives `{ ok: false }`;
   * `create` creates and migrates one under its lock, like createTenant without a spare (throws MigrationError).
   */
  constructor(
    host: MigrationHost,
    migrate: (tenant: TenantRef, options?: MigrateOptions) => Promise<MigrationResult>,
    create: (tenant: TenantRef, after?: AfterCreate) => Promise<MigrationResult>,
  ) {
    this.#host = host;
    this.#migrate = migrate;
    this.#create = create;
  }

  /** Every spare's name starts with this. */
  get marker(): string {
    return this.#host.names.prefix + SPARE_MARK;
  }

  /** Names of the spares that exist now. */
  async spares(): Promise<string[]> {
    return this.#host.adapter.list(this.marker);
  }

  /** The spares flag (see SPARES_FLAG). */
  get #flag(): TenantRef {
    return Object.freeze({ key: SPARES_FLAG, name: this.#host.names.prefix + SPARES_FLAG });
  }

  /** Whether a claim should look: the spares listing, or where that reads every database, the flag. */
  async #mayHaveSpares(): Promise<boolean> {
    const { adapter } = this.#host;
    if (adapter.listScansAll) return adapter.exists(this.#flag);
    return (await this.spares()).length > 0;
  }

  /**
   * Tops the pool up to `count` spares, each fully migrated. Spares that
   * already exist count, so running it from a deploy hook or a cron job keeps
   * `count` ready without piling up.
   * `seed` (the seeders) runs in each new spare when given; otherwise spares
   * are seeded when claimed, if createTenant asks. Raises the spares flag
   * when any spare is ready (adapters with `listScansAll`).
   *
   * A spare is built under a `_build_` name and renamed to its `_spare_`
   * name once whole, under the claims' lock: a concurrent createTenant never
   * claims one half-migrated. Builds a crashed process left (their lock is
   * free) are dropped first.
   * @throws MigrationError when a migration (or seeder) fails in a new spare (which is dropped again)
   */
  async prewarm(count: number, seed?: AfterCreate): Promise<PrewarmResult> {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new ConfigurationError(`Expected \`count\` to be a number from 0 and up, got ${describeValue(count)}.`);
    }
    await this.#dropAbandonedBuilds();
    let ready = (await this.spares()).length;
    let built = 0;
    while (ready < count) {
      await this.#build(seed);
      built += 1;
      ready += 1;
    }
    const { adapter } = this.#host;
    if (ready > 0 && adapter.listScansAll) {
      // Under the claims' lock, so a claim that found none left cannot lower the flag after this raised it.
      await adapter.withLock(this.marker, async () => {
        if (!(await adapter.exists(this.#flag))) await adapter.create(this.#flag);
      });
    }
    return { built, ready };
  }

  /**
   * Gives `tenant` a spare: renames one to the tenant's name, then applies any
   * migration the spare is behind on. Resolves to undefined when no spare is
   * left (the caller builds the tenant instead).
   * `after` (the seeders) runs next, under the tenant's lock: spares are not seeded until claimed.
   * @throws TenantExistsError when the tenant exists; MigrationError when the spare cannot be brought up to date or `after` fails (the tenant is dropped again)
   */
  async claim(tenant: TenantRef, after?: AfterCreate): Promise<MigrationResult | undefined> {
    const { adapter } = this.#host;
    // Cheap check first: with no spares, cold creation should not pay for the lock.
    if (!(await this.#mayHaveSpares())) return undefined;
    const claimed = await adapter.withLock(this.marker, async (transaction) => {
      const [spare] = await this.spares();
      if (spare === undefined) {
        // None left: lower the flag, so sign-ups stop listing until prewarm raises it again.
        if (adapter.listScansAll) await adapter.drop(this.#flag).catch(() => undefined);
        return undefined;
      }
      if (await adapter.exists(tenant)) {
        throw new TenantExistsError(
          `Tenant '${tenant.key}' already exists (${tenant.name}). Use another key, or drop it first with dropTenant('${tenant.key}').`,
          { tenant: tenant.key },
        );
      }
      await adapter.rename(spare, tenant.name, { transaction });
      return spare;
    });
    if (claimed === undefined) return undefined;
    const result = await this.#migrate(tenant);
    if (!result.ok) {
      await adapter.drop(tenant).catch(() => undefined);
      throw failed(result, `Tenant '${tenant.key}' got a warm spare that could not be brought up to date, so it was dropped again`);
    }
    if (after) {
      try {
        await adapter.withLock(tenant.name, (transaction) => after(tenant, transaction));
      } catch (error) {
        await adapter.drop(tenant).catch(() => undefined);
        const cause = ((error as { error?: Error }).error ?? error) as Error;
        throw failed({ ok: false, tenant: tenant.key, schema: tenant.name, error: cause } as MigrationResult & { ok: false }, `Tenant '${tenant.key}' got a warm spare whose seeding failed, so it was dropped again`);
      }
    }
    return result;
  }

  /**
   * Makes a whole tenant a spare: renames it to a spare's name under the
   * claims' lock, unless `limit` spares are ready already (then it is
   * dropped). The caller vouches that it is fully migrated and unseeded, and
   * that nothing else uses it (the test kit's ready tenants no test got).
   * @returns whether it became a spare
   */
  async adopt(tenant: TenantRef, limit: number): Promise<boolean> {
    const { adapter } = this.#host;
    const suffix = randomBytes(8).toString('hex').slice(0, Math.max(8, Math.min(16, adapter.maxNameBytes - Buffer.byteLength(this.marker))));
    const adopted = await adapter.withLock(this.marker, async (transaction) => {
      if ((await this.spares()).length >= limit) return false;
      await adapter.rename(tenant.name, this.marker + suffix, transaction ? { transaction } : {});
      // Raised under the same lock, as prewarm does: a claim that found none left cannot lower it after this.
      if (adapter.listScansAll && !(await adapter.exists(this.#flag))) await adapter.create(this.#flag);
      return true;
    });
    if (!adopted) await adapter.drop(tenant);
    return adopted;
  }

  /**
   * Runs migrateAll's migrations in every spare too (same direction and
   * `to`). A spare that fails is dropped: createTenant then builds instead,
   * and reports the error.
   */
  async migrateSpares(options: MigrateOptions = {}): Promise<void> {
    for (const name of await this.spares()) {
      const spare = this.#ref(name);
      const result = await this.#migrate(spare, options).catch((error: Error) => ({ ok: false as const, error }));
      if (!result.ok) await this.#host.adapter.drop(spare).catch(() => undefined);
    }
  }

  #ref(name: string): TenantRef {
    return Object.freeze({ key: name.slice(this.#host.names.prefix.length), name });
  }

  async #build(seed?: AfterCreate): Promise<void> {
    const { adapter } = this.#host;
    const room = adapter.maxNameBytes - Buffer.byteLength(this.marker);
    if (room < 8) {
      throw new ConfigurationError(
        `The prefix '${this.#host.names.prefix}' is too long for warm tenants: spare names ('${this.marker}' + 8 or more characters) must fit in ${adapter.maxNameBytes} bytes. Use a shorter prefix.`,
      );
    }
    const suffix = randomBytes(8).toString('hex').slice(0, Math.min(16, room));
    const build = this.#ref(this.#host.names.prefix + BUILD_MARK + suffix);
    try {
      await this.#create(build, seed);
    } catch (error) {
      if (!(error instanceof MigrationError)) throw error;
      const cause = (error.cause ?? error) as Error;
      const step = error.migration ? ` (${error.migration})` : '';
      const wrapped = new MigrationError(
        `A warm spare (${build.name}) could not be ${seed ? 'migrated and seeded' : 'migrated'}${step}, so it was dropped again: ${sentence(cause?.message ?? String(cause))} Fix the migration and retry.`,
        { cause, migration: error.migration, direction: error.direction ?? 'up' },
      );
      wrapped.result = { ok: false, tenant: build.key, schema: build.name, error: wrapped };
      throw wrapped;
    }
    // Claimable from here on: renamed under the claims' lock (on MySQL a rename moves table by table).
    await adapter.withLock(this.marker, (transaction) => adapter.rename(build.name, this.marker + suffix, transaction ? { transaction } : {}));
  }

  /** Builds left by a process that died mid-build (MySQL DDL is not transactional): their lock is free. */
  async #dropAbandonedBuilds(): Promise<void> {
    const { adapter } = this.#host;
    const busy = () => new Error('busy');
    for (const name of await adapter.list(this.#host.names.prefix + BUILD_MARK)) {
      // Dropped in the lock's transaction: a drop of its own would wait for the lock held here (Citus's takes it).
      await adapter.withLock(name, (transaction) => adapter.drop(this.#ref(name), transaction ? { transaction } : {}), { busy }).catch(() => undefined);
    }
  }
}

function failed(result: { ok: false; error: Error }, what: string): MigrationError {
  const cause = result.error as MigrationError;
  const told = sentence(cause?.message ?? String(cause));
  // The cause may already say what to do (a migration failure does): say it once.
  const error = new MigrationError(`${what}: ${told}${/ Fix the /.test(told) ? '' : ' Fix the migration and retry.'}`, {
    tenant: (result as { tenant?: string }).tenant,
    cause,
    migration: cause?.migration,
    direction: cause?.direction ?? 'up',
  });
  error.result = result;
  return error;
}
