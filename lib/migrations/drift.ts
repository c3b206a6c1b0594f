import { randomBytes } from 'node:crypto';
import { ConfigurationError, describeValue, MigrationError, sentence } from '../errors';
import { CATALOG_CHUNK, type ColumnShape, type SchemaShape, type TableShape } from '../dialects/catalog';
import { checkOptions, type OptionTable } from '../options';
import type { TenantRef } from '../tenant';
import type { MigrationHost } from './host';
import type { TenantMigrator } from './migrator';
import { DATA_TABLE, META_TABLE, readExecuted } from './storage';

/** Options of `drift`. */
export interface DriftOptions {
  /** Only these tenant keys. @default every tenant */
  tenants?: string[];
  /** Leave these tenant keys out. */
  skipTenants?: string[];
  /** Called once per tenant as soon as it is compared (in batches of 2,000 schemas/databases). */
  onProgress?(tenant: DriftProgress): void;
}

/** What `onProgress` receives for each tenant compared. */
export interface DriftProgress {
  tenant: string;
  schema: string;
  /** False when the tenant differs from its reference. */
  ok: boolean;
  /** Tenants to compare in all. */
  total: number;
}

const keys = (value: unknown, name: string) => {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((key) => typeof key !== 'string')) throw new ConfigurationError(`Expected \`${name}\` to be an array of tenant keys, got ${describeValue(value)}.`);
  return value as string[];
};

/** The drift options, each checked (unknown keys named). */
export const DRIFT_OPTIONS: OptionTable<DriftOptions> = {
  tenants: keys,
  skipTenants: keys,
  onProgress: (value, name) => {
    if (value !== undefined && typeof value !== 'function') throw new ConfigurationError(`Expected \`${name}\` to be a function, got ${describeValue(value)}.`);
    return value;
  },
};

/** Checks `drift`'s options. @throws ConfigurationError */
export function checkDriftOptions(options: unknown): DriftOptions {
  return checkOptions<DriftOptions, typeof DRIFT_OPTIONS>(DRIFT_OPTIONS, options, 'drift options') as DriftOptions;
}

/** One way a tenant's catalog differs from what its migrations make. */
export interface DriftDifference {
  /** The table it is about. */
  table: string;
  /**
   * `table`: a table missing or extra; `column`: a column missing, extra or
   * different (type, nullability, default); `index`; `constraint` (primary,
   * unique, foreign key, check); `migrations`: applied migrations whose files
   * are not in the folder (the tenant could not be compared).
   */
  kind: 'table' | 'column' | 'index' | 'constraint' | 'migrations';
  /** The column, index or constraint name (absent for `table`). */
  name?: string;
  /** What the migrations make, in the catalog's words; null when the tenant has something they do not make. */
  expected: string | null;
  /** What the tenant has; null when it lacks it. */
  actual: string | null;
}

/** A tenant whose catalog differs from a reference built by its own applied migrations. */
export interface TenantDrift {
  tenant: string;
  schema: string;
  /** Its last applied migration, or null. */
  version: string | null;
  differences: DriftDifference[];
}

/** What `drift` found. */
export interface DriftReport {
  /** Tenants compared. */
  tenants: number;
  /** Reference schemas/databases built (one per distinct set of applied migrations), dropped again. */
  references: number;
  /** Tenants that differ, in key order. */
  drifted: TenantDrift[];
  durationMs: number;
}

/**
 * Put after the prefix (and before a random suffix) to name drift's reference
 * schemas/databases: not a valid key, so tenants() never lists them.
 */
export const DRIFT_MARK = '_drift_';

/** Bookkeeping tables: not part of what migrations make. */
const SKIPPED = new Set([META_TABLE, DATA_TABLE]);

/**
 * Compares each tenant's catalog (tables, columns with types, defaults and
 * nullability, indexes, unique and foreign keys) with a reference built by
 * running the migrations the tenant has applied in a scratch schema/database,
 * one reference per distinct set of applied migrations, dropped afterwards.
 * The catalogs of every tenant are read in a few statements for all of them
 * (the adapter's readCatalog), never one query per tenant.
 */
