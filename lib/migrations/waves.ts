import { ConfigurationError, describeValue, TenantNotFoundError } from '../errors';
import type { TenantRef } from '../tenant';
import type { FleetOptions } from './types';

/** A wave of a fleet run: its tenants, and how many of them may fail before the run stops. */
export interface Wave {
  readonly index: number;
  readonly canary: boolean;
  readonly tenants: TenantRef[];
  /** Failures allowed; more stop the run before the next wave. */
  readonly maxFailures: number;
}

/** Validated fleet options: who is in the run, and how it is cut into waves. */
export interface FleetPlan {
  /** The tenants in scope (`tenants` minus `skipTenants`), in key order. */
  readonly scope: (all: readonly TenantRef[]) => TenantRef[];
  /** Cuts the tenants with work into the canary and the waves. */
  readonly waves: (work: readonly TenantRef[]) => Wave[];
  /** Whether the run is cut at all (else: one wave, past failures, as migrateAll always did). */
  readonly staged: boolean;
}

const positive = (name: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigurationError(`Expected \`${name}\` to be a number from 1 and up, got ${describeValue(value)}.`);
  }
  return value;
};

const keyList = (name: string, value: unknown): string[] | undefined => {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((key) => typeof key !== 'string' || key === '')) {
    throw new ConfigurationError(`Expected \`${name}\` to be an array of tenant keys, got ${describeValue(value)}.`);
  }
  return value as string[];
};

/** `maxFailures` as a count for a wave of `size` tenants. */
function limitFor(maxFailures: number | string | undefined, staged: boolean, size: number): number {
  if (maxFailures === undefined) return staged ? 0 : Infinity;
  if (typeof maxFailures === 'number') return maxFailures;
  return Math.floor((size * Number(maxFailures.slice(0, -1))) / 100);
}

/**
 * Checks the fleet options of migrateAll/seedAll (before anything runs) and
 * returns how to apply them.
 * @throws ConfigurationError for a bad option
 */
export function fleetPlan(options: FleetOptions): FleetPlan {
  const tenants = keyList('tenants', options.tenants);
  const skip = new Set(keyList('skipTenants', options.skipTenants) ?? []);
  const { canary, waves, waveSize, maxFailures, onWave } = options;
  let canaryKeys: string[] | undefined;
  let canaryCount = 0;
  if (canary !== undefined) {
    if (typeof canary === 'number') canaryCount = positive('canary', canary);
    else if ((canaryKeys = keyList('canary', canary))!.length === 0) throw new ConfigurationError('Expected `canary` to be a number from 1 and up or a non-empty array of tenant keys, got [].');
  }
  if (waves !== undefined) positive('waves', waves);
  if (waveSize !== undefined) positive('waveSize', waveSize);
  if (waves !== undefined && waveSize !== undefined) {
    throw new ConfigurationError(`Pass \`waves\` (how many) or \`waveSize\` (how many tenants each), not both; got waves ${waves} and waveSize ${waveSize}.`);
  }
  if (maxFailures !== undefined) {
    const ok = typeof maxFailures === 'number'
      ? Number.isInteger(maxFailures) && maxFailures >= 0
      : typeof maxFailures === 'string' && /^\d+(?:\.\d+)?%$/.test(maxFailures) && Number(maxFailures.slice(0, -1)) <= 100;
    if (!ok) throw new ConfigurationError(`Expected \`maxFailures\` to be a number from 0 and up or a percentage like '5%', got ${describeValue(maxFailures)}.`);
  }
  if (onWave !== undefined && typeof onWave !== 'function') {
    throw new ConfigurationError(`Expected \`onWave\` to be a function, got ${describeValue(onWave)}.`);
  }
  const staged = canary !== undefined || waves !== undefined || waveSize !== undefined;
  return {
    staged,
    scope(all) {
      if (tenants) {
        const known = new Set(all.map((t) => t.key));
        const missing = tenants.filter((key) => !known.has(key));
        if (missing.length) {
          throw new TenantNotFoundError(
            `No tenant ${missing.map((key) => `'${key}'`).join(', ')} (listed in \`tenants\`): nothing was run. Check the list against apartment.tenants().`,
            { tenant: missing[0] },
          );
        }
      }
      const wanted = tenants ? new Set(tenants) : undefined;
      return all.filter((t) => (!wanted || wanted.has(t.key)) && !skip.has(t.key));
    },
    waves(work) {
      const result: Wave[] = [];
      let rest = [...work];
      if (canaryKeys) {
        const keys = new Set(canaryKeys);
        // A canary tenant with nothing to do is no error (checkCanary refuses one that is not in the run).
        const picked = rest.filter((t) => keys.has(t.key));
        rest = rest.filter((t) => !keys.has(t.key));
        if (picked.length) result.push({ index: 0, canary: true, tenants: picked, maxFailures: 0 });
      } else if (canaryCount > 0) {
        result.push({ index: 0, canary: true, tenants: rest.slice(0, canaryCount), maxFailures: 0 });
        rest = rest.slice(canaryCount);
      }
      const size = waveSize ?? (waves !== undefined ? Math.ceil(rest.length / waves) : rest.length);
      for (let start = 0; start < rest.length; start += Math.max(1, size)) {
        const tenants = rest.slice(start, start + Math.max(1, size));
        result.push({ index: result.length, canary: false, tenants, maxFailures: limitFor(maxFailures, staged, tenants.length) });
      }
      return result.filter((wave) => wave.tenants.length > 0);
    },
  };
}

/** Canary keys that are not among the run's tenants: refused before anything runs. */
export function checkCanary(options: FleetOptions, scope: readonly TenantRef[]): void {
  if (!Array.isArray(options.canary)) return;
  const known = new Set(scope.map((t) => t.key));
  const missing = options.canary.filter((key) => !known.has(key));
  if (missing.length) {
    throw new TenantNotFoundError(
      `Canary tenant ${missing.map((key) => `'${key}'`).join(', ')} is not in this run (no such tenant, or left out by \`tenants\`/\`skipTenants\`): nothing was run. Pick canary tenants from apartment.tenants().`,
      { tenant: missing[0] },
    );
  }
}
