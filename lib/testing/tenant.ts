import type { Apartment } from '../apartment';
import { ConfigurationError, describeValue, TenantNotFoundError } from '../errors';
import { inBackground } from './background';
import { nextKey, ownerMayLive, ownerOf } from './names';

/** Options of `testTenant(apartment, options)`. */
export interface TestTenantOptions {
  /**
   * Run the tenant seeders in the new tenant, and again after every `reset()`.
   * @default false
   */
  seed?: boolean;
  /**
   * How many tenants the kit keeps ready in the background, topped up after
   * every `testTenant`. After a process's first test tenant these are warm
   * spares (shared by every process, a rename away); from its second on, the
   * kit keeps whole test tenants ready under their own test names, handed
   * out without a statement. `0`: none (every tenant is built, migrations and all).
   * @default 2
   */
  spares?: number;
}

/** A tenant of its own for one test file (or one test). */
export interface TestTenant {
  /** The tenant key: `test_<host>_<pid>_<worker>_<run>_<n>`. */
  readonly key: string;
  /** `apartment.run(key, fn)`: `fn` with this tenant in context. */
  run<T>(fn: () => T): T;
  /**
   * Empties every table of the tenant except the migration and seeder records
   * (`SequelizeMeta`, `SequelizeData`), restarts identities/auto-increments,
   * and runs the seeders again when the tenant was made with `seed`.
   * PostgreSQL: one `TRUNCATE … RESTART IDENTITY CASCADE`. MySQL/MariaDB: on
   * one connection with foreign-key checks off for it alone, on again before
   * it goes back to the pool.
   */
  reset(): Promise<void>;
  /** Drops the tenant (no error when it is gone already). */
  drop(): Promise<void>;
}

const KNOWN = new Set(['seed', 'spares']);

/** A test tenant the kit builds ahead, under its own test key: handed out once `built` resolves to true. */
interface Ready {
  key: string;
  built: Promise<boolean>;
}

/** The kit's state for one Apartment: the background top-up, the tenants kept ready and the sweep of dead runs' tenants. */
interface Kit {
  topping: Promise<void> | undefined;
  again: boolean;
  spares: number;
  swept: Promise<string[]> | undefined;
  /** Test tenants handed out so far. */
  given: number;
  /** Built (or being built) under their test keys, unseeded, in the order they are handed out. */
  ready: Ready[];
}
const kits = new WeakMap<Apartment, Kit>();

function kitOf(apartment: Apartment): Kit {
  let kit = kits.get(apartment);
  if (!kit) {
    kit = { topping: undefined, again: false, spares: 0, swept: undefined, given: 0, ready: [] };
    kits.set(apartment, kit);
  }
  return kit;
}

function check(apartment: unknown, options: unknown): { seed: boolean; spares: number } {
  if (!apartment || typeof (apartment as Apartment).createTenant !== 'function' || typeof (apartment as Apartment).run !== 'function') {
    throw new ConfigurationError(`Expected an Apartment as the first argument, got ${describeValue(apartment)}.`);
  }
  if (options === null || typeof options !== 'object') throw new ConfigurationError(`Expected testTenant options to be an object, got ${describeValue(options)}.`);
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw new ConfigurationError(`Unknown testTenant option \`${name}\`. Known options: ${[...KNOWN].join(', ')}.`);
  }
  const { seed = false, spares = 2 } = options as TestTenantOptions;
  if (typeof seed !== 'boolean') throw new ConfigurationError(`Expected \`seed\` to be a boolean, got ${describeValue(seed)}.`);
  if (!Number.isSafeInteger(spares) || spares < 0) throw new ConfigurationError(`Expected \`spares\` to be a number from 0 and up, got ${describeValue(spares)}.`);
  return { seed, spares };
}

/**
 * A fresh tenant for a test file: fully migrated (and seeded with `seed`),
 * named uniquely per process and runner worker, and marked as a test tenant
 * so that the next run removes it if this one crashes before `drop()`.
 * A process's first one is claimed from the warm spares the kit keeps
 * topped up in the background (a rename); from the second on, the kit keeps
 * whole test tenants ready under their own keys and hands one out (a tenant
 * being built is awaited, never handed out half-migrated).
 * Imports no test runner: call it from `before`/`beforeAll`.
 * @throws ConfigurationError for bad options; MigrationError when a migration fails
 * @example
 * let tenant: TestTenant;
 * before(async () => { tenant = await testTenant(apartment, { seed: true }); });
 * beforeEach(() => tenant.reset());
 * after(() => tenant.drop());
 * it('lists widgets', () => tenant.run(async () => { ... }));
 */
