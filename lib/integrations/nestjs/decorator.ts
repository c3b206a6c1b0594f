import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { TENANT_KEY } from './tokens';

/** The tenant key the middleware left on the request (Express's `req`, or Fastify's `request.raw`). */
export function requestTenantKey(request: any): string | undefined {
  return request?.[TENANT_KEY] ?? request?.raw?.[TENANT_KEY];
}

/**
 * A route parameter: the key of the request's tenant (`'acme'`), or
 * `undefined` on a request without one (`optional: true`).
 *
 * @example
 * @Get() list(@CurrentTenant() tenant: string) { return { tenant }; }
 */
export const CurrentTenant: () => ParameterDecorator = createParamDecorator((_data: unknown, ctx: ExecutionContext) =>
  requestTenantKey(ctx.switchToHttp().getRequest()),
);
