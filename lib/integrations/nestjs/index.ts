/**
 * `sequelize-apartment/nestjs`: NestJS 10/11/12 with `@nestjs/sequelize`.
 * `@nestjs/common`, `@nestjs/core` and `@nestjs/sequelize` are optional
 * peer dependencies, loaded only by this entry point.
 * @module sequelize-apartment/nestjs
 */
export { ApartmentModule } from './module';
export { ApartmentService } from './service';
export { ApartmentMiddleware } from './middleware';
export { ApartmentExceptionFilter } from './filter';
export { CurrentTenant } from './decorator';
export { APARTMENT_MODULE_OPTIONS } from './tokens';
export type { ApartmentModuleOptions, ApartmentModuleRootOptions, ApartmentModuleAsyncOptions } from './tokens';
