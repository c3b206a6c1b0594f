/**
 * `npm run bench`: every case on PostgreSQL and MySQL, interleaved A/B rounds,
 * medians; prints one table and writes bench/results.json.
 *
 *   node --expose-gc dist/bench/index.js [--instructions [--v8-flags <flags>] [--ops <op,...>] [--repeats <n>] [--jobs <n>] [--sides <side,...>]] [--quick] [--only <case,...>] [--dialect <pg|mysql>] [--node <20,22,24|path>] [--profile <dir>] [--out <file>] [--prefix <prefix>] [--scale <tenants>]
 *
 * The separate-process cases (query, raw, middleware, import) run their
 * sides on every Node of `--node` (default: the running one, 20, 22 and 24;
 * --quick: the running one), plus `BENCH_NODE` (a path) when set. To run the
 * whole bench on another Node: `$(.ci/node 24) --expose-gc dist/bench/index.js`.
 *
 * `--instructions` runs the instruction count alone (it needs valgrind:
 * `apt-get install valgrind`); `--v8-flags '<flags>'` replaces the V8 flags
 * its counted processes get (space-separated; '' for none).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { machine, packageVersions, serverVersion, unavailable, URLS, type DialectName } from './env';
import { Fixtures } from './fixtures';
import { resolveNodes } from './node-versions';
import { now } from './harness';
import { printTable } from './table';
import type { BenchCase, BenchContext, Row } from './types';
import { CASES } from './cases';

export interface BenchOptions {
  quick: boolean;
  only?: string[];
  dialects: DialectName[];
  out: string;
  prefix: string;
  /** `--node`: majors or paths; undefined: the default for the mode. */
  node?: string[];
  /** `--profile <dir>`: CPU profiles of the query case's warmed hot loops go there (no timing; implies `--only query`). */
  profile?: string;
  /** Tenants of the fleet case. */
  scale?: number;
  /** `--v8-flags`: V8 flags of the instruction count's processes. */
  v8Flags?: string[];
  /** `--ops`: operations of the instruction count. */
  ops?: string[];
  /** `--repeats`: processes per side of the instruction count. */
  repeats?: number;
  /** `--jobs`: counted processes at once. */
  jobs?: number;
  /** `--sides`: sides of the instruction count (floor, floor-als, run, run5, explicit). */
  sides?: string[];
}

export function parseArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    quick: false,
    dialects: ['postgres', 'mysql'],
    out: path.resolve(__dirname, '../../bench/results.json'),
    prefix: 'bench_',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`Expected a value after ${arg}`);
      return v;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--only') options.only = value().split(',').map((s) => s.trim());
    else if (arg === '--dialect') {
      const v = value();
      const map: Record<string, DialectName> = { pg: 'postgres', postgres: 'postgres', mysql: 'mysql', mariadb: 'mysql' };
      if (!map[v]) throw new Error(`Expected --dialect to be pg or mysql, got '${v}'`);
      options.dialects = [map[v]];
    } else if (arg === '--out') options.out = path.resolve(value());
    else if (arg === '--prefix') options.prefix = value();
    else if (arg === '--instructions') options.only = [...(options.only ?? []), 'instructions'];
    else if (arg === '--v8-flags') options.v8Flags = value().split(/\s+/).filter(Boolean);
    else if (arg === '--ops') options.ops = value().split(',').map((s) => s.trim());
    else if (arg === '--sides') options.sides = value().split(',').map((s) => s.trim());
    else if (arg === '--jobs') {
      const v = value();
      options.jobs = Number(v);
      if (!Number.isSafeInteger(options.jobs) || options.jobs < 1) throw new Error(`Expected --jobs to be a count from 1 and up, got '${v}'`);
    } else if (arg === '--repeats') {
      const v = value();
      options.repeats = Number(v);
      if (!Number.isSafeInteger(options.repeats) || options.repeats < 1) throw new Error(`Expected --repeats to be a count from 1 and up, got '${v}'`);
    }
    else if (arg === '--profile') options.profile = path.resolve(value());
    else if (arg === '--node') {
      options.node = value().split(',').map((s) => s.trim());
      for (const spec of options.node) {
        if (!/^\d+$/.test(spec) && !spec.includes('/')) throw new Error(`Expected --node to list major versions (20,22,24) or paths to node binaries, got '${spec}'`);
      }
    }
    else if (arg === '--scale') {
      const v = value();
      options.scale = Number(v);
      if (!Number.isSafeInteger(options.scale) || options.scale < 2) throw new Error(`Expected --scale to be a tenant count from 2 and up, got '${v}'`);
    }
    else throw new Error(`Unknown option ${arg}. Options: --quick, --only <${CASES.map((c) => c.id).join('|')}>, --dialect <pg|mysql>, --node <20,22,24|path>, --profile <dir>, --out <file>, --prefix <prefix>, --scale <tenants>, --instructions, --v8-flags <flags>, --ops <operation,...>, --repeats <n>, --jobs <n>, --sides <side,...>`);
  }
  // `--scale N` sizes the fleet case: alone, it runs just that case (the others have sizes of their own).
  if (options.scale !== undefined) options.only ??= ['fleet'];
  if (options.profile) {
    // Profiling replaces timing: the query case only, and the timed results.json is left alone.
    options.only ??= ['query'];
    if (!argv.includes('--out')) options.out = path.join(options.profile, 'results.json');
  }
  if (!/^bench[a-z0-9_]*_$/.test(options.prefix)) throw new Error(`Expected --prefix to start with 'bench' and end with '_', got '${options.prefix}'`);
  for (const id of options.only ?? []) {
    if (!CASES.some((c) => c.id === id)) throw new Error(`Unknown case '${id}'. Cases: ${CASES.map((c) => c.id).join(', ')}`);
  }
  return options;
}

