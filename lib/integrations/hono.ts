/**
 * `sequelize-apartment/hono`: the tenant middleware for Hono 4.
 * `hono` is an optional peer dependency.
 * @module sequelize-apartment/hono
 */
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Apartment } from '../apartment';
import { ApartmentError } from '../errors';
import { clientAnswer } from '../http/answer';
import { requestTenant, type ResolveOptions } from '../http/resolve';
import type { TenantRequest } from '../http/request';
import { apartmentOption } from './guard';

declare module 'hono' {
  interface ContextVariableMap {
    /** The key of the request's tenant (set by sequelize-apartment's middleware), or undefined without one. */
    tenant: string | undefined;
  }
}

/** Options of the Hono middleware: how to read the tenant (as `apartment.middleware()`); resolver functions get Hono's context `c`. */
export type HonoApartmentOptions = ResolveOptions<Context>;

/**
 * The `HTTPException` a tenant problem becomes: the status of the
 * `ApartmentError`, a JSON body with the short client message
 * (`{ statusCode, error, message, tenant? }`), and the `ApartmentError`
 * itself as `cause`, with its full message for logs.
 */
function httpException(error: ApartmentError): HTTPException {
  const answer = clientAnswer(error);
  const res = new Response(JSON.stringify(answer), { status: answer.statusCode, headers: { 'content-type': 'application/json; charset=UTF-8' } });
  return new HTTPException(answer.statusCode as 400, { res, message: answer.message, cause: error });
}

/** What the resolvers read, from the Fetch request (and Node's raw headers on `@hono/node-server`, to count repeated headers). */
function viewOf(c: Context): TenantRequest {
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const incoming = (c.env as { incoming?: { rawHeaders?: unknown } } | undefined)?.incoming;
  const url = new URL(c.req.url);
  return {
    headers,
    rawHeaders: Array.isArray(incoming?.rawHeaders) ? (incoming.rawHeaders as string[]) : undefined,
    url: `${url.pathname}${url.search}`,
    method: c.req.method,
  };
}

/**
 * Hono 4 middleware: resolves each request's tenant, sets
 * `c.set('tenant', key)` and runs the rest of the chain inside
 * `apartment.run(tenant, ...)`, so handlers (and `await c.req.json()` in
 * them) run in the tenant. Problems with the tenant are thrown as Hono's
 * `HTTPException` (no tenant 400, repeated or comma-joined tenant header 400,
 * unknown or malformed tenant 404), whose response is a short JSON answer
 * without API advice; `app.onError` receives it, with the `ApartmentError`
 * as `err.cause`. `resolve: 'path'` reads the first segment but cannot strip
 * it (Hono has routed the request before middleware runs): declare it in
 * the routes (`/:tenant/widgets`).
 *
 * @example
 * app.use(apartmentMiddleware(apartment, { resolve: 'subdomain' }));
 * app.get('/widgets', async (c) => c.json(await Widget.findAll())); // c.get('tenant') === 'acme'
 */
export function apartmentMiddleware(apartment: Apartment, options: HonoApartmentOptions = {}): MiddlewareHandler {
  const checked = apartmentOption(apartment, 'apartmentMiddleware (hono)');
  const tenantOf = requestTenant(checked, options);
  return async function apartmentHono(c, next) {
    let found;
    try {
      found = await tenantOf(viewOf(c), c);
    } catch (error) {
      throw error instanceof ApartmentError ? httpException(error) : error;
    }
    if (!found) return next();
    c.set('tenant', found.ref.key);
    return checked.run(found.ref.key, () => next());
  };
}

export default apartmentMiddleware;
