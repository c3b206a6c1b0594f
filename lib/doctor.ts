import { IMPORT_MARK } from './archive/format';
import { listed, type AuditCheck, type DoctorFinding } from './dialects/audit';
import { ConfigurationError, describeValue } from './errors';
import { DRIFT_MARK } from './migrations/drift';
import type { MigrationHost } from './migrations/host';
import { RUNS_TABLE, TENANTS_TABLE } from './migrations/ledger';
import type { TenantMigrator } from './migrations/migrator';
import { DATA_TABLE, META_TABLE, readExecuted } from './migrations/storage';
import { BUILD_MARK } from './migrations/warm';
import { checkOptions, type OptionTable } from './options';
import { queryGeneratorOf } from './seam/sequelize';
import type { TenantRef } from './tenant';

/** Options of `doctor`. */
export interface DoctorOptions {
  /** Called after each check, with its name and how many of how many are done. */
  onProgress?(check: DoctorProgress): void;
}

/** What `onProgress` receives after each check. */
export interface DoctorProgress {
  check: string;
  done: number;
  total: number;
}

/** What `apartment.doctor()` found. */
export interface DoctorReport {
  /** False when a finding is an error. */
  ok: boolean;
  /** Errors first, then warnings. */
  findings: DoctorFinding[];
  /** Tenants checked. */
  tenants: number;
  /** The checks run, in order. */
  checks: string[];
  durationMs: number;
}

const DOCTOR_OPTIONS: OptionTable<DoctorOptions> = {
  onProgress: (value, name) => {
    if (value !== undefined && typeof value !== 'function') throw new ConfigurationError(`Expected \`${name}\` to be a function, got ${describeValue(value)}.`);
    return value;
  },
};

/** Checks `doctor`'s options. @throws ConfigurationError */
export function checkDoctorOptions(options: unknown): DoctorOptions {
  return checkOptions<DoctorOptions, typeof DOCTOR_OPTIONS>(DOCTOR_OPTIONS, options, 'doctor options') as DoctorOptions;
}

/** Tables the default schema shares with tenants by design (bookkeeping). */
const BOOKKEEPING = new Set([META_TABLE, DATA_TABLE, RUNS_TABLE, TENANTS_TABLE]);

/**
 * Audits how the fleet is set up for isolation: the dialect-free checks here
 * (tables shadowed in the default schema, applied migrations missing from the
 * folder, spares behind the migrations, leftover scratch schemas), the
 * dialect's own from its adapter. Each check is a few statements whatever
 * the number of tenants.
 */
export async function doctor(host: MigrationHost, migrator: TenantMigrator, tenants: readonly TenantRef[], options: DoctorOptions = {}): Promise<DoctorReport> {
  const started = Date.now();
  const { adapter, names } = host;
  const keyOf = (name: string) => names.keyOf(name);
  const spares = await migrator.warm.spares();
  const scratch: string[] = [];
  for (const mark of [BUILD_MARK, DRIFT_MARK, IMPORT_MARK]) scratch.push(...(await adapter.list(names.prefix + mark)));
  scratch.sort();

  const checks: AuditCheck[] = [
    { name: 'shadowed tables', run: () => shadowed(host, tenants) },
    { name: 'migrations', run: () => migrations(host, migrator, tenants, spares) },
    { name: 'leftovers', run: async () => leftovers(host, scratch) },
    ...adapter.audits({ prefix: names.prefix, tenants, spares, scratch, keyOf }),
  ];
  const findings: DoctorFinding[] = [];
  let done = 0;
  for (const check of checks) {
    findings.push(...(await check.run()));
    options.onProgress?.({ check: check.name, done: ++done, total: checks.length });
  }
  findings.sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1));
  return { ok: !findings.some((f) => f.level === 'error'), findings, tenants: tenants.length, checks: checks.map((c) => c.name), durationMs: Date.now() - started };
}

/**
 * A table of the default schema/database named like a tenant table: on
 * PostgreSQL a tenant's search_path is "tenant, public", so where the
 * tenant's own table is missing (a tenant behind the migrations, a table
 * dropped by hand) unqualified raw SQL reads the shared one without an error;
 * anywhere, SQL that lost its tenant context reads it instead of failing.
 * One catalog lookup per table of the default schema, never per tenant.
 */
