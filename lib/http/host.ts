import type { SuspendState } from '../dialects/contract';
import type { Tenant, TenantRef } from '../tenant';

/**
 * What `lib/http` needs of an Apartment: check a key, read a tenant's state,
 * run in a tenant, and hear of the tenants this process created, dropped,
 * renamed, suspended or resumed. `Apartment` is one; `http/` never imports
 * the class, which imports `http/` for `middleware()`.
 */
export interface TenantHost {
  /** Validates a key: its ref, or `TenantNameError` before any SQL. */
  readonly names: { ref(tenant: Tenant): TenantRef };
  /** The tenant's state in the catalog, undefined when it does not exist. */
  readonly adapter: { state(tenant: TenantRef): Promise<SuspendState | undefined> };
  run<T>(tenant: Tenant, fn: () => T): T;
  on(event: 'tenantCreated' | 'tenantDropped', listener: (tenant: TenantRef) => void): unknown;
  on(event: 'tenantRenamed', listener: (from: TenantRef, to: TenantRef) => void): unknown;
  on(event: 'tenantStateChanged', listener: (tenant: TenantRef, state: SuspendState) => void): unknown;
}
