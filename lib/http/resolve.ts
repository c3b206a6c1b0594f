import type { TenantHost } from './host';
import { ConfigurationError, NoTenantError, TenantNotFoundError, TenantSuspendedError, describeValue } from '../errors';
import type { Tenant, TenantRef } from '../tenant';
import { existenceCache } from './existence-cache';
import { headerResolver } from './header';
import { pathResolver } from './path';
import type { Resolution, TenantRequest } from './request';
import { subdomainResolver } from './subdomain';

/** A function that reads the tenant from a request: a key, a number, `{ id }`, or nothing. May be async. */
export type TenantResolver<Req = TenantRequest> = (req: Req) => Tenant | null | undefined | Promise<Tenant | null | undefined>;

/** Where the tenant of a request comes from. */
export type ResolveOption<Req = TenantRequest> = 'subdomain' | 'header' | 'path' | TenantResolver<Req>;

/**
 * How a request's tenant is found and checked: the options of
 * `apartment.middleware()` and of every framework integration.
 */
export interface ResolveOptions<Req = TenantRequest> {
  /**
   * How to find the tenant of a request: `'subdomain'` (`acme.example.com`),
   * `'header'` (the `header` option), `'path'` (`/acme/...`), a function of
   * the framework's request, or a list of these tried in order (the first
   * that finds a tenant wins).
   * @default 'subdomain'
   * @example apartment.middleware({ resolve: ['header', 'subdomain'] })
   */
  resolve?: ResolveOption<Req> | ReadonlyArray<ResolveOption<Req>>;
  /**
   * The header `resolve: 'header'` reads (case-insensitive).
   * @default 'x-tenant'
   */
  header?: string;
  /**
   * First labels that `resolve: 'subdomain'` does not treat as tenants.
   * @default ['www']
   */
  exclude?: readonly string[];
  /**
   * When no tenant is found, run the request without one instead of
   * answering 400. An unknown or invalid tenant still answers 404.
   * @default false
   */
  optional?: boolean;
  /**
   * How long (ms) this process trusts that a tenant it has seen exists. `0`
   * checks the catalog on every request. `createTenant`/`dropTenant` in this
   * process update the cache at once; a tenant dropped by another process
   * is seen within `ttl`.
   * @default 10000
   */
  ttl?: number;
  /**
   * How long (ms) this process remembers that a key is *not* a tenant, so a
   * flood of made-up keys costs one catalog query per key per `negativeTtl`.
   * Kept short so a tenant created by another process (the CLI, another app
   * instance) is served within about this long. Never longer than `ttl`.
   * @default 500 (or `ttl`, when that is smaller)
   */
  negativeTtl?: number;
}

/** The request's tenant, known to exist. */
export interface ResolvedTenant {
  readonly ref: TenantRef;
  /** Applies what the resolver does to an accepted request (`'path'` strips the segment from `req.url`). */
  readonly accept?: () => void;
}

/**
 * The framework-free core every integration is a thin shell over: reads the
 * tenant from a request and checks that it exists (cached). Resolves to the
 * tenant, or to `undefined` when the request names none and `optional` is
 * set; rejects with an `ApartmentError` carrying the HTTP `status`
 * (no tenant 400, repeated Host/tenant header 400, invalid key 404, unknown
 * tenant 404, closed tenant 503, a write to a read-only tenant 423) or with
 * the app's resolver function's own error.
 * `view` is what the built-in resolvers read; `original` is the
 * framework's own request, handed to resolver functions.
 */
export type RequestTenant = (view: TenantRequest, original: unknown) => Promise<ResolvedTenant | undefined>;

/** A resolver in the one shape the core walks: what it found, or undefined. */
type Resolve = (view: TenantRequest, original: unknown) => Resolution | undefined | Promise<Resolution | undefined>;