async function shadowed(host: MigrationHost, tenants: readonly TenantRef[]): Promise<DoctorFinding[]> {
  const { adapter } = host;
  const names = new Set(tenants.map((t) => t.name));
  const findings: DoctorFinding[] = [];
  for (const table of await adapter.tables(adapter.defaultSchema)) {
    if (BOOKKEEPING.has(table)) continue;
    const keys = (await adapter.schemasWithTable(host.names.prefix, table)).filter((schema) => names.has(schema)).map((schema) => host.names.keyOf(schema) ?? schema).sort();
    if (!keys.length) continue;
    const quote = (name: string) => queryGeneratorOf(host.sequelize).quoteIdentifier(name, true) as string;
    const qualified = `${quote(adapter.defaultSchema)}.${quote(table)}`;
    findings.push({
      level: 'error',
      code: 'shadowed-table',
      message: `The default schema/database '${adapter.defaultSchema}' has a table ${table}, and so do ${keys.length} tenant(s) (${listed(keys)}). Raw SQL that names ${table} without a schema reads the shared table, with no error, whenever the tenant's own table is missing (a tenant behind the migrations, a table dropped by hand) or the statement runs without the tenant: another tenant's or nobody's data instead of a failure.`,
      fix: `If no shared model uses it, rename or drop it: ALTER TABLE ${qualified} RENAME TO ${quote(`${table}_shared`)}; if a shared model does, give one of the two another name (its tableName, or a tenant migration that renames the tenant table)`,
      tenants: keys,
    });
  }
  return findings;
}

/** Applied migrations that are not in the folder; spares behind it. */
async function migrations(host: MigrationHost, migrator: TenantMigrator, tenants: readonly TenantRef[], spares: readonly string[]): Promise<DoctorFinding[]> {
  if (host.migrationsPath === false) return [];
  const findings: DoctorFinding[] = [];
  const files = migrator.files().map((file) => file.name);
  const known = new Set(files);
  const executed = await readExecuted(host, [...tenants, ...spares.map((name) => ({ key: name, name }))]);
  const unknown = tenants.map((t) => ({ key: t.key, names: (executed.get(t.name) ?? []).filter((name) => !known.has(name)) })).filter((x) => x.names.length);
  if (unknown.length) {
    const names = [...new Set(unknown.flatMap((x) => x.names))].sort();
    findings.push({
      level: 'warning',
      code: 'unknown-migrations',
      message: `${unknown.length} tenant(s) (${listed(unknown.map((x) => x.key))}) have applied migrations that are not in ${host.migrationsPath}: ${listed(names)}. They cannot be reverted, drift cannot compare these tenants, and the app may be older than its tenants (a deploy rolled back, or another app on the same prefix).`,
      fix: `Put ${names.length === 1 ? 'the file' : 'the files'} back into ${host.migrationsPath}, or point migrationsPath at the folder they came from; migrationStatus('${unknown[0]!.key}') shows that tenant's state`,
      tenants: unknown.map((x) => x.key),
    });
  }
  const stale = spares.filter((name) => files.some((file) => !(executed.get(name) ?? []).includes(file)));
  if (stale.length) {
    findings.push({
      level: 'warning',
      code: 'stale-spare',
      message: `${stale.length} warm spare(s) are behind the migrations (${listed(stale)}): a run over the tenants did not reach them. createTenant() brings a spare up to date when it claims it, so sign-ups are slower until then.`,
      fix: `migrateAll() (it migrates the spares after a whole run that had work), or drop them (${stale.slice(0, 3).map((name) => host.adapter.dropSql(name)).join(' ')}${stale.length > 3 ? ' …' : ''}) and prewarm() again`,
    });
  }
  return findings;
}

/** Spare builds, drift references and MySQL/MariaDB imports a process left behind when it died. */
function leftovers(host: MigrationHost, scratch: readonly string[]): DoctorFinding[] {
  if (!scratch.length) return [];
  const drop = scratch.filter((name) => !name.startsWith(host.names.prefix + BUILD_MARK));
  return [{
    level: 'warning',
    code: 'leftover-schema',
    message: `${scratch.length} scratch schema(s)/database(s) under the prefix belong to no tenant (${listed(scratch)}): warm spares whose build did not finish, references left by drift() runs that did not finish, or tenants a MySQL/MariaDB importTenant()/cloneTenant() was building under a temporary name. Unless prewarm(), drift() or an import is running right now, a process that died left them.`,
    fix: `prewarm() drops the unfinished builds; drop the rest: ${drop.slice(0, 3).map((name) => host.adapter.dropSql(name)).join(' ') || '(none)'}${drop.length > 3 ? ' …' : ''}`,
  }];
}
