import type { Apartment } from '../apartment';
import { ApartmentError } from '../errors';
import { clientAnswer } from '../http/answer';
import { createMiddleware, type MiddlewareOptions } from '../http/middleware';
import { apartmentOption } from './guard';

export type { MiddlewareOptions };

/**
 * Express 4/5 middleware: the same as `apartment.middleware(options)`, for
 * apps that import every framework integration from its subpath.
 * @example app.use(apartmentMiddleware(apartment, { resolve: 'subdomain' }))
 */
export function apartmentMiddleware(apartment: Apartment, options?: MiddlewareOptions): (req: any, res: any, next: (err?: unknown) => void) => void {
  return createMiddleware(apartmentOption(apartment, 'apartmentMiddleware'), options);
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
export function apartmentErrorHandler(): (error: unknown, req: any, res: any, next: (err?: unknown) => void) => void {
  // Four parameters: Express tells error middleware by its arity.
  return function apartmentErrorHandler(error: unknown, _req: any, res: any, next: (err?: unknown) => void): void {
    if (!(error instanceof ApartmentError) || res.headersSent) return next(error);
    const answer = clientAnswer(error);
    res.status(answer.statusCode).json(answer);
  };
}