export async function testTenant(apartment: Apartment, options: TestTenantOptions = {}): Promise<TestTenant> {
  const { seed, spares } = check(apartment, options);
  const kit = kitOf(apartment);
  kit.swept ??= inBackground(() => sweepTestTenants(apartment)).catch(() => []);
  kit.spares = Math.max(kit.spares, spares);
  let key = await takeReady(apartment, kit, seed);
  if (key === undefined) {
    key = nextKey();
    await apartment.createTenant(key, { seed });
  }
  kit.given += 1;
  // A process that asks for a second test tenant will likely ask for more: keep whole ones ready in it from now on.
  if (kit.spares > 0) (kit.given > 1 ? keepReady : topUp)(apartment, kit);
  return makeTestTenant(apartment, key, seed);
}

/**
 * The next tenant kept ready, once its build is done (seeded here with
 * `seed`: they are built unseeded); undefined when none is left or its build
 * failed (the caller builds one itself, and reports the error if it fails again).
 */
async function takeReady(apartment: Apartment, kit: Kit, seed: boolean): Promise<string | undefined> {
  const next = kit.ready.shift();
  if (!next || !(await next.built)) return undefined;
  if (seed) {
    const result = await apartment.seedTenant(next.key);
    if (!result.ok) {
      await apartment.dropTenant(next.key).catch(() => undefined);
      throw result.error;
    }
  }
  return next.key;
}

/** Starts building test tenants in the background until `spares` are ready or being built. */
function keepReady(apartment: Apartment, kit: Kit): void {
  while (kit.ready.length < kit.spares) {
    const key = nextKey();
    // A failed build drops itself (createTenant does); the tenant that needed it is built in the foreground instead.
    const built = inBackground(() => apartment.createTenant(key, { seed: false })).then(
      () => true,
      () => false,
    );
    kit.ready.push({ key, built });
  }
}

function makeTestTenant(apartment: Apartment, key: string, seeded: boolean): TestTenant {
  const ref = apartment.names.ref(key);
  return Object.freeze({
    key,
    run: <T>(fn: () => T): T => apartment.run(key, fn),
    async reset(): Promise<void> {
      // Seeded: the seeders' records go too, so that seeding runs every seeder again and records it again.
      const keep = seeded ? [apartment.migrator.kind.table] : [apartment.migrator.kind.table, apartment.seeder.kind.table];
      await apartment.adapter.emptyTables(ref, keep);
      if (!seeded) return;
      const result = await apartment.seedTenant(key);
      if (!result.ok) throw result.error;
    },
    async drop(): Promise<void> {
      await apartment.dropTenant(key).catch((error: unknown) => {
        if (!(error instanceof TenantNotFoundError)) throw error;
      });
    },
  });
}

/** Starts topping the spares up in the background, or asks the running top-up for one more round. */
function topUp(apartment: Apartment, kit: Kit): void {
  if (kit.topping) {
    kit.again = true;
    return;
  }
  kit.topping = inBackground(async () => {
    try {
      do {
        kit.again = false;
        await apartment.prewarm(kit.spares);
      } while (kit.again);
    } catch {
      // A failing migration surfaces in the next testTenant, which builds the tenant itself.
    } finally {
      kit.topping = undefined;
    }
  });
}

/**
 * Resolves when the kit's background work for `apartment` (topping up spares,
 * the sweep of a dead run's tenants) is done, and the test tenants it kept
 * ready and handed to no test are warm spares again (up to `spares` of
 * them; the rest are dropped): a run leaves none of its test tenants behind
 * but those its tests did not drop. Await it before `sequelize.close()` in
 * the last hook of a run.
 * @example after(async () => { await settle(apartment); await sequelize.close(); });
 */
export async function settle(apartment: Apartment): Promise<void> {
  const kit = kits.get(apartment);
  if (!kit) return;
  await kit.swept;
  while (kit.topping) await kit.topping;
  while (kit.ready.length > 0) {
    const { key, built } = kit.ready.shift()!;
    if (!(await built)) continue;
    await inBackground(() => apartment.migrator.warm.adopt(apartment.names.ref(key), kit.spares));
  }
}

/**
 * Drops the test tenants left behind by runs whose process is gone (same
 * host, no such pid): a crashed run, or one that never called `drop()`.
 * Only keys that match the test tenants' whole pattern are considered, so a
 * real tenant is never touched; tenants of live processes and of other hosts
 * stay. `testTenant` runs it once per Apartment, in the background.
 * @returns the keys it dropped
 */
export async function sweepTestTenants(apartment: Apartment): Promise<string[]> {
  const dropped: string[] = [];
  for (const key of await apartment.tenants()) {
    const owner = ownerOf(key);
    if (!owner || ownerMayLive(owner)) continue;
    try {
      await apartment.dropTenant(key);
      dropped.push(key);
    } catch (error) {
      if (!(error instanceof TenantNotFoundError)) throw error;
    }
  }
  return dropped;
}
