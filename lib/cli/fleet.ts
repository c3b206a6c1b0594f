import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { Apartment } from '../apartment';
import { ConfigurationError, describeValue, FleetStoppedError } from '../errors';
import type { FleetOptions, WaveReport } from '../migrations/types';
import type { MigrationResult } from '../types';

/** The fleet flags of db:migrate, db:migrate:undo and db:seed:all, as commander gives them. */
export interface FleetFlags {
  canary?: string;
  waves?: string;
  waveSize?: string;
  tenants?: string;
  skipTenants?: string;
  maxFailures?: string;
  resume?: boolean;
}

/** Exit codes beyond 1 (a tenant failed): the run stopped before tenants it did not reach. */
export const EXIT_CANARY_FAILED = 2;
export const EXIT_STOPPED = 3;

/** Adds the fleet flags to a command that runs over every tenant. */
export function fleetOptions(cmd: Command): Command {
  return cmd
    .option('--canary <n|keys>', 'run these tenants first (a number: the first n with work; or key,key,...); if one fails nothing else runs (exit code 2)')
    .option('--waves <n>', 'after the canary, run the tenants in this many waves, checking failures between them')
    .option('--wave-size <n>', 'or: waves of this many tenants')
    .option('--max-failures <n|%>', 'failures a wave may have before the run stops (exit code 3); default 0 with --canary/--waves/--wave-size, else no limit')
    .option('--tenants <keys|@file>', 'only these tenants: key,key,... or @file with one key per line')
    .option('--skip-tenants <keys|@file>', 'leave these tenants out: key,key,... or @file')
    .option('--resume', 'continue the last run that stopped, failed or was killed: only its failed tenants and those it did not reach');
}

/** `a,b` or `@file` (one key per line or comma-separated; `#` starts a comment). */
export function keysOf(flag: string, value: string | undefined, cwd: string): string[] | undefined {
  if (value === undefined) return undefined;
  let text = value;
  if (value.startsWith('@')) {
    const file = path.resolve(cwd, value.slice(1));
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigurationError(`Cannot read the tenant list ${file} given to ${flag}: ${(error as Error).message}. Pass an existing file (@path/to/tenants.txt, one key per line) or a comma-separated list.`);
    }
  }
  const keys = text.split(/\r?\n/).map((line) => line.replace(/#.*/, '')).join(',').split(',').map((key) => key.trim()).filter(Boolean);
  if (keys.length === 0) throw new ConfigurationError(`${flag} lists no tenant keys (got ${describeValue(value)}). Pass key,key,... or @file with one key per line.`);
  return keys;
}

function count(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) throw new ConfigurationError(`Expected \`${flag}\` to be a number from ${min} and up, got ${describeValue(value)}.`);
  return n;
}

/** The fleet flags as migrateAll/seedAll options (the CLI always records the run in the ledger). */
export function fleetOptionsOf(flags: FleetFlags, cwd: string): FleetOptions {
  if (flags.waves !== undefined && flags.waveSize !== undefined) {
    throw new ConfigurationError(`Pass --waves (how many) or --wave-size (tenants each), not both; got --waves ${flags.waves} and --wave-size ${flags.waveSize}.`);
  }
  const options: FleetOptions = { ledger: true };
  if (flags.canary !== undefined) options.canary = /^\d+$/.test(flags.canary) ? count('--canary', flags.canary, 1) : keysOf('--canary', flags.canary, cwd);
  if (flags.waves !== undefined) options.waves = count('--waves', flags.waves, 1);
  if (flags.waveSize !== undefined) options.waveSize = count('--wave-size', flags.waveSize, 1);
  if (flags.maxFailures !== undefined) {
    if (/^\d+(?:\.\d+)?%$/.test(flags.maxFailures)) options.maxFailures = flags.maxFailures;
    else options.maxFailures = count('--max-failures', flags.maxFailures, 0);
  }
  const tenants = keysOf('--tenants', flags.tenants, cwd);
  if (tenants) options.tenants = tenants;
  const skip = keysOf('--skip-tenants', flags.skipTenants, cwd);
  if (skip) options.skipTenants = skip;
  if (flags.resume) options.resume = true;
  return options;
}

/** How many tenants the run covers, for the progress bar. */
export async function fleetSize(apartment: Apartment, options: FleetOptions, seeders: boolean): Promise<number> {
  if (options.resume) {
    const run = await apartment.lastRun({ seeders });
    return run && run.state !== 'done' && run.state !== 'resumed' ? run.tenants.filter((t) => t.state !== 'ok').length : 0;
  }
  if (options.tenants) return new Set(options.tenants.filter((key) => !options.skipTenants?.includes(key))).size;
  const skip = new Set(options.skipTenants ?? []);
  return (await apartment.tenants()).filter((key) => !skip.has(key)).length;
}

/** Why a run stopped, from its results: the stop error and the exit code that says so; undefined when it did not stop. */
export function stopOf(results: readonly MigrationResult[]): { error: FleetStoppedError; exitCode: number } | undefined {
  const stopped = results.find((r) => !r.ok && r.error instanceof FleetStoppedError);
  if (!stopped || stopped.ok) return undefined;
  const error = stopped.error as FleetStoppedError;
  return { error, exitCode: error.reason === 'canary' ? EXIT_CANARY_FAILED : EXIT_STOPPED };
}

/** A wave's line for humans. */
export function waveLine(wave: WaveReport): string {
  const name = wave.canary ? 'canary' : `wave ${wave.index + 1}/${wave.total}`;
  return `${name}: ${wave.tenants.length} tenant(s), ${wave.failed.length} failed${wave.failed.length ? ` (${wave.failed.join(', ')})` : ''}${wave.stopped ? ': stopping' : ''}`;
}
