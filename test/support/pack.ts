import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './paths';

const run = promisify(execFile);

export interface Packed {
  /** The `.tgz` that `npm pack` wrote (in a temp folder). */
  readonly tarball: string;
  /** The paths inside the package, as npm lists them. */
  readonly files: string[];
}

let packed: Promise<Packed> | undefined;

/**
 * `npm pack` of the repository as it is built now (dist/ must be current),
 * once per test process: what `npm publish` would upload.
 */
export function pack(): Promise<Packed> {
  packed ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-pack-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    return { tarball: path.join(dir, info.filename), files: info.files.map((f) => f.path) };
  })();
  return packed;
}

/** Extracts the packed package into `dir` (its `package/` folder becomes `dir`). */
export async function extractPackage(tarball: string, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1']);
}
