/**
 * One side of the instruction count (bench/cases/instructions.ts), run as a
 * child process under valgrind's callgrind. Every block of operations ends
 * in `os.getPriority()`, whose native function the parent starts callgrind
 * with `--dump-before` on: callgrind writes the instructions counted since
 * the previous dump to a file of its own, so each block is one file.
 *
 * Sides (`mode`): `floor` (plain Sequelize), `floor-als` (the floor inside
 * an `AsyncLocalStorage.run` per operation), `run` (`apartment.run` per
 * operation), `run5` (one `apartment.run` per 5 operations, a request's
 * worth) and `explicit` (`{ tenant }`, no `run`). The HTTP operation is
 * served (Express, one findByPk per request) and driven by the parent, which
 * is not counted: the parent asks for a `mark` (a dump) around its requests.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import * as os from 'node:os';
import { operations, open, serve, type SideConfig } from './worker';

export type CountedMode = 'floor' | 'floor-als' | 'run' | 'run5' | 'explicit';

export interface CountedConfig extends Omit<SideConfig, 'side' | 'http'> {
  mode: CountedMode;
}

export type CountedRequest = { type: 'block'; op: string; n: number } | { type: 'mark' } | { type: 'close' };

/** The worker's side that a mode runs as. */
export function sideOf(mode: CountedMode): SideConfig['side'] {
  return mode === 'run' || mode === 'run5' ? 'routed' : mode;
}

/** Operations per `apartment.run` of the `run5` side. */
export const REQUEST_OPS = 5;

async function main(config: CountedConfig): Promise<void> {
  const side: SideConfig = { ...config, side: sideOf(config.mode), http: 'express' };
  const { sequelize, m, apartment } = await open(side);
  const ops = operations(side, sequelize, m);
  const server = (await serve(side, m, apartment)) as import('node:http').Server;
  const als = new AsyncLocalStorage<object>();
  const store = {};
  const key = config.key;

  const block = async (name: string, n: number): Promise<void> => {
    const op = ops[name];
    if (!op) throw new Error(`bench counted side: unknown operation '${name}'`);
    if (config.mode === 'run') for (let i = 0; i < n; i++) await apartment.run(key, () => op(i));
    else if (config.mode === 'floor-als') for (let i = 0; i < n; i++) await als.run(store, () => op(i));
    else if (config.mode === 'run5') {
      for (let i = 0; i < n; i += REQUEST_OPS) {
        await apartment.run(key, async () => {
          for (let j = i; j < Math.min(n, i + REQUEST_OPS); j++) await op(j);
        });
      }
    } else for (let i = 0; i < n; i++) await op(i);
  };

  process.on('message', async (request: CountedRequest) => {
    try {
      if (request.type === 'block') await block(request.op, request.n);
      if (request.type === 'close') {
        await new Promise((resolve) => server.close(resolve));
        await sequelize.close();
        process.send!({ type: 'closed' }, () => process.exit(0));
        return;
      }
      // The dump: everything since the previous one is this block's.
      os.getPriority();
      process.send!({ type: 'done' });
    } catch (error) {
      process.send!({ type: 'failed', error: (error as Error).stack ?? String(error) });
    }
  });
  process.send!({ type: 'ready', node: process.version, port: (server.address() as import('node:net').AddressInfo).port });
}

if (require.main === module) {
  const config = JSON.parse(process.env.BENCH_COUNTED ?? '{}') as CountedConfig;
  main(config).catch((error) => {
    process.send?.({ type: 'failed', error: (error as Error).stack ?? String(error) });
    process.exit(1);
  });
}
