import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { URLS } from './servers';
import { freePort, serviceDir, spawnService, waitForPort, writeServiceFile } from './processes';

export interface PgBouncer {
  /** `postgres://user@127.0.0.1:<port>/<db>`: the test database through PgBouncer. */
  readonly url: string;
  readonly port: number;
  /** Server connections PgBouncer keeps per user/database pair. */
  readonly poolSize: number;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** @default 'transaction' */
  poolMode?: 'transaction' | 'session' | 'statement';
  /** @default 5 */
  poolSize?: number;
  /** @default URLS.postgres */
  upstream?: string;
}

/**
 * Starts Debian's `pgbouncer` in front of the PostgreSQL test server: a temp
 * config and userlist (auth_type = trust), listening on a free loopback port.
 * PgBouncer refuses to run as root, so under root it runs as `postgres`.
 */
export async function startPgBouncer(options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const { poolMode = 'transaction', poolSize = 5, upstream = URLS.postgres } = options;
  const target = new URL(upstream);
  const user = decodeURIComponent(target.username || 'postgres');
  const db = target.pathname.slice(1) || 'postgres';
  const port = await freePort();
  const dir = serviceDir('pgbouncer');
  const ini = path.join(dir, 'pgbouncer.ini');
  writeServiceFile(path.join(dir, 'userlist.txt'), `"${user}" ""\n`);
  writeServiceFile(
    ini,
    [
      '[databases]',
      `${db} = host=${target.hostname} port=${target.port || 5432} dbname=${db} user=${user}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      `pool_mode = ${poolMode}`,
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 1000',
      'ignore_startup_parameters = extra_float_digits,options',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawnService('pgbouncer', [ini]);
  let output = '';
  let exited: string | undefined;
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  child.on('exit', (code, signal) => (exited = `pgbouncer exited (${code ?? signal}):\n${output}${readLog(dir)}`));
  child.on('error', (error) => (exited = `pgbouncer could not start: ${error.message}`));
  try {
    await waitForPort(port, 20_000, () => exited);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${db}`,
    port,
    poolSize,
    async stop() {
      if (exited === undefined) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await gone;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readLog(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8');
  } catch {
    return '';
  }
}
