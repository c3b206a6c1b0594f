import { STATUS_CODES } from 'node:http';
import { ApartmentError, CrossTenantError, NoTenantError, TenantExistsError, TenantNameError, TenantNotFoundError, TenantSuspendedError } from '../errors';

/**
 * What an HTTP client is told about an `ApartmentError`: its status, its
 * name, a short message without API advice, and the tenant when the error
 * names one. The error's own `message` (what to do next, for the developer)
 * stays on the error, for logs. Fastify's and Nest's error shape.
 */
export interface ClientAnswer {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
  readonly tenant?: string;
}

/**
 * The short message of each error a request can meet, in one place for
 * every integration (Express's error handler, Fastify, Koa, Nest, Hono).
 * A status of 500 or more answers the status text (what went wrong inside
 * the app is for its logs), but for a closed tenant's 503, which is no fault.
 */
function clientMessage(error: ApartmentError, status: number): string {
  // A closed tenant's 503 is no fault inside the app: the client is told what it is.
  if (error instanceof TenantSuspendedError) {
    const tenant = error.tenant === undefined ? 'This tenant' : `Tenant '${error.tenant}'`;
    return error.mode === 'closed' ? `${tenant} is temporarily unavailable.` : `${tenant} is read-only at the moment.`;
  }
  if (status >= 500) return STATUS_CODES[status] ?? 'Internal Server Error';
  if (error instanceof NoTenantError) return 'This request names no tenant.';
  if (error instanceof TenantNotFoundError) return error.tenant === undefined ? 'Unknown tenant.' : `Unknown tenant '${error.tenant}'.`;
  // 400: the tenant header or Host was sent more than once (its message speaks to the client); 404: a malformed key, never echoed.
  if (error instanceof TenantNameError) return error.status === 400 ? error.message : 'Unknown tenant.';
  if (error instanceof TenantExistsError) return error.tenant === undefined ? 'The tenant already exists.' : `Tenant '${error.tenant}' already exists.`;
  if (error instanceof CrossTenantError) return 'This request mixes data of different tenants.';
  return STATUS_CODES[status] ?? 'Error';
}

/** The answer for an HTTP client (see `ClientAnswer`); the status is the error's, or 500 when it is not an HTTP error status. */
export function clientAnswer(error: ApartmentError): ClientAnswer {
  const statusCode = Number.isInteger(error.status) && error.status >= 400 && error.status <= 599 ? error.status : 500;
  const answer = { statusCode, error: error.name, message: clientMessage(error, statusCode) };
  // A malformed key is not echoed back.
  return error.tenant === undefined || error instanceof TenantNameError ? answer : { ...answer, tenant: error.tenant };
}
