import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, fixture } from '../support/paths';

/**
 * This run's tenant prefix (family `cli`): unique per test process, so two
 * runs of these tests against the same servers never drop each other's tenants.
 */
export const P = `cli${Math.random().toString(36).slice(2, 7)}_`;

/** The compiled CLI, run as `node dist/lib/cli/index.js ...`. */
export const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'index.js');

/** A connection URL on which nothing listens: fails fast with ECONNREFUSED. */
export function deadUrl(url: string): string {
  const u = new URL(url);
  u.port = '1';
  return u.toString();
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (fails the test with the output when it is not). */
  json(): any;
}

/**
 * A throw-away app folder in the OS temp dir: its own .sequelizerc, config and
 * migrations, with the repository's node_modules linked in (the app's
 * dependencies: sequelize, the drivers, sequelize-cli).
 */
export class Project {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-cli-'));

  /**
   * @param modules by default the repository's node_modules folder is linked
   *   in whole; given, node_modules is a folder with only these packages, each
   *   a link to the repository's package of the mapped name
   *   (`{ sequelize: 'sequelize-app-copy' }`: the app's own, different copy).
   */
  constructor(modules?: Record<string, string>) {
    if (!modules) {
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(this.dir, 'node_modules'), 'dir');
      return;
    }
    fs.mkdirSync(path.join(this.dir, 'node_modules'));
    for (const [name, target] of Object.entries(modules)) {
      fs.symlinkSync(path.join(ROOT, 'node_modules', target), path.join(this.dir, 'node_modules', name), 'dir');
    }
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  write(file: string, content: string | object): this {
    fs.mkdirSync(path.dirname(this.path(file)), { recursive: true });
    fs.writeFileSync(this.path(file), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return this;
  }

  /** Writes a .sequelizerc exporting `rc`. */
  rc(rc: Record<string, unknown>): this {
    return this.write('.sequelizerc', `module.exports = ${JSON.stringify(rc, null, 2)};\n`);
  }

  /** Copies the migration files of test/fixtures/cli/<set> into `folder` (created). */
  copy(set: string, folder = 'tenant-migrations'): this {
    fs.mkdirSync(this.path(folder), { recursive: true });
    for (const file of fs.readdirSync(fixture('cli', set))) fs.copyFileSync(fixture('cli', set, file), this.path(folder, file));
    return this;
  }

  files(folder = 'tenant-migrations'): string[] {
    return fs.readdirSync(this.path(folder)).sort();
  }

  /**
   * Runs the CLI here. The environment is the test's minus what would change
   * config resolution (DATABASE_URL, NODE_ENV, DEBUG), plus `env`.
   */
  run(args: string[], env: Record<string, string> = {}, command: string[] = [CLI]): Promise<Run> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const key of ['DATABASE_URL', 'NODE_ENV', 'DEBUG']) delete childEnv[key];
    Object.assign(childEnv, env);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...command, ...args], { cwd: this.dir, env: childEnv, timeout: 60_000 });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({
          code,
          stdout,
          stderr,
          json() {
            try {
              return JSON.parse(stdout);
            } catch {
              throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
            }
          },
        }),
      );
    });
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Asserts the exit code, showing the output when it differs. */
export function expectCode(run: Run, code: number): void {
  if (run.code !== code) {
    throw new Error(`expected exit code ${code}, got ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
