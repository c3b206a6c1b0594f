/**
 * `sequelize-apartment/testing`: a test kit for apps built on
 * sequelize-apartment. Imports no test runner: call it from any runner's hooks.
 * @example
 * import { testTenant, expectIsolated, settle } from 'sequelize-apartment/testing';
 * @module sequelize-apartment/testing
 */
export { testTenant, settle, sweepTestTenants } from './tenant';
export type { TestTenant, TestTenantOptions } from './tenant';
export { expectIsolated, isolationReport } from './isolation';
export type { IsolationFinding, IsolationOptions, IsolationReport, IsolationTenants } from './isolation';
