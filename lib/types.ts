import type { Tenant } from './tenant';

/** The result of migrating one tenant (Apartmentex's `{:ok, prefix, versions}` / `{:error, prefix, message}`). */
export type MigrationResult =
  | { ok: true; tenant: string; schema: string; versions: string[] }
  | {
      ok: false;
      tenant: string;
      schema: string;
      error: Error;
      /** Versions that completed (and stay applied) before the failure; absent when none could run. */
      versions?: string[];
    };

declare module 'sequelize' {
  // Every model call's options accept `tenant` (Apartmentex's explicit prefix),
  // which wins over the tenant in context. Nearly all option types extend
  // Transactionable; the few that do not are listed below.
  interface Transactionable {
    tenant?: Tenant;
  }
  interface Logging {
    tenant?: Tenant;
  }
}
