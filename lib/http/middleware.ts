import type { Apartment } from '../apartment';
import { ConfigurationError, NoTenantError, TenantNotFoundError, describeValue } from '../errors';
import type { Tenant } from '../tenant';
import { existenceCache } from './existence-cache';
import { headerResolver } from './header';
import { pathResolver } from './path';
import type { BuiltinResolver, Resolution, TenantRequest } from './request';
import { subdomainResolver } from './subdomain';

/** A function that reads the tenant from a request: a key, a number, `{ id }`, or nothing. May be async. */
export type TenantResolver<Req = any> = (req: Req) => Tenant | null | undefined | Promise<Tenant | null | undefined>;

/** Where the tenant of a request comes from. */
export type ResolveOption<Req = any> = 'subdomain' | 'header' | 'path' | TenantResolver<Req>;

/** Options of `apartment.middleware()`. */
export interface MiddlewareOptions<Req = any> {
  /**
   * How to find the tenant of a request: `'subdomain'` (`acme.example.com`),
   * `'header'` (the `header` option), `'path'` (`/acme/...`, stripped from
   * `req.url`), a function, or a list of these tried in order (the first
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
   * How long (ms) a tenant's existence is cached in this process. `0` checks
   * the catalog on every request. `createTenant`/`dropTenant` in this
   * process update the cache at once.
   * @default 10000
   */
  ttl?: number;
}

type Next = (err?: unknown) => void;

/** A resolver in the one shape the middleware walks: what it found, or undefined. */
type Resolve = (req: TenantRequest) => Resolution | undefined | Promise<Resolution | undefined>;

function builtin(name: unknown, options: { header: string; exclude: ReadonlySet<string> }): BuiltinResolver | Resolve {
  switch (name) {
    case 'subdomain':
      return subdomainResolver(options.exclude);
    case 'header':
      return headerResolver(options.header);
    case 'path':
      return pathResolver();
    default:
      if (typeof name === 'function') {
        const resolver = name as TenantResolver;
        // An app's resolver returns the tenant itself; null and undefined mean none.
        return async (req) => {
          const tenant = await resolver(req);
          return tenant === undefined || tenant === null ? undefined : { tenant };
        };
      }
      throw new ConfigurationError(
        `Expected \`resolve\` to be 'subdomain', 'header', 'path', a function or a list of these, got ${describeValue(name)}.`,
      );
  }
}

function check(options: MiddlewareOptions): Required<Omit<MiddlewareOptions, 'resolve'>> {
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError(`Expected middleware options to be an object, got ${describeValue(options)}.`);
  }
  const { header = 'x-tenant', exclude = ['www'], optional = false, ttl = 10_000 } = options;
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw new ConfigurationError(`Expected \`header\` to be an HTTP header name, got ${describeValue(header)}.`);
  }
  if (!Array.isArray(exclude) || exclude.some((label) => typeof label !== 'string')) {
    throw new ConfigurationError(`Expected \`exclude\` to be an array of host labels, got ${describeValue(exclude)}.`);
  }
  if (typeof optional !== 'boolean') {
    throw new ConfigurationError(`Expected \`optional\` to be a boolean, got ${describeValue(optional)}.`);
  }
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
    throw new ConfigurationError(`Expected \`ttl\` to be a number of milliseconds from 0 and up, got ${describeValue(ttl)}.`);
  }
  return { header, exclude, optional, ttl };
}

/**
 * Builds the Express (4 or 5) middleware behind `apartment.middleware()`:
 * finds the request's tenant, checks that it exists (cached), and runs the
 * rest of the request inside `apartment.run(tenant, ...)`. Problems with the
 * tenant go to `next(err)` as `ApartmentError`s with a `status`
 * (invalid or unknown tenant 404, none 400, ambiguous headers 400); errors
 * from a resolver function are passed on unchanged.
 */
export function createMiddleware(apartment: Apartment, options: MiddlewareOptions = {}): (req: any, res: any, next: Next) => void {
  const settings = check(options);
  const list = options.resolve === undefined ? ['subdomain'] : Array.isArray(options.resolve) ? options.resolve : [options.resolve];
  if (list.length === 0) throw new ConfigurationError('Expected `resolve` to name at least one resolver, got an empty list.');
  const resolvers: Resolve[] = list.map((r) => builtin(r, { header: settings.header, exclude: new Set(settings.exclude.map((l) => l.toLowerCase())) }));
  const cache = existenceCache(apartment);
  const sources = list.map((r) => (typeof r === 'string' ? r : 'resolver function')).join(', ');

  async function resolution(req: TenantRequest): Promise<Resolution | undefined> {
    for (const resolver of resolvers) {
      const found = await resolver(req);
      if (found) return found;
    }
    return undefined;
  }

  return function apartmentMiddleware(req: TenantRequest, _res: unknown, next: Next): void {
    // Not an async function: Express 5 would also act on a returned promise.
    resolution(req)
      .then(async (found) => {
        if (!found) {
          if (settings.optional) return () => next();
          throw new NoTenantError(
            `No tenant in this request (looked at: ${sources}). Send one, or pass \`optional: true\` to run such requests without a tenant.`,
          );
        }
        const ref = apartment.names.ref(found.tenant); // TenantNameError (404) before any SQL
        if (!(await cache.exists(ref, settings.ttl))) {
          throw new TenantNotFoundError(`Tenant '${ref.key}' does not exist. Check the key, or create it with createTenant('${ref.key}').`, {
            tenant: ref.key,
          });
        }
        return () => {
          found.accept?.();
          apartment.run(ref.key, () => next());
        };
      })
      // Calling `next` outside the promise chain: an error the app throws
      // downstream is Express's to handle, never caught and re-sent here.
      .then((proceed) => proceed(), next);
  };
}
