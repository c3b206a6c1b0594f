import type { Sequelize } from 'sequelize';
import type { TenantContext } from '../context';
import type { DialectAdapter } from '../dialects/contract';
import type { TenantNames, TenantRef } from '../tenant';

/** What the migration runner needs from an Apartment. */
export interface MigrationHost {
  readonly sequelize: Sequelize;
  readonly adapter: DialectAdapter;
  readonly context: TenantContext;
  readonly names: TenantNames;
  /** Absolute path of the tenant migrations folder, or `false`: the app has none. */
  readonly migrationsPath: string | false;
  /** Every tenant, as refs, sorted by key. */
  listTenants(): Promise<TenantRef[]>;
}
