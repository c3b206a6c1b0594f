import { Inject, Injectable } from '@nestjs/common';
import type { Model } from 'sequelize';
import { Apartment } from '../../apartment';
import type { Tenant } from '../../tenant';

/**
 * The Apartment as an injectable singleton: the tenant API for Nest
 * providers and controllers. One instance for the whole app (no REQUEST
 * scope): the tenant of a request is in the AsyncLocalStorage context the
 * middleware entered, not in the provider. `apartment` is the Apartment
 * itself, for everything not repeated here.
 *
 * @example
 * constructor(private readonly tenants: ApartmentService) {}
 * signUp(key: string) { return this.tenants.createTenant(key); }
 * report(key: string) { return this.tenants.run(key, () => Widget.count()); }
 */
@Injectable()
export class ApartmentService {
  constructor(@Inject(Apartment) readonly apartment: Apartment) {}

  /** `apartment.run`: runs `fn` with `tenant` in context (also outside a request: jobs, CLIs, tests). */
  run<T>(tenant: Tenant, fn: () => T): T {
    return this.apartment.run(tenant, fn);
  }

  /** The key of the tenant in context (the request's, inside a request), or undefined. */
  current(): string | undefined {
    return this.apartment.current();
  }

  /** `apartment.bind`: `fn` bound to the tenant in context now. */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return this.apartment.bind(fn);
  }

  /** The tenant an instance was loaded from or created in. */
  tenantOf(instance: Model): string | undefined {
    return this.apartment.tenantOf(instance);
  }

  /** `apartment.createTenant`: the schema/database, migrated (the middleware serves it at once). */
  createTenant(...args: Parameters<Apartment['createTenant']>): ReturnType<Apartment['createTenant']> {
    return this.apartment.createTenant(...args);
  }

  /** `apartment.dropTenant`. */
  dropTenant(...args: Parameters<Apartment['dropTenant']>): ReturnType<Apartment['dropTenant']> {
    return this.apartment.dropTenant(...args);
  }

  /** `apartment.renameTenant`. */
  renameTenant(...args: Parameters<Apartment['renameTenant']>): ReturnType<Apartment['renameTenant']> {
    return this.apartment.renameTenant(...args);
  }

  /** `apartment.exists`: whether the tenant's schema/database exists. */
  exists(tenant: Tenant): Promise<boolean> {
    return this.apartment.exists(tenant);
  }

  /** `apartment.tenants`: the keys of every tenant. */
  tenants(): Promise<string[]> {
    return this.apartment.tenants();
  }

  /** `apartment.migrateTenant`. */
  migrateTenant(...args: Parameters<Apartment['migrateTenant']>): ReturnType<Apartment['migrateTenant']> {
    return this.apartment.migrateTenant(...args);
  }

  /** `apartment.migrateAll`. */
  migrateAll(...args: Parameters<Apartment['migrateAll']>): ReturnType<Apartment['migrateAll']> {
    return this.apartment.migrateAll(...args);
  }

  /** `apartment.migrationStatusAll`. */
  migrationStatusAll(): ReturnType<Apartment['migrationStatusAll']> {
    return this.apartment.migrationStatusAll();
  }
}
