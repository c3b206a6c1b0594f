import { AssertionError } from 'node:assert';
import type { Apartment } from '../apartment';
import { TRANSACTION_CONTROL } from '../dialects/contract';
import { ConfigurationError, CrossTenantError, describeValue } from '../errors';
import type { SentStatement } from '../routing/router';
import { isBackground } from './background';
import { findMarker, markRows, tableOf } from './markers';
import { testTenant, type TestTenant } from './tenant';

/** What the leak check found; every finding names the statement (or error) it comes from. */
export type IsolationFinding =
  | {
      /** A statement ran in another tenant, or its SQL names another tenant's schema/database. */
      kind: 'other-tenant';
      sql: string;
      /** The tenant it ran in (undefined: it ran with none but names the other tenant). */
      ranIn: string | undefined;
    }
  | {
      /** A statement returned a marker row written into the other tenant. */
      kind: 'marker-row';
      sql: string;
      row: unknown;
    }
  | {
      /** A statement with no tenant read or wrote a tenant table in the default schema/database. */
      kind: 'default-schema';
      sql: string;
      table: string;
    }
  | {
      /** Routing refused an instance of one tenant used in another (`CrossTenantError` out of `fn`). */
      kind: 'cross-tenant';
      message: string;
    };

/** The leak check's findings as data (`isolationReport`). */
export interface IsolationReport {
  /** The tenant `fn` ran in. */
  readonly tenant: string;
  /** The other tenant, whose tables got marker rows. */
  readonly other: string;
  /** The statements `fn` sent. */
  readonly statements: number;
  readonly findings: IsolationFinding[];
  /** The other tenant's tables that got a marker row. */
  readonly marked: string[];
  /** Tables of tenant models that could not get one, and why. */
  readonly unmarked: Array<{ table: string; reason: string }>;
  /** What `fn` returned. */
  readonly value?: unknown;
  /** What `fn` threw, when it was not a `CrossTenantError` (that is a finding). */
  readonly error?: unknown;
}

/** Options of `expectIsolated` and `isolationReport`. */
export interface IsolationOptions {
  /** Seed both tenants (`testTenant`'s `seed`). @default false */
  seed?: boolean;
}

/** The two tenants' keys, handed to `fn`. */
export interface IsolationTenants {
  /** The tenant `fn` runs in. */
  readonly tenant: string;
  /** The other tenant: nothing `fn` does may reach it. */
  readonly other: string;
}

/**
 * Runs `fn` inside a fresh test tenant, next to a second one whose every
 * table holds a marker row, recording every statement routing
 * sends meanwhile, and reports what reached the second tenant or the default
 * schema/database: a statement run in or naming the other tenant, a marker
 * row returned, a tenant table used with no tenant, a cross-tenant instance.
 * Both tenants are dropped afterwards.
 * @example const report = await isolationReport(apartment, () => listWidgets()); // report.findings: []
 */
