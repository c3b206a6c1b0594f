import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port (or rejects after `timeoutMs`). */
export async function waitForPort(port: number, timeoutMs = 20_000, alive: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = alive();
    if (dead) throw new Error(dead);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * PostgreSQL tools (initdb, pg_ctl) and PgBouncer refuse to run as root.
 * Under root, child processes run as the `postgres` OS user instead.
 */
export function serviceUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    throw new Error('Running as root and there is no `postgres` OS user to run PostgreSQL tools / PgBouncer as.');
  }
}

/** A temp directory the service user can use. */
export function serviceDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `apartment-${label}-`));
  const user = serviceUser();
  if (user) fs.chownSync(dir, user.uid, user.gid);
  return dir;
}

/** Writes a file the service user owns. */
export function writeServiceFile(file: string, text: string, mode = 0o600): void {
  fs.writeFileSync(file, text, { mode });
  const user = serviceUser();
  if (user) fs.chownSync(file, user.uid, user.gid);
}

/** Spawns a program as the service user (when root). */
export function spawnService(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const user = serviceUser();
  return spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, ...(user ?? {}) });
}

/** Runs a program as the service user and waits for it; throws with its output on failure. */
export function runService(command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnService(command, args, options);
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
}

/** Whether an executable is on PATH (or at an absolute path). */
export function hasProgram(program: string): boolean {
  if (path.isAbsolute(program)) return fs.existsSync(program);
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A required external program is missing: skip loudly, or fail under CI. */
export function missingProgram(context: Mocha.Context, program: string, hint: string): void {
  const message = `${program} is not installed (${hint})`;
  if (process.env.CI) throw new Error(`${message}; CI is set, so this fails the run.`);
  console.warn(`\n  !!! SKIPPING: ${message}.\n`);
  context.skip();
}
