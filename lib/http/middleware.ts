import type { Apartment } from '../apartment';
import { ApartmentError } from '../errors';

/** Options of `apartment.middleware()` (placeholder until the middleware lands). */
export interface MiddlewareOptions {
  resolve?: unknown;
}

export function createMiddleware(_apartment: Apartment, _options: MiddlewareOptions = {}): (req: any, res: any, next: (err?: unknown) => void) => void {
  throw new ApartmentError('The middleware is not implemented yet.');
}
