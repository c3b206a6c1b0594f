import type { MigrationResult } from '../types';
import type { TenantRef } from '../tenant';
import type { MigrationHost } from './host';

/** Placeholder until tenant migrations land: creates the schema/database only. */
export class TenantMigrator {
  readonly #host: MigrationHost;

  constructor(host: MigrationHost) {
    this.#host = host;
  }

  async createTenant(tenant: TenantRef): Promise<MigrationResult> {
    await this.#host.adapter.create(tenant);
    return { ok: true, tenant: tenant.key, schema: tenant.name, versions: [] };
  }
}
