import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { eachLimit, median } from '../harness';
import { REQUEST_OPS, type CountedConfig, type CountedMode, type CountedRequest } from '../sides/counted';
import { row, type BenchCase, type BenchContext, type Goal, type Row } from '../types';

/**
 * `npm run bench -- --instructions`: client instructions per operation,
 * counted by valgrind's callgrind, which sees differences of 1% that wall
 * time and `process.cpuUsage` cannot resolve on a shared machine.
 *
 * Each side runs in its own process under callgrind (pool max 1). Per
 * operation the process runs a warm-up block, then N1 and N2 operations,
 * each block counted on its own (bench/sides/counted.ts); the figure is
 * (I(N2) - I(N1)) / (N2 - N1), so start-up, warm-up and the block's own
 * bookkeeping cancel out. Every side is counted in REPEATS fresh processes,
 * the sides taking turns; rows give the median and the spread (the largest
 * count over the smallest).
 */

export const INSTRUCTION_OPS = ['findByPk', 'findAll + through include', 'create + destroy', 'raw SQL', 'HTTP request'] as const;
type Op = (typeof INSTRUCTION_OPS)[number];

/** Operations of the warm-up block, operations per counted block, and counted blocks (multiples of REQUEST_OPS). */
interface Sizes {
  warm: number;
  n: number;
  blocks: number;
}

const SIZES: Record<Op, Sizes> = {
  findByPk: { warm: 2000, n: 250, blocks: 3 },
  'findAll + through include': { warm: 600, n: 100, blocks: 3 },
  'create + destroy': { warm: 600, n: 100, blocks: 3 },
  'raw SQL': { warm: 1500, n: 250, blocks: 3 },
  'HTTP request': { warm: 1000, n: 200, blocks: 3 },
};
const QUICK_SIZES: Sizes = { warm: 5, n: 5, blocks: 1 };

/** The largest spread (max/min) of the last blocks that counts as a steady state. */
const STEADY = 1.03;
/** Counted blocks at most, per operation and process. */
const MAX_BLOCKS = 10;

function sizesOf(op: Op, quick: boolean): Sizes {
  return quick ? QUICK_SIZES : SIZES[op];
}

/** Fresh processes per side (alternating). */
export const REPEATS = 3;

/**
 * V8 flags every counted process gets (`--v8-flags` replaces them).
 * `--single-threaded-gc` runs the GC on the main thread, so it is counted
 * in full; `--hash-seed` fixes the seed V8 otherwise draws per process; the
 * young generation is fixed at 16 MB a semi-space (V8 otherwise grows it by
 * heuristic, at a different point in each process, and a scavenge costs
 * ~0.6M instructions whatever it frees: the floor of `create` + `destroy`
 * read 781k in one process and 907k in another). None of them changes
 * which code a request runs; the fixed young generation sets how often it
 * is collected to what a process that has grown it does (`--no-opt` would
 * change the code, so it is not used).
 */
export const DEFAULT_V8_FLAGS = ['--single-threaded-gc', '--hash-seed=1', '--min-semi-space-size=16', '--max-semi-space-size=16'];

const MODE_LABEL: Record<CountedMode, string> = {
  floor: 'floor',
  'floor-als': 'floor inside als.run per operation (AsyncLocalStorage alone)',
  run: '`run` per operation',
  run5: `\`run\` per ${REQUEST_OPS} operations (a request)`,
  explicit: 'explicit { tenant }',
};

/** The sides each operation is counted on. */
function modesOf(op: Op, quick: boolean): CountedMode[] {
  if (quick) return ['floor', 'run'];
  if (op === 'findByPk') return ['floor', 'floor-als', 'run', 'run5', 'explicit'];
  // A request through the middleware is a `run` per request (the middleware's); explicit: the handler names the header's tenant.
  if (op === 'HTTP request') return ['floor', 'floor-als', 'run', 'explicit'];
  return ['floor', 'run', 'run5', 'explicit'];
}

