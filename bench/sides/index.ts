/**
 * The parent side of separate-process comparisons: each side runs in its own
 * child process (bench/sides/worker.ts) on a chosen Node binary, or in
 * several (replicas: identical processes differ by a few percent); rounds
 * are interleaved across the sides (the order rotates every round) and
 * medians reported.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { median } from '../harness';
import type { BlockResult, HttpFramework, Ready, Request, SideConfig, SideName } from './worker';

export type { SideName, HttpFramework } from './worker';

const WORKER = path.join(__dirname, 'worker.js');

type Pending = { resolve(value: any): void; reject(error: Error): void };

/** One child process running one side. */
export class Side {
  readonly name: SideName;
  readonly ready: Ready;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #next = 0;

  private constructor(name: SideName, child: ChildProcess, ready: Ready) {
    this.name = name;
    this.#child = child;
    this.ready = ready;
    child.on('message', (message: any) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.error) pending.reject(new Error(`bench side ${name}: ${message.error}`));
      else pending.resolve(message);
    });
    child.on('exit', (code) => {
      for (const pending of this.#pending.values()) pending.reject(new Error(`bench side ${name} exited with code ${code}`));
      this.#pending.clear();
    });
  }

  static start(node: string, config: SideConfig): Promise<Side> {
    const child = fork(WORKER, [], {
      execPath: node,
      // No --expose-gc and nothing else inherited: each side starts like an app would.
      execArgv: [],
      env: { ...process.env, BENCH_SIDE: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const failed = (error: Error) => reject(new Error(`bench side ${config.side} (${node}) did not start: ${error.message}`));
      child.once('error', failed);
      child.once('exit', (code) => failed(new Error(`exit code ${code}`)));
      child.once('message', (message: any) => {
        if (message.type !== 'ready') return failed(new Error(message.error ?? JSON.stringify(message)));
        if (config.side.startsWith('floor') && message.loadedPackage) {
          child.kill();
          return failed(new Error('the floor loaded sequelize-apartment'));
        }
        child.removeAllListeners('exit');
        resolve(new Side(config.side, child, message));
      });
    });
  }

  #request<T>(request: Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never): Promise<T> {
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ ...request, id });
    });
  }

  block(op: string, iterations: number): Promise<BlockResult> {
    return this.#request({ type: 'block', op, iterations });
  }

  /** Total client CPU of the child so far, in µs. */
  async cpu(): Promise<number> {
    return (await this.#request<{ cpuUs: number }>({ type: 'cpu' })).cpuUs;
  }

  profile(op: string, iterations: number, file: string): Promise<unknown> {
    return this.#request({ type: 'profile', op, iterations, file });
  }

  async close(): Promise<void> {
    await this.#request({ type: 'close' }).catch(() => undefined);
  }
}

/**
 * Processes per side in a full run (`--quick`: 1): identical processes
 * differ by a few percent (the floor-spread rows show by how much), so each
 * side is several.
 */
export const REPLICAS = 5;
/** Rounds of a full run's separate-process comparison: three blocks per process. */
export const SIDE_ROUNDS = 3 * REPLICAS;

/**
 * Starts `replicas` children per side (sequentially: each warms its own
 * pool). Identical processes differ by several percent on a shared machine
 * (measured: 228-252 µs wall for the same findByPk floor in six processes,
 * README "Performance"), so a side's figure is taken over several processes.
 */
export async function startSides(node: string, names: SideName[], config: Omit<SideConfig, 'side'>, replicas = 1): Promise<Map<SideName, SideGroup>> {
  const sides = new Map<SideName, SideGroup>();
  try {
    for (const name of names) {
      const group: Side[] = [];
      sides.set(name, new SideGroup(group));
      for (let i = 0; i < replicas; i++) group.push(await Side.start(node, { ...config, side: name }));
    }
  } catch (error) {
    await closeSides(sides);
    throw error;
  }
  return sides;
}

/** The processes of one side: blocks go to each in turn; `first` for what needs one process (an HTTP port, a profile). */
export class SideGroup {
  readonly processes: readonly Side[];
  #next = 0;

  constructor(processes: Side[]) {
    this.processes = processes;
  }

  get first(): Side {
    return this.processes[0]!;
  }

  get name(): SideName {
    return this.first.name;
  }

  /** The next process in turn, and its index. */
  take(): [Side, number] {
    const index = this.#next;
    this.#next = (this.#next + 1) % this.processes.length;
    return [this.processes[index]!, index];
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((side) => side.close()));
  }
}

export async function closeSides(sides: Map<unknown, Side | SideGroup>): Promise<void> {
  await Promise.all([...sides.values()].map((side) => side.close()));
}

export interface SideMedians {
  wallUs: number;
  cpuUs: number;
  /** Wall: the slowest process's median over the fastest's (1 with one process): how far identical processes differ. */
  spread: number;
}

/**
 * `rounds` rounds of one block per side, the order rotating every round so
 * drift hits every side alike, each side's blocks going to its processes in
 * turn; one warm-up block per process first. Medians over all of a side's
 * blocks.
 */
export async function interleaveSides<K = SideName>(sides: Map<K, SideGroup>, op: string, iterations: number, rounds: number): Promise<Map<K, SideMedians>> {
  const list = [...sides];
  for (const [, group] of list) for (const side of group.processes) await side.block(op, iterations);
  const samples = new Map<K, Array<BlockResult & { process: number }>>(list.map(([key]) => [key, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < list.length; k++) {
      const [key, group] = list[(round + k) % list.length]!;
      const [side, process] = group.take();
      samples.get(key)!.push({ ...(await side.block(op, iterations)), process });
    }
  }
  const result = new Map<K, SideMedians>();
  for (const [key, values] of samples) {
    const perProcess = [...new Set(values.map((v) => v.process))].map((p) => median(values.filter((v) => v.process === p).map((v) => v.wallUs)));
    result.set(key, {
      wallUs: median(values.map((v) => v.wallUs)),
      cpuUs: median(values.map((v) => v.cpuUs)),
      spread: Math.max(...perProcess) / Math.min(...perProcess),
    });
  }
  return result;
}

export type { HttpFramework as Framework };
