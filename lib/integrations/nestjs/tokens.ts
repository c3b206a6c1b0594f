import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { Apartment, ApartmentOptions } from '../../apartment';
import type { ResolveOptions } from '../../http/resolve';

/** Injection token of the module's options (what `forRoot` was given, or `forRootAsync`'s factory returned). */
export const APARTMENT_MODULE_OPTIONS = Symbol('sequelize-apartment:nestjs-options');

/** Where the middleware leaves the request's tenant key on Node's request (Express's `req`, Fastify's `request.raw`). */
export const TENANT_KEY = Symbol.for('sequelize-apartment.tenant');

/**
 * Options of `ApartmentModule.forRoot` (and what `forRootAsync`'s factory
 * returns): how a request's tenant is read (the options of
 * `apartment.middleware()`), and which Apartment serves it.
 */
export interface ApartmentModuleOptions extends ResolveOptions {
  /**
   * An Apartment the app made itself. Without it, the module makes one over
   * the app's `@nestjs/sequelize` connection (see `connection`) with
   * `apartmentOptions`.
   */
  apartment?: Apartment;
  /**
   * Options of the Apartment the module makes (`prefix`, `migrationsPath`,
   * `sharedModels`, `strict`, ...).
   * @default {}
   * @example ApartmentModule.forRoot({ resolve: 'header', apartmentOptions: { prefix: 'org_' } })
   */
  apartmentOptions?: ApartmentOptions;
  /**
   * Answer tenant problems (`ApartmentError`s: no tenant 400, unknown or
   * invalid tenant 404, ...) with their status and a JSON body
   * `{ statusCode, error, message, tenant }` through a global exception
   * filter. `false` leaves them to the app's own filters (without one,
   * Nest answers 500).
   * @default true
   */
  exceptionFilter?: boolean;
}

/** Options of `ApartmentModule.forRoot`. */
export interface ApartmentModuleRootOptions extends ApartmentModuleOptions {
  /**
   * The name of the `@nestjs/sequelize` connection whose Sequelize instance
   * the Apartment routes (`SequelizeModule.forRoot({ name })`).
   * @default the default connection
   */
  connection?: string;
}

/** Options of `ApartmentModule.forRootAsync`: a factory of the options, with what it needs injected. */
export interface ApartmentModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /**
   * Returns the options (or a promise of them), e.g. from `ConfigService`. It
   * gets the providers of `inject`, in order (typed `never[]` so that a
   * factory with parameters of any type fits).
   */
  useFactory: (...args: never[]) => ApartmentModuleOptions | Promise<ApartmentModuleOptions>;
  /** Providers handed to `useFactory`, in order (as in Nest's own `FactoryProvider`). */
  inject?: FactoryProvider['inject'];
  /**
   * The `@nestjs/sequelize` connection name (given here, not by the
   * factory: Nest needs it before the factory runs).
   * @default the default connection
   */
  connection?: string;
}