const MODES: readonly CountedMode[] = ['floor', 'floor-als', 'run', 'run5', 'explicit'];

/** `names` (the list given to `flag`), each one of `allowed`. */
function listOf<T extends string>(flag: string, what: string, allowed: readonly T[], names: readonly string[]): T[] {
  for (const name of names) {
    if (!(allowed as readonly string[]).includes(name)) throw new Error(`Expected ${flag} to list ${what} of ${allowed.join(', ')}, got '${name}'`);
  }
  return names as T[];
}

const COUNTED = path.join(__dirname, '..', 'sides', 'counted.js');

/** Why the case cannot run here, or undefined. */
export function valgrindMissing(): string | undefined {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'valgrind is not installed: apt-get install valgrind';
  }
}

/** One side's process under callgrind; every `segment` is one callgrind dump. */
class CountedProcess {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  #dumps = 0;
  #port = 0;
  #waiting: { resolve(message: any): void; reject(error: Error): void } | undefined;

  private constructor(child: ChildProcess, dir: string) {
    this.#child = child;
    this.#dir = dir;
    child.on('message', (message: any) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (message.type === 'failed') waiting?.reject(new Error(`counted side: ${message.error}`));
      else waiting?.resolve(message);
    });
    child.on('exit', (code) => this.#waiting?.reject(new Error(`counted side exited with code ${code}`)));
  }

  static async start(node: string, flags: readonly string[], config: CountedConfig): Promise<CountedProcess> {
    // BENCH_CALLGRIND_DIR keeps every block's dump there (per-function counts: `callgrind_annotate <file>`).
    const keep = process.env.BENCH_CALLGRIND_DIR;
    if (keep) fs.mkdirSync(keep, { recursive: true });
    const dir = fs.mkdtempSync(path.join(keep ?? os.tmpdir(), `${keep ? `${config.dialect}-${config.mode}-` : 'bench-callgrind-'}`));
    const child = fork(COUNTED, [], {
      execPath: 'valgrind',
      // --separate-threads: only the main thread's counts are read (JIT compilation runs on V8's worker threads).
      execArgv: ['-q', '--tool=callgrind', '--separate-threads=yes', '--dump-before=*GetPriority*', `--callgrind-out-file=${dir}/cg.%p`, node, ...flags],
      // Node 22+ caches compiled modules there: start-up under callgrind is shorter; the counted blocks are unchanged.
      env: { ...process.env, BENCH_COUNTED: JSON.stringify(config), NODE_COMPILE_CACHE: path.join(os.tmpdir(), 'bench-callgrind-compile-cache') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const side = new CountedProcess(child, dir);
    const ready = await side.#next();
    side.#port = ready.port;
    return side;
  }

  #next(): Promise<any> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  #get(i: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: this.#port, path: `/widgets/${(i % 10) + 1}`, agent: this.#agent, headers: { 'x-tenant': 'x' } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`instructions bench: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
    });
  }

