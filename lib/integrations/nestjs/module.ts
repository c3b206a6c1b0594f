import { Global, Module, type DynamicModule, type MiddlewareConsumer, type NestModule, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { getConnectionToken } from '@nestjs/sequelize';
import type { Sequelize } from 'sequelize';
import { Apartment } from '../../apartment';
import { ConfigurationError, describeValue } from '../../errors';
import { ApartmentExceptionFilter } from './filter';
import { ApartmentMiddleware } from './middleware';
import { ApartmentService } from './service';
import {
  APARTMENT_MODULE_OPTIONS,
  type ApartmentModuleAsyncOptions,
  type ApartmentModuleOptions,
  type ApartmentModuleRootOptions,
} from './tokens';

function checkOptions(options: unknown): ApartmentModuleOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigurationError(`Expected the options of ApartmentModule to be an object, got ${describeValue(options)}.`);
  }
  return options as ApartmentModuleOptions;
}

/** The Apartment: the app's own, or one made over the @nestjs/sequelize connection. */
function apartmentFactory(connection: string | undefined) {
  return (options: ApartmentModuleOptions, sequelize: Sequelize | undefined): Apartment => {
    checkOptions(options);
    if (options.apartment !== undefined) {
      if (!(options.apartment instanceof Apartment)) {
        throw new ConfigurationError(`Expected the \`apartment\` option of ApartmentModule to be an Apartment instance, got ${describeValue(options.apartment)}.`);
      }
      return options.apartment;
    }
    if (!sequelize) {
      throw new ConfigurationError(
        `ApartmentModule found no @nestjs/sequelize connection${connection ? ` named '${connection}'` : ''}. Import SequelizeModule.forRoot(...) in the app module, or pass \`apartment\`.`,
      );
    }
    return new Apartment(sequelize, options.apartmentOptions);
  };
}

function providers(connection: string | undefined, options: Provider): Provider[] {
  return [
    options,
    {
      provide: Apartment,
      useFactory: apartmentFactory(connection),
      inject: [APARTMENT_MODULE_OPTIONS, { token: getConnectionToken(connection), optional: true }],
    },
    ApartmentService,
    { provide: APP_FILTER, useClass: ApartmentExceptionFilter },
  ];
}

/**
 * Multi-tenancy for a NestJS (10/11) app on `@nestjs/sequelize`: one
 * Apartment over the app's Sequelize connection (one pool), a middleware on
 * every route that runs each request inside `apartment.run(tenant, ...)`,
 * the `@CurrentTenant()` parameter, and the `ApartmentService` singleton.
 * Global: import it once, in the app module. No provider is REQUEST-scoped.
 * Works on the Express and the Fastify adapter.
 *
 * @example
 * @Module({
 *   imports: [SequelizeModule.forRoot({ dialect: 'postgres', ... }), ApartmentModule.forRoot({ resolve: 'header' })],
 *   controllers: [WidgetsController],
 * })
 * export class AppModule {}
 */
@Global()
@Module({})
export class ApartmentModule implements NestModule {
  /** The module with its options given here. */
  static forRoot(options: ApartmentModuleRootOptions = {}): DynamicModule {
    const { connection, ...rest } = checkOptions(options) as ApartmentModuleRootOptions;
    return {
      module: ApartmentModule,
      global: true,
      providers: providers(connection, { provide: APARTMENT_MODULE_OPTIONS, useValue: rest }),
      exports: [Apartment, ApartmentService, APARTMENT_MODULE_OPTIONS],
    };
  }

  /** The module with its options from a factory (e.g. `ConfigService`), injected with `inject`. */
  static forRootAsync(options: ApartmentModuleAsyncOptions): DynamicModule {
    if (!options || typeof options.useFactory !== 'function') {
      throw new ConfigurationError(`Expected ApartmentModule.forRootAsync to be given \`useFactory\`, a function returning the options, got ${describeValue(options?.useFactory)}.`);
    }
    return {
      module: ApartmentModule,
      global: true,
      imports: options.imports ?? [],
      providers: providers(options.connection, { provide: APARTMENT_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }),
      exports: [Apartment, ApartmentService, APARTMENT_MODULE_OPTIONS],
    };
  }

  /** Applies `ApartmentMiddleware` to every route (NestJS calls it). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ApartmentMiddleware).forRoutes('*');
  }
}
