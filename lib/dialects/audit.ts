import type { TenantRef } from '../tenant';

/** One finding of `apartment.doctor()`: what is wrong, why it matters, and what fixes it. */
export interface DoctorFinding {
  /** `error`: isolation is broken or at risk (`ok` is false; exit code 1 in the CLI); `warning`: worth fixing. */
  level: 'error' | 'warning';
  /** What was found; stable for scripts. */
  code: DoctorCode;
  /** What was found and why it matters. */
  message: string;
  /** The API call, command or SQL that fixes it (the CLI shows commands). */
  fix: string;
  /** The tenant keys concerned, when the finding is about tenants. */
  tenants?: string[];
}

/** The kinds of finding. */
export type DoctorCode =
  | 'shadowed-table'
  | 'unfit-login-role'
  | 'tenant-without-role'
  | 'orphan-role'
  | 'stale-spare'
  | 'leftover-schema'
  | 'search-path'
  | 'transaction-pooler'
  | 'held-lock'
  | 'unknown-migrations';

/** What a dialect's audit gets: the tenants, the spares and leftovers, and how names map to keys. */
export interface AuditInput {
  readonly prefix: string;
  readonly tenants: readonly TenantRef[];
  /** Names of the warm spares. */
  readonly spares: readonly string[];
  /** Other schemas/databases under the prefix that are not tenants (spare builds, drift references). */
  readonly scratch: readonly string[];
  /** The tenant key of a schema/database name, or undefined. */
  keyOf(name: string): string | undefined;
}

/** One check of the doctor: a name for progress, and a few statements whatever the number of tenants. */
export interface AuditCheck {
  readonly name: string;
  run(): Promise<DoctorFinding[]>;
}

/** A list of names for a message: the first few and how many more. */
export function listed(names: readonly string[], max = 5): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
