import { createHash, randomBytes } from 'node:crypto';
import * as os from 'node:os';

/**
 * Test tenants are named `test_<host>_<pid>_<worker>_<run>_<n>`:
 * - `host`: 6 hex digits of the host name's hash, so a run only judges its own host's processes;
 * - `pid`: the process that made it (node --test runs each file in a process of its own);
 * - `worker`: the runner's worker (mocha --parallel, Jest, Vitest threads share a pid);
 * - `run`: random per loaded copy of the kit (Jest loads it again for every test file);
 * - `n`: a counter.
 * The whole pattern is the mark: a key is a test tenant only when all of it matches.
 */
export const TEST_KEY = /^test_([0-9a-f]{6})_(\d{1,10})_(\d{1,6})_([0-9a-f]{6})_(\d{1,9})$/;

export const HOST = createHash('sha1').update(os.hostname()).digest('hex').slice(0, 6);
const RUN = randomBytes(3).toString('hex');
let counter = 0;

/** The worker of the test runner this process (or thread) is, from the variables each runner sets; 0 for none. */
export function workerId(env: NodeJS.ProcessEnv = process.env): number {
  for (const name of ['MOCHA_WORKER_ID', 'JEST_WORKER_ID', 'VITEST_POOL_ID', 'VITEST_WORKER_ID']) {
    const value = env[name];
    if (value !== undefined && /^\d{1,6}$/.test(value)) return Number(value);
  }
  return 0;
}

/** The next test tenant key of this process and worker. */
export function nextKey(): string {
  counter += 1;
  return `test_${HOST}_${process.pid}_${workerId()}_${RUN}_${counter}`;
}

/** Who made a test tenant, or undefined when the key is not a test tenant's. */
export function ownerOf(key: string): { host: string; pid: number } | undefined {
  const match = TEST_KEY.exec(key);
  return match ? { host: match[1]!, pid: Number(match[2]) } : undefined;
}

/**
 * Whether the process that made a test tenant may still be running: true for
 * another host (it cannot be asked) and for a live pid (or one this user may
 * not signal, EPERM); false only when this host has no such process.
 */
export function ownerMayLive(owner: { host: string; pid: number }): boolean {
  if (owner.host !== HOST) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
