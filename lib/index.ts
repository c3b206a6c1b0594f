/**
 * `sequelize-apartment`: the `Apartment` class (tenants, `run`, migrations, the HTTP middleware,
 * Citus), its options and results, and the errors it throws.
 * @module sequelize-apartment
 */
import './types';

export { Apartment } from './apartment';
export type { ApartmentOptions, ApartmentEvents, SuspendOptions, TenantInfo } from './apartment';
export type { ApartmentErrorOptions } from './errors';
export {
  ApartmentError,
  TenantNameError,
  TenantExistsError,
  TenantNotFoundError,
  TenantBusyError,
  NoTenantError,
  CrossTenantError,
  TenantSuspendedError,
  ArchiveError,
  ConfigurationError,
  MigrationError,
  UnsafeQueryError,
  FleetStoppedError,
} from './errors';
export type { Tenant, TenantRef } from './tenant';
export type { MigrationResult } from './types';
export type { Isolation, RolesResult, SuspendState } from './dialects/contract';
export type { MigrateOptions, MigrateAllOptions, MigrationStatus, TenantMigrationPlan, TenantMigrationStatus, CreateTenantOptions, SeedOptions, SeedAllOptions, FleetOptions, WaveReport } from './migrations/types';
export type { FleetRun, FleetRunTenant, RunState, TenantState } from './migrations/ledger';
export type { DriftOptions, DriftProgress, DriftReport, TenantDrift, DriftDifference } from './migrations/drift';
export type { DoctorOptions, DoctorProgress, DoctorReport } from './doctor';
export type { DoctorFinding, DoctorCode } from './dialects/audit';
export type { PrewarmResult } from './migrations/warm';
export type { MiddlewareOptions, TenantMiddleware } from './http/middleware';
export type { ResolveOptions, ResolveOption, TenantResolver } from './http/resolve';
export type { ExpressRequestLike, TenantRequest } from './http/request';
export { CitusOperations } from './cluster';
export type { MoveOptions, MoveResult, NodeAddress, DistributeResult } from './cluster';
export type { AffinityOptions } from './pool/affinity';
export type { ExportOptions, ExportResult, ArchiveProgress } from './archive/export';
export type { ImportOptions, ImportResult } from './archive/import';
export type { ArchiveManifest, ArchiveTable, ArchiveColumn, TableSummary } from './archive/format';
export { ARCHIVE_VERSION } from './archive/format';
