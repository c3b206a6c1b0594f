import type { Apartment } from '../apartment';
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