export async function drift(host: MigrationHost, migrator: TenantMigrator, tenants: readonly TenantRef[], options: Pick<DriftOptions, 'onProgress'> = {}): Promise<DriftReport> {
  const started = Date.now();
  if (host.migrationsPath === false) {
    throw new ConfigurationError('drift compares each tenant with what its migrations make, and this Apartment has `migrationsPath: false`. Set `migrationsPath` to the tenant migrations folder.');
  }
  const files = new Set(migrator.files().map((file) => file.name));
  const executed = await readExecuted(host, tenants);
  const drifted: TenantDrift[] = [];
  const report = (tenant: TenantRef, ok: boolean) => options.onProgress?.({ tenant: tenant.key, schema: tenant.name, ok, total: tenants.length });
  const sets = new Map<string, string[]>();
  const setOf = new Map<string, string>();
  for (const tenant of tenants) {
    const applied = executed.get(tenant.name) ?? [];
    const unknown = applied.filter((name) => !files.has(name));
    if (unknown.length) {
      drifted.push({
        tenant: tenant.key,
        schema: tenant.name,
        version: applied.at(-1) ?? null,
        differences: unknown.map((name) => ({ table: META_TABLE, kind: 'migrations', name, expected: null, actual: `applied, but ${name} is not in ${host.migrationsPath}` })),
      });
      report(tenant, false);
      continue;
    }
    const key = applied.join('\n');
    if (!sets.has(key)) sets.set(key, applied);
    setOf.set(tenant.key, key);
  }
  const references = new Map<string, TenantRef>();
  // Under the prefix, where no key can name it (keys start with a letter or
  // digit): tenants() never lists it, and what drops the prefix drops it too.
  const scratch = `${host.names.prefix}${DRIFT_MARK}${randomBytes(4).toString('hex')}_`;
  try {
    for (const [key, applied] of sets) {
      const ref: TenantRef = { key: `${scratch}${references.size}`, name: `${scratch}${references.size}` };
      await host.adapter.create(ref);
      references.set(key, ref);
      if (applied.length === 0) continue;
      const result = await migrator.migrate(ref, { only: applied });
      if (!result.ok) {
        throw new MigrationError(
          `Building the reference for drift (the migrations up to ${applied.at(-1)}, in a scratch schema/database) failed: ${sentence(result.error.message)} Fix the migration, then run drift again.`,
          { cause: result.error, migration: (result.error as MigrationError).migration, direction: 'up' },
        );
      }
    }
    const expected = new Map<string, SchemaShape>();
    const shapes = references.size ? await host.adapter.readCatalog([...references.values()].map((ref) => ref.name)) : new Map<string, SchemaShape>();
    for (const [key, ref] of references) expected.set(key, shapes.get(ref.name)!);
    // Tenants' catalogs in batches: each batch is a few statements for all its
    // tenants, compared and reported before the next is read.
    const compared = tenants.filter((tenant) => setOf.has(tenant.key));
    for (let start = 0; start < compared.length; start += CATALOG_CHUNK) {
      const batch = compared.slice(start, start + CATALOG_CHUNK);
      const actual = await host.adapter.readCatalog(batch.map((tenant) => tenant.name));
      for (const tenant of batch) {
        const key = setOf.get(tenant.key)!;
        const differences = compare(expected.get(key)!, actual.get(tenant.name) ?? new Map());
        if (differences.length) drifted.push({ tenant: tenant.key, schema: tenant.name, version: sets.get(key)!.at(-1) ?? null, differences });
        report(tenant, differences.length === 0);
      }
    }
  } finally {
    for (const ref of references.values()) await host.adapter.drop(ref).catch(() => undefined);
  }
  drifted.sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
  return { tenants: tenants.length, references: references.size, drifted, durationMs: Date.now() - started };
}

const columnText = (column: ColumnShape) => `${column.type}${column.nullable ? '' : ' NOT NULL'}${column.default === null ? '' : ` DEFAULT ${column.default}`}`;

/** The differences of `actual` from `expected`, table by table, in name order. */
export function compare(expected: SchemaShape, actual: SchemaShape): DriftDifference[] {
  const out: DriftDifference[] = [];
  const names = [...new Set([...expected.keys(), ...actual.keys()])].filter((name) => !SKIPPED.has(name)).sort();
  for (const table of names) {
    const want = expected.get(table);
    const have = actual.get(table);
    if (!want || !have) {
      out.push({ table, kind: 'table', expected: want ? 'table' : null, actual: have ? 'table' : null });
      continue;
    }
    out.push(...members(table, 'column', mapOf(want.columns, columnText), mapOf(have.columns, columnText)));
    out.push(...members(table, 'index', want.indexes, have.indexes));
    out.push(...members(table, 'constraint', want.constraints, have.constraints));
  }
  return out;
}

function mapOf<T>(map: Map<string, T>, text: (value: T) => string): Map<string, string> {
  return new Map([...map].map(([name, value]) => [name, text(value)]));
}

function members(table: string, kind: 'column' | 'index' | 'constraint', want: TableShape['indexes'], have: TableShape['indexes']): DriftDifference[] {
  const out: DriftDifference[] = [];
  for (const name of [...new Set([...want.keys(), ...have.keys()])].sort()) {
    const expected = want.get(name) ?? null;
    const actual = have.get(name) ?? null;
    if (expected !== actual) out.push({ table, kind, name, expected, actual });
  }
  return out;
}
