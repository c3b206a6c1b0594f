import type { BenchCase } from '../types';
import { citus } from './citus';
import { createTenant } from './create-tenant';
import { exportCase } from './export';
import { importCost } from './import-cost';
import { instructions } from './instructions';
import { isolationRole } from './isolation-role';
import { fleet } from './fleet';
import { middleware } from './middleware';
import { migrateAll } from './migrate-all';
import { queryOverhead } from './query-overhead';
import { rawSql } from './raw-sql';
import { status } from './status';
import { serverMemory } from './server-memory';
import { tenantScale } from './tenant-scale';
import { testing } from './testing';

/** In the order they run and appear in the table. */
export const CASES: readonly BenchCase[] = [queryOverhead, rawSql, isolationRole, createTenant, migrateAll, status, middleware, tenantScale, citus, serverMemory, importCost, fleet, testing, exportCase, instructions];