  /** Instructions of `n` operations, plus the block's constant bookkeeping. */
  async segment(op: Op, n: number): Promise<number> {
    const answer = this.#next();
    if (op === 'HTTP request') {
      // The parent is the HTTP client (not counted); the served requests fall between two dumps.
      for (let i = 0; i < n; i++) await this.#get(i);
      this.#child.send({ type: 'mark' } satisfies CountedRequest);
    } else {
      this.#child.send({ type: 'block', op, n } satisfies CountedRequest);
    }
    await answer;
    const file = path.join(this.#dir, `cg.${this.#child.pid}.${++this.#dumps}-01`);
    const text = fs.readFileSync(file, 'utf8');
    if (!process.env.BENCH_CALLGRIND_DIR) fs.rmSync(file);
    else fs.renameSync(file, path.join(this.#dir, `${String(this.#dumps).padStart(2, '0')}-${op.replace(/\W+/g, '-')}-${n}.callgrind`));
    const total = /^(?:totals|summary):\s*(\d+)/m.exec(text);
    if (!total) throw new Error(`instructions bench: no totals in ${file}`);
    return Number(total[1]);
  }

  /**
   * After a warm-up block, blocks of `n` operations, each followed by an
   * empty block (the dump's own bookkeeping), until the last `blocks` agree
   * within STEADY (at most MAX_BLOCKS): JIT tier-ups can go on long after
   * the warm-up, and a block that a compilation or a full GC landed in is an
   * outlier. Per operation: (median of the last `blocks` full blocks -
   * median of the empty ones) / n.
   */
  async perOp(op: Op, { warm, n, blocks }: Sizes): Promise<{ perOp: number; blocks: number[] }> {
    await this.segment(op, warm);
    const full: number[] = [];
    const empty: number[] = [];
    do {
      full.push(await this.segment(op, n));
      empty.push(await this.segment(op, 0));
    } while (full.length < MAX_BLOCKS && !steady(full, blocks));
    return perOpOf(full, empty, n, blocks);
  }

  async close(): Promise<void> {
    this.#agent.destroy();
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.send({ type: 'close' } satisfies CountedRequest);
    await exited;
    if (!process.env.BENCH_CALLGRIND_DIR) fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Whether the last `blocks` counts agree within STEADY (max / min). */
export function steady(full: readonly number[], blocks: number): boolean {
  const last = full.slice(-blocks);
  return last.length === blocks && Math.max(...last) / Math.min(...last) <= STEADY;
}

/** Per operation: (median of the last `blocks` full blocks - median of the empty ones) / n; every block's figure beside it. */
export function perOpOf(full: readonly number[], empty: readonly number[], n: number, blocks: number): { perOp: number; blocks: number[] } {
  const base = median([...empty]);
  return { perOp: (median(full.slice(-blocks)) - base) / n, blocks: full.map((b) => (b - base) / n) };
}

export interface CountOptions {
  node: string;
  flags: readonly string[];
  config: Omit<CountedConfig, 'mode'>;
  ops: readonly Op[];
  repeats: number;
  quick: boolean;
  /** Counted processes at once (default 1). */
  jobs?: number;
  /** Only these sides (default: every side of each operation). */
  modes?: readonly CountedMode[];
  log(message: string): void;
}

export interface Count {
  /** Per repeat, in order. */
  samples: number[];
  /** The 1-minute load average when each sample was taken. */
  load: number[];
}

/** Counts every operation on each of its sides, `repeats` fresh processes per side, the sides taking turns. */
export async function countSides(options: CountOptions): Promise<Map<string, Count>> {
  const counts = new Map<string, Count>();
  const wanted = (op: Op) => modesOf(op, options.quick).filter((mode) => !options.modes || options.modes.includes(mode));
  const modes = [...new Set(options.ops.flatMap(wanted))];
  // The order rotates every repeat so drift (the machine's load) hits every side alike.
  const tasks = Array.from({ length: options.repeats }, (_, repeat) => modes.map((_, k) => ({ repeat, mode: modes[(k + repeat) % modes.length]! }))).flat();
  // Processes at once (`--jobs`): a count is the process's own instructions, so sharing the CPU leaves it alone.
  await eachLimit(tasks, options.jobs ?? 1, async ({ repeat, mode }) => {
    const side = await CountedProcess.start(options.node, options.flags, { ...options.config, mode });
    try {
      for (const op of options.ops) {
        if (!wanted(op).includes(mode)) continue;
        const { perOp: sample, blocks } = await side.perOp(op, sizesOf(op, options.quick));
        const key = `${op}|${mode}`;
        const count = counts.get(key) ?? { samples: [], load: [] };
        count.samples.push(sample);
        count.load.push(os.loadavg()[0]!);
        counts.set(key, count);
        options.log(`${op}, ${mode}, repeat ${repeat + 1}: ${Math.round(sample)} instructions/op (blocks ${blocks.map(Math.round).join(', ')}; load ${os.loadavg()[0]!.toFixed(1)})`);
      }
    } finally {
      await side.close();
    }
  });
  return counts;
}

function spread(samples: number[]): number {
  return Math.max(...samples) / Math.min(...samples);
}

function describe(count: Count): string {
  return `${count.samples.length} processes, spread ${spread(count.samples).toFixed(3)}, load ${Math.min(...count.load).toFixed(1)}-${Math.max(...count.load).toFixed(1)}`;
}

/** Goals apply on Node 24 (its AsyncLocalStorage no longer uses async hooks); older versions are reported. */
function goalOf(op: Op, mode: CountedMode): Goal | undefined {
  if (mode === 'run') return { maxRatio: op === 'findByPk' ? 1.02 : op === 'findAll + through include' || op === 'create + destroy' ? 1.03 : undefined };
  if (mode === 'run5' && op === 'findByPk') return { maxRatio: 1.02 };
  return undefined;
}

export function countRows(ctx: Pick<BenchContext, 'dialect'>, nodeLabel: string, nodeMajor: number, counts: Map<string, Count>, flags: readonly string[]): Row[] {
  const rows: Row[] = [];
  const base = { case: 'instructions', dialect: ctx.dialect, unit: 'instructions/op' } as const;
  const flagText = flags.length ? ` (${flags.join(' ')})` : '';
  for (const op of INSTRUCTION_OPS) {
    const floor = counts.get(`${op}|floor`);
    if (!floor) continue;
    const b = median(floor.samples);
    rows.push(row({ ...base, metric: `${op}, floor, ${nodeLabel}`, a: b, b: null, note: `${describe(floor)}${flagText}` }));
    for (const mode of ['floor-als', 'run', 'run5', 'explicit'] as const) {
      const count = counts.get(`${op}|${mode}`);
      if (!count) continue;
      const a = median(count.samples);
      const goal = nodeMajor >= 24 ? goalOf(op, mode) : undefined;
      rows.push(row({ ...base, metric: `${op}, ${MODE_LABEL[mode]}, ${nodeLabel}`, a, b, note: `+${Math.round(a - b)}; ${describe(count)}` }, goal?.maxRatio ? goal : undefined));
    }
    const run = counts.get(`${op}|run`);
    const explicit = counts.get(`${op}|explicit`);
    if (run && explicit) {
      rows.push(
        row(
          { ...base, metric: `${op}, explicit { tenant } / \`run\` per operation, ${nodeLabel}`, a: median(explicit.samples), b: median(run.samples) },
          nodeMajor >= 24 ? { maxRatio: 1, text: 'explicit never costs more than run' } : undefined,
        ),
      );
    }
  }
  return rows;
}

export const instructions: BenchCase = {
  id: 'instructions',
  title: 'instructions',
  optIn: true,
  unavailable: valgrindMissing,
  async run(ctx) {
    const schema = await ctx.fixtures.queryTenant();
    const flags = ctx.v8Flags ?? DEFAULT_V8_FLAGS;
    const rows: Row[] = [];
    for (const node of ctx.nodes) {
      const counts = await countSides({
        node: node.path,
        flags,
        config: { dialect: ctx.dialect, schema, prefix: `${ctx.prefix}q_`, key: 'x', pool: 1 },
        ops: ctx.ops ? listOf('--ops', 'operations', INSTRUCTION_OPS, ctx.ops) : ctx.quick ? ['findByPk', 'HTTP request'] : INSTRUCTION_OPS,
        repeats: ctx.repeats ?? (ctx.quick ? 1 : REPEATS),
        // --quick (the smoke test): its two processes at once.
        jobs: ctx.jobs ?? (ctx.quick ? 2 : 1),
        modes: ctx.sides ? listOf('--sides', 'sides', MODES, ctx.sides) : undefined,
        quick: ctx.quick,
        log: (message) => ctx.log(`${node.label}: ${message}`),
      });
      rows.push(...countRows(ctx, node.label, node.major, counts, flags));
    }
    return rows;
  },
};
