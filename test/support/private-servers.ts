import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, hasProgram, runService, serviceDir, spawnService, waitForPort } from './processes';

/**
 * Private database servers for tests that restart them: never the shared
 * servers on 5432/3306, which other suites use at the same time.
 */
export interface PrivateServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (fast shutdown: connections are cut) and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Where Debian keeps PostgreSQL's server binaries (initdb and pg_ctl are not on PATH). */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0], 'bin') : undefined;
}

/** initdb into a temp dir and start it on a free loopback port (as `postgres` when running as root). */
export async function startPrivatePostgres(): Promise<PrivateServer> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin');
  const dir = serviceDir('pg');
  const data = path.join(dir, 'data');
  const port = await freePort();
  await runService(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const ctl = (...args: string[]) => runService(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), ...args]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  await ctl('-o', options, '-w', 'start');
  await runService(path.join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', 'CREATE DATABASE test']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    port,
    async restart() {
      await ctl('-m', 'fast', '-w', 'stop');
      await ctl('-o', options, '-w', 'start');
    },
    async stop() {
      await ctl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function hasPrivateMariadb(): boolean {
  return hasProgram('mariadbd') && hasProgram('mariadb-install-db');
}

/** mariadb-install-db into a temp dir and run mariadbd on a free loopback port, no grant tables. */
export async function startPrivateMariadb(): Promise<PrivateServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-mariadb-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  await runPlain('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...user]);
  let child: ChildProcess | undefined;
  let exited: string | undefined;
  const start = async () => {
    exited = undefined;
    let output = '';
    child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--socket=${path.join(dir, 'mysqld.sock')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-grant-tables',
        '--skip-networking=0',
        `--pid-file=${path.join(dir, 'mysqld.pid')}`,
        '--innodb-buffer-pool-size=32M',
        '--innodb-log-file-size=16M',
        '--skip-log-bin',
        ...user,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.on('exit', (code, signal) => (exited = `mariadbd exited (${code ?? signal}):\n${output}`));
    await waitForPort(port, 60_000, () => exited);
  };
  const stopChild = async (signal: NodeJS.Signals) => {
    if (!child || exited !== undefined) return;
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill(signal);
    const timer = setTimeout(() => child!.kill('SIGKILL'), 20_000);
    await gone;
    clearTimeout(timer);
  };
  await start();
  await runPlain('mariadb', ['-h', '127.0.0.1', '-P', String(port), '-u', 'root', '-e', 'CREATE DATABASE test']);
  return {
    url: `mysql://root@127.0.0.1:${port}/test`,
    port,
    async restart() {
      await stopChild('SIGTERM');
      await start();
    },
    async stop() {
      await stopChild('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function runPlain(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} exited with ${code}:\n${output}`))));
  });
}

export { spawnService };
