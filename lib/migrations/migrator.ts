import type { MigrationResult } from '../types';
import type { TenantRef } from '../tenant';
import type { MigrationHost } from './host';
import type { MigrateAllOptions, MigrateOptions, MigrationStatus } from './types';
import { ApartmentError } from '../errors';

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

  async migrate(_tenant: TenantRef, _options: MigrateOptions = {}): Promise<MigrationResult> {
    throw new ApartmentError('Tenant migrations are not implemented yet.');
  }

  async migrateAll(_options: MigrateAllOptions = {}): Promise<MigrationResult[]> {
    throw new ApartmentError('Tenant migrations are not implemented yet.');
  }

  async status(_tenant: TenantRef): Promise<MigrationStatus> {
    throw new ApartmentError('Tenant migrations are not implemented yet.');
  }
}