function exposeGc(): void {
  if ((globalThis as any).gc) return;
  // Fallback when not started with --expose-gc.
  require('node:v8').setFlagsFromString('--expose-gc');
  (globalThis as any).gc = require('node:vm').runInNewContext('gc');
}

export async function runBench(options: BenchOptions): Promise<{ rows: Row[]; notes: string[] }> {
  exposeGc();
  const started = now();
  const rows: Row[] = [];
  const notes: string[] = [];
  const servers: Record<string, string> = {};
  const cases = CASES.filter((c) => (options.only ? options.only.includes(c.id) : !c.optIn));
  const log = (message: string) => console.error(`  ${message}`);
  const running = process.versions.node.split('.')[0];
  const nodes = resolveNodes(options.node ?? (options.quick ? [running] : [running, '20', '22', '24']));
  const previous = previousRows(options.out);
  log(`separate-process sides on ${nodes.map((n) => `${n.label} (${n.version})`).join(', ')}`);

  for (const dialect of options.dialects) {
    const reason = await unavailable(dialect);
    if (reason !== undefined) {
      notes.push(`${dialect}: skipped, server at ${URLS[dialect]} is unreachable (${reason}). Set ${dialect === 'postgres' ? 'PG_URL' : 'MYSQL_URL'}.`);
      console.error(`! ${notes[notes.length - 1]}`);
      continue;
    }
    servers[dialect] = await serverVersion(dialect);
    const fixtures = new Fixtures(dialect, options.prefix);
    const ctx: BenchContext = {
      dialect,
      quick: options.quick,
      prefix: options.prefix,
      fixtures,
      nodes,
      profile: options.profile,
      scale: options.scale,
      v8Flags: options.v8Flags,
      ops: options.ops,
      repeats: options.repeats,
      jobs: options.jobs,
      sides: options.sides,
      previous,
      rounds: (full, quick = 3) => (options.quick ? quick : full),
      log: (message) => log(`[${dialect}] ${message}`),
    };
    try {
      await fixtures.dropAll(ctx.log);
      for (const c of cases) {
        if (c.dialects && !c.dialects.includes(dialect)) continue;
        const skip = c.unavailable?.();
        if (skip) {
          notes.push(`${dialect} ${c.title}: skipped (${skip})`);
          continue;
        }
        const t = now();
        ctx.log(`${c.title} ...`);
        rows.push(...(await (c as BenchCase).run(ctx)));
        ctx.log(`${c.title} done in ${((now() - t) / 1000).toFixed(1)} s`);
      }
    } finally {
      await fixtures.dropAll(ctx.log).catch((error) => log(`cleanup failed: ${error.message}`));
      await fixtures.close();
    }
  }

  const results: Parameters<typeof mergePrevious>[0] & Record<string, unknown> = {
    generatedAt: new Date().toISOString(),
    command: `node --expose-gc dist/bench/index.js${options.quick ? ' --quick' : ''}${options.only ? ` --only ${options.only.join(',')}` : ''}${options.node ? ` --node ${options.node.join(',')}` : ''}${options.scale ? ` --scale ${options.scale}` : ''}${options.v8Flags ? ` --v8-flags '${options.v8Flags.join(' ')}'` : ''}${options.ops ? ` --ops '${options.ops.join(',')}'` : ''}${options.repeats ? ` --repeats ${options.repeats}` : ''}${options.sides ? ` --sides ${options.sides.join(',')}` : ''}`,
    nodes: nodes.map((n) => ({ label: n.label, version: n.version })),
    quick: options.quick,
    durationSeconds: Math.round((now() - started) / 100) / 10,
    machine: machine(),
    versions: { ...packageVersions(), servers },
    notes,
    cases: rows,
  };
  if (options.only) mergePrevious(results, options.out);
  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  printTable(rows, notes);
  console.log(`\nwrote ${path.relative(process.cwd(), options.out) || options.out} in ${results.durationSeconds} s`);
  return { rows, notes };
}

function previousRows(file: string): Row[] {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { cases: Row[] }).cases;
  } catch {
    return [];
  }
}

/**
 * A run of some cases (`--only`, `--instructions`, `--scale`) replaces only
 * the rows it measured again (same case, dialect and metric) in an existing
 * results file; the other rows stay, and a note per case says which runs
 * its rows come from (`sources`).
 */
function mergePrevious(results: { generatedAt: string; command: string; notes: string[]; cases: Row[]; sources?: Record<string, string[]> }, file: string): void {
  let previous: { generatedAt: string; command: string; cases: Row[]; sources?: Record<string, string[]> };
  try {
    previous = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return;
  }
  const key = (r: Row) => `${r.case}|${r.dialect}|${r.metric}`;
  const fresh = new Set(results.cases.map(key));
  const kept = previous.cases.filter((r) => !fresh.has(key(r)));
  if (kept.length === 0) return;
  const sources: Record<string, string[]> = {};
  const add = (name: string, source: string) => {
    const list = (sources[name] ??= []);
    if (!list.includes(source)) list.push(source);
  };
  for (const r of kept) for (const source of previous.sources?.[r.case] ?? [`${previous.generatedAt.slice(0, 10)}, \`${previous.command}\``]) add(r.case, source);
  for (const r of results.cases) add(r.case, `${results.generatedAt.slice(0, 10)}, \`${results.command}\``);
  results.notes.push(...Object.entries(sources).map(([name, list]) => `${name}: rows from the run${list.length > 1 ? 's' : ''} of ${list.join('; ')}.`));
  results.cases = [...kept, ...results.cases];
  results.sources = sources;
}

if (require.main === module) {
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  runBench(options).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
