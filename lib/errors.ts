/** What an `ApartmentError` carries beside its message. */
export interface ApartmentErrorOptions {
  /** The tenant key the error is about, if any. */
  tenant?: string;
  /** The underlying error (driver error, migration error, ...). */
  cause?: unknown;
  /** HTTP status an app's error handler may use (set by the middleware errors). */
  status?: number;
}

/**
 * Every error this package throws is an `ApartmentError`: it names the tenant
 * it is about (when there is one), carries the underlying driver error as
 * `cause`, and its message says what to do next.
 */
export class ApartmentError extends Error {
  /** The tenant key the error is about, if any. */
  readonly tenant: string | undefined;
  /** HTTP status suggested for this error (400, 404, 409, 500). */
  readonly status: number;
  override readonly cause: unknown;

  constructor(message: string, options: ApartmentErrorOptions = {}) {
    super(message);
    this.name = new.target.name;
    this.tenant = options.tenant;
    this.cause = options.cause;
    this.status = options.status ?? 500;
  }
}

/** A tenant key or prefix is not acceptable; thrown before any SQL is sent. */
export class TenantNameError extends ApartmentError {
  constructor(message: string, options: ApartmentErrorOptions = {}) {
    super(message, { status: 404, ...options });
  }
}

/** `createTenant` was asked for a tenant whose schema/database already exists. */
export class TenantExistsError extends ApartmentError {
  constructor(message: string, options: ApartmentErrorOptions = {}) {
    super(message, { status: 409, ...options });
  }
}

/** The tenant's schema/database does not exist. */
export class TenantNotFoundError extends ApartmentError {
  constructor(message: string, options: ApartmentErrorOptions = {}) {
    super(message, { status: 404, ...options });
  }
}

/** Another process holds the tenant's migration lock (it is migrating), so the operation was refused. */
export class TenantBusyError extends ApartmentError {
  constructor(message: string, options: ApartmentErrorOptions = {}) {
    super(message, { status: 409, ...options });
  }
}

/** Strict mode: a tenant model was used without a tenant (no context, no option, no bound instance). */
export class NoTenantError extends ApartmentError {
  constructor(message: string, options: ApartmentErrorOptions = {}) {
    super(message, { status: 400, ...options });
  }
}

/**
 * An instance that belongs to one tenant was used inside another tenant's
 * context, or (`isolation: 'role'`) a statement in one tenant reached another
 * tenant's schema and the database refused it.
 */
export class CrossTenantError extends ApartmentError {
  /** The other tenant: the one the instance belongs to, or whose schema the statement reached. */
  readonly instanceTenant: string;

  constructor(message: string, options: ApartmentErrorOptions & { instanceTenant: string }) {
    super(message, { status: 409, ...options });
    this.instanceTenant = options.instanceTenant;
  }
}

/**
 * The tenant is suspended (`suspendTenant`): `'closed'` refuses everything
 * (HTTP 503), `'read-only'` refuses writes (HTTP 423 Locked). Thrown by the
 * HTTP integrations before the handler runs, and by `tenantProcessor` before
 * a job runs.
 */
export class TenantSuspendedError extends ApartmentError {
  /** How the tenant is suspended. */
  readonly mode: 'read-only' | 'closed';

  constructor(message: string, options: ApartmentErrorOptions & { mode: 'read-only' | 'closed' }) {
    super(message, { status: options.mode === 'closed' ? 503 : 423, ...options });
    this.mode = options.mode;
  }
}

/**
 * A tenant archive that cannot be imported: not an archive, a later format
 * version, another dialect, migrations this app does not have, cut short, or
 * rows that do not match its checksums. Nothing was created.
 */
export class ArchiveError extends ApartmentError {
  constructor(message: string, options: ApartmentErrorOptions = {}) {
    super(message, { status: 400, ...options });
  }
}

/** Misuse of the package itself: bad options, installing twice, missing configuration. */
export class ConfigurationError extends ApartmentError {}

/**
 * A statement the package would have to change to route it (inline its bind
 * values, add its comment) and cannot change safely: a value the server
 * would read as something else than a value, or a session whose quoting
 * rules (sql_mode) cannot be known. Nothing was sent.
 */
export class UnsafeQueryError extends ApartmentError {}

/**
 * A tenant migration failed. `migration` names the file, `direction` says
 * whether it was going up or down, `result` is the tenant's `MigrationResult`
 * when the failure ended a `createTenant`.
 */
export class MigrationError extends ApartmentError {
  readonly migration: string | undefined;
  readonly direction: 'up' | 'down' | undefined;
  /** Set by `createTenant`: the failed result, so callers can report it. */
  result?: unknown;

  constructor(
    message: string,
    options: ApartmentErrorOptions & { migration?: string; direction?: 'up' | 'down' } = {},
  ) {
    super(message, options);
    this.migration = options.migration;
    this.direction = options.direction;
  }
}

/**
 * A message fragment that ends a sentence: `text` with a full stop added
 * unless it already ends with one (driver messages often do), so messages
 * built from other messages never read "schema.. Fix".
 * @example `${sentence(cause.message)} Fix the migration.`
 */
export function sentence(text: unknown): string {
  const shown = String(text ?? '').trimEnd();
  return /[.!?]$/.test(shown) ? shown : `${shown}.`;
}

/** Quote a value for an error message the way p-queue does: `value` (type). */
export function describeValue(value: unknown): string {
  let shown: string;
  try {
    shown = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  } catch {
    shown = String(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}

/**
 * A fleet run (`migrateAll`, `seedAll` with `canary` or waves) stopped before
 * it reached this tenant: the canary failed, or a wave had more failures than
 * `maxFailures` allows. Nothing ran in the tenant; `resume` runs it.
 */
export class FleetStoppedError extends ApartmentError {
  /** Why the run stopped. */
  readonly reason: 'canary' | 'max-failures';

  constructor(message: string, options: ApartmentErrorOptions & { reason: 'canary' | 'max-failures' }) {
    super(message, options);
    this.reason = options.reason;
  }
}