export async function isolationReport(
  apartment: Apartment,
  fn: (tenants: IsolationTenants) => unknown,
  options: IsolationOptions = {},
): Promise<IsolationReport> {
  if (typeof fn !== 'function') throw new ConfigurationError(`Expected \`fn\` to be a function, got ${describeValue(fn)}.`);
  if (options === null || typeof options !== 'object') throw new ConfigurationError(`Expected options to be an object, got ${describeValue(options)}.`);
  for (const name of Object.keys(options)) {
    if (name !== 'seed') throw new ConfigurationError(`Unknown isolation option \`${name}\`. Known options: seed.`);
  }
  const seed = options.seed ?? false;
  const tenants: TestTenant[] = [];
  try {
    tenants.push(await testTenant(apartment, { seed }));
    tenants.push(await testTenant(apartment, { seed }));
    const [first, second] = tenants as [TestTenant, TestTenant];
    const { marker, tables: marked, unmarked } = await markRows(apartment, second.key);
    const tenantTables = new Set(
      Object.values(apartment.sequelize.models)
        .filter((model) => !apartment.sharedModels.has(model.name))
        .map((model) => tableOf(model as any)),
    );
    for (const model of Object.values(apartment.sequelize.models)) if (apartment.sharedModels.has(model.name)) tenantTables.delete(tableOf(model as any));

    const sent: SentStatement[] = [];
    /** The marker row each statement returned: looked for as the result arrives, before `fn` can change it. */
    const returned: unknown[] = [];
    const stop = apartment.router.observe((statement) => {
      if (isBackground()) return;
      const index = sent.push(statement) - 1;
      statement.result.then(
        (result) => {
          returned[index] = snapshot(findMarker(result, marker));
        },
        () => undefined,
      );
    });
    let value: unknown;
    let error: unknown;
    try {
      value = await first.run(() => fn({ tenant: first.key, other: second.key }));
    } catch (e) {
      error = e;
    } finally {
      stop();
    }
    await Promise.all(sent.map((s) => s.result.catch(() => undefined)));

    const firstName = apartment.schemaFor(first.key);
    const secondName = apartment.schemaFor(second.key);
    const defaultSchema = apartment.adapter.defaultSchema;
    const findings: IsolationFinding[] = [];
    sent.forEach((statement, index) => {
      const { sql, tenant } = statement;
      if (TRANSACTION_CONTROL.test(sql)) return;
      if ((tenant && tenant.name !== firstName) || names(sql, secondName)) {
        findings.push({ kind: 'other-tenant', sql, ranIn: tenant?.key });
      } else if (!tenant || names(sql, defaultSchema)) {
        // With no tenant, a tenant table resolves in the default schema/database; in the tenant, only when it names it.
        const table = [...tenantTables].find((t) => names(sql, t) && (!tenant || !names(sql, firstName)));
        if (table !== undefined) findings.push({ kind: 'default-schema', sql, table });
      }
      const row = returned[index];
      if (row !== undefined) findings.push({ kind: 'marker-row', sql, row });
    });
    const crossed = crossTenant(error);
    if (crossed) findings.push({ kind: 'cross-tenant', message: crossed.message });
    return {
      tenant: first.key,
      other: second.key,
      statements: sent.length,
      findings,
      marked,
      unmarked,
      ...(value !== undefined ? { value } : {}),
      ...(error !== undefined && !crossed ? { error } : {}),
    };
  } finally {
    for (const tenant of tenants) await tenant.drop().catch(() => undefined);
  }
}

/**
 * `isolationReport`, as an assertion: throws an `AssertionError` (node:assert)
 * naming every statement or row that reached the other tenant or the default
 * schema/database; rethrows what `fn` threw when nothing leaked; resolves to
 * what `fn` returned.
 * @example it('the widget list stays in its tenant', () => expectIsolated(apartment, () => request(app).get('/widgets')));
 */
export async function expectIsolated<T>(apartment: Apartment, fn: (tenants: IsolationTenants) => T, options: IsolationOptions = {}): Promise<Awaited<T>> {
  const report = await isolationReport(apartment, fn, options);
  if (report.findings.length > 0) {
    const lines = report.findings.map((finding) => {
      switch (finding.kind) {
        case 'other-tenant':
          return `- a statement reached tenant '${report.other}'${finding.ranIn ? ` (ran in '${finding.ranIn}')` : ''}: ${finding.sql}`;
        case 'marker-row':
          return `- a marker row of tenant '${report.other}' was returned by: ${finding.sql}\n  row: ${safeJson(finding.row)}`;
        case 'default-schema':
          return `- tenant table ${finding.table} was used with no tenant (the default schema/database): ${finding.sql}`;
        case 'cross-tenant':
          return `- ${finding.message}`;
      }
    });
    throw new AssertionError({
      message: `Not isolated: code run in tenant '${report.tenant}' reached beyond it (${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
      actual: report.findings,
      expected: [],
      operator: 'expectIsolated',
    });
  }
  if ('error' in report) throw report.error;
  return report.value as Awaited<T>;
}

/** Whether `sql` names `name` as an identifier (quoted or bare), not as part of a longer one. */
function names(sql: string, name: string): boolean {
  let from = 0;
  for (;;) {
    const at = sql.indexOf(name, from);
    if (at < 0) return false;
    const before = sql[at - 1];
    const after = sql[at + name.length];
    if (!identifierChar(before) && !identifierChar(after)) return true;
    from = at + 1;
  }
}

function identifierChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c);
}

function crossTenant(error: unknown): CrossTenantError | undefined {
  let e = error as any;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e instanceof CrossTenantError) return e;
    e = e.cause ?? e.original ?? e.parent;
  }
  return undefined;
}

/** A copy of a row as it was returned (the instance it belongs to may change later). */
function snapshot(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return row;
  try {
    return structuredClone(row);
  } catch {
    return { ...(row as object) };
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? String(v) : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
