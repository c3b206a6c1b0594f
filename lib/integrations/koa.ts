/**
 * `sequelize-apartment/koa`: the tenant middleware and error handler for Koa 2/3.
 * `koa` is an optional peer dependency.
 * @module sequelize-apartment/koa
 */
import type { Context, Middleware, Next } from 'koa';
import type { Apartment } from '../apartment';
import { ApartmentError } from '../errors';
import { clientAnswer } from '../http/answer';
import { requestTenant, type ResolveOptions } from '../http/resolve';
import type { TenantRequest } from '../http/request';
import { apartmentOption } from './guard';

/** Options of the Koa middleware: how to read the tenant (as `apartment.middleware()`); resolver functions get `ctx`. */
export type KoaApartmentOptions = ResolveOptions<Context>;

/**
 * Koa 2/3 middleware: resolves the tenant of each request, sets
 * `ctx.state.tenant`, and runs the downstream middleware inside
 * `apartment.run(tenant, ...)`. Problems with the tenant are thrown as
 * `ApartmentError`s with a `status` (400/404), so an app's error middleware
 * can render them (`apartmentErrorHandler()` does, with a short client
 * message). They are not `expose`d: without a handler, Koa's default answers
 * the status text, never the developer advice in the error's message. `resolve: 'path'` strips the segment from
 * `ctx.url` (`ctx.originalUrl` keeps it), so routers match `/widgets`.
 *
 * @example app.use(apartmentMiddleware(apartment, { resolve: 'subdomain' }))
 */
export function apartmentMiddleware(apartment: Apartment, options: KoaApartmentOptions = {}): Middleware {
  const checked = apartmentOption(apartment, 'apartmentMiddleware (koa)');
  const tenantOf = requestTenant(checked, options);
  return async function apartmentKoa(ctx: Context, next: Next): Promise<void> {
    // Koa's `hostname` honours `app.proxy` (X-Forwarded-Host), like Express's.
    const view: TenantRequest = { headers: ctx.req.headers, rawHeaders: ctx.req.rawHeaders, url: ctx.url, method: ctx.method, hostname: ctx.hostname };
    let found;
    try {
      found = await tenantOf(view, ctx);
    } catch (error) {
      if (error instanceof ApartmentError) Object.assign(error, { expose: false });
      throw error;
    }
    if (!found) return next();
    found.accept?.();
    if (view.url !== ctx.url) ctx.url = view.url!;
    ctx.state.tenant = found.ref.key;
    return checked.run(found.ref.key, () => next());
  };
}

/**
 * Koa 2/3 error middleware, put first: answers every `ApartmentError`
 * thrown downstream (from the tenant middleware or a route) with its status
 * and `{ statusCode, error, message, tenant? }`, where `message` is a short
 * client message without API advice. The error keeps its full message; one
 * with a status of 500 or more is also emitted as the app's `'error'`, as
 * Koa does, for its logs. Anything else is rethrown.
 *
 * @example
 * app.use(apartmentErrorHandler());
 * app.use(apartmentMiddleware(apartment, { resolve: 'subdomain' }));
 */
export function apartmentErrorHandler(): Middleware {
  return async function apartmentKoaErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof ApartmentError)) throw error;
      const answer = clientAnswer(error);
      ctx.status = answer.statusCode;
      ctx.body = answer;
      if (answer.statusCode >= 500) ctx.app.emit('error', error, ctx);
    }
  };
}

export default apartmentMiddleware;
