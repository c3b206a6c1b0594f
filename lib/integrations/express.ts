/**
 * `sequelize-apartment/express`: the tenant middleware and error handler for Express 4/5.
 * `express` is an optional peer dependency.
 * @module sequelize-apartment/express
 */
import type { Apartment } from '../apartment';
import { ApartmentError } from '../errors';
import { clientAnswer } from '../http/answer';
import { createMiddleware, type MiddlewareOptions, type TenantMiddleware } from '../http/middleware';
import type { ExpressRequestLike, TenantRequest } from '../http/request';
import { apartmentOption } from './guard';

export type { ExpressRequestLike, MiddlewareOptions, TenantMiddleware, TenantRequest };

/**
 * Express 4/5 middleware: the same as `apartment.middleware(options)`, for
 * apps that import every framework integration from its subpath.
 * @example app.use(apartmentMiddleware(apartment, { resolve: 'subdomain' }))
 */
export function apartmentMiddleware<Req extends TenantRequest = ExpressRequestLike>(apartment: Apartment, options?: MiddlewareOptions<Req>): TenantMiddleware<Req> {
  return createMiddleware(apartmentOption(apartment, 'apartmentMiddleware'), options);
}

/** The part of Express 4/5's `res` the error handler uses; Express's own `Response` fits. */
export interface ExpressResponseLike {
  /** Whether the response has started (then the error goes on to `next`). */
  readonly headersSent: boolean;
  /** Sets the status; its result sends the JSON answer. */
  status(code: number): {
    /** Sends `body` as JSON. */
    json(body: unknown): unknown;
  };
}

/**
 * Express 4/5 error middleware: answers every `ApartmentError` (an unknown
 * tenant from the middleware, a tenant model used without a tenant in a
 * route, ...) with its status and `{ statusCode, error, message, tenant? }`,
 * where `message` is a short client message without API advice; the error
 * keeps its full message (what the developer should do) for the app's logs.
 * Anything else, and an error after the response has started, goes on to
 * the next error handler. Register it after the routes, before a catch-all.
 *
 * @example
 * app.use(apartmentMiddleware(apartment, { resolve: 'subdomain' }));
 * app.get('/widgets', ...);
 * app.use(apartmentErrorHandler());
 * app.use((err, req, res, next) => { log(err); res.status(500).json({ error: 'Internal Server Error' }); });
 */
export function apartmentErrorHandler(): (error: unknown, req: unknown, res: ExpressResponseLike, next: (err?: unknown) => void) => void {
  // Four parameters: Express tells error middleware by its arity.
  return function apartmentErrorHandler(error: unknown, _req: unknown, res: ExpressResponseLike, next: (err?: unknown) => void): void {
    if (!(error instanceof ApartmentError) || res.headersSent) return next(error);
    const answer = clientAnswer(error);
    res.status(answer.statusCode).json(answer);
  };
}
