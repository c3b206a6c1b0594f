import type { BenchCase } from '../types';
import { queryOverhead } from './query-overhead';
import { rawSql } from './raw-sql';
import { serverMemory } from './server-memory';
import { tenantScale } from './tenant-scale';

/** In the order they run and appear in the table. */
export const CASES: readonly BenchCase[] = [queryOverhead, rawSql, tenantScale, serverMemory];