function builtin(name: unknown, options: { header: string; exclude: ReadonlySet<string> }): Resolve {
  switch (name) {
    case 'subdomain':
      return subdomainResolver(options.exclude);
    case 'header':
      return headerResolver(options.header);
    case 'path':
      return pathResolver();
    default:
      if (typeof name === 'function') {
        const resolver = name as TenantResolver<never>;
        // An app's resolver returns the tenant itself; null and undefined mean none.
        return async (_view, original) => {
          const tenant = await resolver(original as never); // the framework's own request
          return tenant === undefined || tenant === null ? undefined : { tenant };
        };
      }
      throw new ConfigurationError(
        `Expected \`resolve\` to be 'subdomain', 'header', 'path', a function or a list of these, got ${describeValue(name)}.`,
      );
  }
}

function milliseconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(`Expected \`${name}\` to be a number of milliseconds from 0 and up, got ${describeValue(value)}.`);
  }
  return value;
}

function check(options: ResolveOptions<never>) {
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError(`Expected middleware options to be an object, got ${describeValue(options)}.`);
  }
  const { header = 'x-tenant', exclude = ['www'], optional = false } = options;
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw new ConfigurationError(`Expected \`header\` to be an HTTP header name, got ${describeValue(header)}.`);
  }
  if (!Array.isArray(exclude) || exclude.some((label) => typeof label !== 'string')) {
    throw new ConfigurationError(`Expected \`exclude\` to be an array of host labels, got ${describeValue(exclude)}.`);
  }
  if (typeof optional !== 'boolean') {
    throw new ConfigurationError(`Expected \`optional\` to be a boolean, got ${describeValue(optional)}.`);
  }
  const ttl = milliseconds('ttl', options.ttl ?? 10_000);
  const negativeTtl = Math.min(ttl, milliseconds('negativeTtl', options.negativeTtl ?? 500));
  return { header, exclude, optional, ttl, negativeTtl };
}

/** Builds the request -> tenant core for one set of options (validated here, once). */
export function requestTenant<Req>(apartment: TenantHost, options: ResolveOptions<Req> = {}): RequestTenant {
  const settings = check(options);
  const list = options.resolve === undefined ? ['subdomain'] : Array.isArray(options.resolve) ? options.resolve : [options.resolve];
  if (list.length === 0) throw new ConfigurationError('Expected `resolve` to name at least one resolver, got an empty list.');
  const exclude = new Set(settings.exclude.map((l) => l.toLowerCase()));
  const resolvers = list.map((r) => builtin(r, { header: settings.header, exclude }));
  const cache = existenceCache(apartment);
  const sources = list.map((r) => (typeof r === 'string' ? r : 'resolver function')).join(', ');

  return async (view, original) => {
    let found: Resolution | undefined;
    for (const resolver of resolvers) {
      found = await resolver(view, original);
      if (found) break;
    }
    if (!found) {
      if (settings.optional) return undefined;
      throw new NoTenantError(
        `No tenant in this request (looked at: ${sources}). Send one, or pass \`optional: true\` to run such requests without a tenant.`,
      );
    }
    const ref = apartment.names.ref(found.tenant as Tenant); // TenantNameError (404) before any SQL
    const state = await cache.state(ref, settings.ttl, settings.negativeTtl);
    if (state === undefined) {
      throw new TenantNotFoundError(`Tenant '${ref.key}' does not exist. Check the key, or create it with createTenant('${ref.key}').`, {
        tenant: ref.key,
      });
    }
    if (state !== 'active') refuseSuspended(ref, state, view.method);
    return { ref, accept: found.accept };
  };
}

/** Methods that do not change anything (RFC 9110 safe methods but TRACE): served by a read-only tenant. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Throws for a request a suspended tenant does not serve: anything when closed (503), a write when read-only (423). */
function refuseSuspended(ref: TenantRef, state: 'read-only' | 'closed', method: string | undefined): void {
  if (state === 'closed') {
    throw new TenantSuspendedError(`Tenant '${ref.key}' is suspended (closed). Resume it with resumeTenant('${ref.key}').`, { tenant: ref.key, mode: state });
  }
  if (method === undefined || !READS.has(method.toUpperCase())) {
    throw new TenantSuspendedError(
      `Tenant '${ref.key}' is read-only (suspended), so it refuses ${method ?? 'this'} requests. Resume it with resumeTenant('${ref.key}').`,
      { tenant: ref.key, mode: state },
    );
  }
}

