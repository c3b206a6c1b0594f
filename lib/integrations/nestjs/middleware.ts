import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { Apartment } from '../../apartment';
import { requestTenant, type RequestTenant } from '../../http/resolve';
import type { TenantRequest } from '../../http/request';
import { APARTMENT_MODULE_OPTIONS, TENANT_KEY, type ApartmentModuleOptions } from './tokens';

/**
 * The middleware `ApartmentModule` applies to every route: finds the
 * request's tenant (the options of `apartment.middleware()`), checks that it
 * exists (cached), and runs the rest of the request inside
 * `apartment.run(tenant, ...)` — never `enterWith`, so nothing outlives the
 * request on a keep-alive connection. On the Fastify adapter the middleware
 * runs at onRequest (middie), before the body is read; Fastify (4 and 5)
 * runs the rest of the request in the async context of the request's
 * start, so handlers see the tenant after a body too. Tenant problems are thrown as
 * `ApartmentError`s (status 400/404) into Nest's exception filters.
 * With `resolve: 'path'` the segment is read but left in the URL: declare
 * it in the routes (`@Controller(':tenant/widgets')`), on both adapters.
 */
@Injectable()
export class ApartmentMiddleware implements NestMiddleware {
  readonly #apartment: Apartment;
  readonly #tenantOf: RequestTenant;
  constructor(
    @Inject(Apartment) apartment: Apartment,
    @Inject(APARTMENT_MODULE_OPTIONS) options: ApartmentModuleOptions,
  ) {
    this.#apartment = apartment;
    const { apartment: _a, apartmentOptions: _o, exceptionFilter: _f, ...resolve } = options;
    this.#tenantOf = requestTenant(apartment, resolve);
  }

  /** Resolves the request's tenant and runs the rest of the request in it (NestJS calls it). */
  // Express: `req` is Express's request. Fastify: Node's IncomingMessage (middie runs at onRequest).
  async use(req: TenantRequest & { originalUrl?: string; [TENANT_KEY]?: string }, _res: unknown, next: (error?: unknown) => void): Promise<void> {
    const view = { headers: req.headers, rawHeaders: req.rawHeaders, url: req.originalUrl ?? req.url, method: req.method, hostname: req.hostname };
    const found = await this.#tenantOf(view, req); // an ApartmentError goes to Nest's exception filters
    if (!found) return next();
    const key = found.ref.key;
    req[TENANT_KEY] = key;
    this.#apartment.run(key, () => next());
  }
}
