import type { TenantHost } from './host';
import { requestTenant, type ResolveOptions } from './resolve';
import type { ExpressRequestLike, TenantRequest } from './request';

/** Options of `apartment.middleware()`: how the tenant is read from a request (see `ResolveOptions`). */
export type MiddlewareOptions<Req = ExpressRequestLike> = ResolveOptions<Req>;

type Next = (err?: unknown) => void;

/**
 * What `apartment.middleware()` returns: an Express 4/5 middleware. `res` is
 * not read, so it is `unknown`; Express's own `Request` and `Response` fit.
 */
export type TenantMiddleware<Req extends TenantRequest = ExpressRequestLike> = (req: Req, res: unknown, next: (err?: unknown) => void) => void;

/**
 * Builds the Express (4 or 5) middleware behind `apartment.middleware()`:
 * finds the request's tenant, checks that it exists (cached), and runs the
 * rest of the request inside `apartment.run(tenant, ...)`. Problems with the
 * tenant go to `next(err)` as `ApartmentError`s with a `status`
 * (invalid or unknown tenant 404, none 400, ambiguous headers 400); errors
 * from a resolver function are passed on unchanged.
 */
export function createMiddleware<Req extends TenantRequest>(apartment: TenantHost, options: MiddlewareOptions<Req> = {}): TenantMiddleware<Req> {
  const tenantOf = requestTenant(apartment, options);
  return function apartmentMiddleware(req: TenantRequest, _res: unknown, next: Next): void {
    // Not an async function: Express 5 would also act on a returned promise.
    tenantOf(req, req)
      .then((found) => () => {
        if (!found) return next();
        found.accept?.();
        apartment.run(found.ref.key, () => next());
      })
      // Calling `next` outside the promise chain: an error the app throws
      // downstream is Express's to handle, never caught and re-sent here.
      .then((proceed) => proceed(), next);
  };
}
