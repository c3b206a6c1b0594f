import type { Context, Middleware, Next } from 'koa';
import type { Apartment } from '../apartment';
import { ApartmentError } from '../errors';
import { requestTenant, type ResolveOptions } from '../http/resolve';
import type { TenantRequest } from '../http/request';
import { apartmentOption } from './guard';

/** Options of the Koa middleware: how to read the tenant (as `apartment.middleware()`); resolver functions get `ctx`. */
export type KoaApartmentOptions = ResolveOptions<Context>;

/**
 * Koa 2 middleware: resolves the tenant of each request, sets
 * `ctx.state.tenant`, and runs the downstream middleware inside
 * `apartment.run(tenant, ...)`. Problems with the tenant are thrown as
 * `ApartmentError`s with a `status` (400/404) and `expose: true`, so Koa's
 * default handler answers with that status and message and an app's error
 * middleware can render them. `resolve: 'path'` strips the segment from
 * `ctx.url` (`ctx.originalUrl` keeps it), so routers match `/widgets`.
 *
 * @example app.use(apartmentMiddleware(apartment, { resolve: 'subdomain' }))
 */
export function apartmentMiddleware(apartment: Apartment, options: KoaApartmentOptions = {}): Middleware {
  const checked = apartmentOption(apartment, 'apartmentMiddleware (koa)');
  const tenantOf = requestTenant(checked, options);
  return async function apartmentKoa(ctx: Context, next: Next): Promise<void> {
    // Koa's `hostname` honours `app.proxy` (X-Forwarded-Host), like Express's.
    const view: TenantRequest = { headers: ctx.req.headers, rawHeaders: ctx.req.rawHeaders, url: ctx.url, hostname: ctx.hostname };
    let found;
    try {
      found = await tenantOf(view, ctx);
    } catch (error) {
      if (error instanceof ApartmentError) Object.assign(error, { expose: error.status < 500 });
      throw error;
    }
    if (!found) return next();
    found.accept?.();
    if (view.url !== ctx.url) ctx.url = view.url!;
    ctx.state.tenant = found.ref.key;
    return checked.run(found.ref.key, () => next());
  };
}

export default apartmentMiddleware;
