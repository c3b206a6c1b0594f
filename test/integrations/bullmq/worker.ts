/**
 * The worker process of bullmq.test.ts: its own Sequelize and Apartment,
 * a BullMQ Worker whose processor is wrapped by `tenantProcessor`. Each job
 * waits a random few ms, fails its first attempt when `data.failOnce`,
 * then creates a widget and returns where it ran. Sends 'ready' once the
 * worker runs; closes on 'close'.
 */
import type { Worker as WorkerClass } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataTypes, Sequelize } from 'sequelize';
import { Apartment } from 'sequelize-apartment';
import { tenantProcessor } from 'sequelize-apartment/bullmq';

export interface WorkerConfig {
  url: string;
  prefix: string;
  queue: string;
  /** BullMQ's Redis key prefix, unique per test run. */
  redisPrefix: string;
  concurrency: number;
  /** The BullMQ to load: `bullmq` (6) or `bullmq5` (an npm alias of bullmq@5). */
  module: string;
  /** tenantProcessor's `ttl`: how long the worker trusts a tenant's state. */
  ttl?: number;
}

export interface JobResult {
  tenant: string | null;
  owner: string | null;
  attempt: number;
  /** The tenant in context after the processor's awaits, in a timer callback bound with apartment.bind. */
  bound: string | null;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BULLMQ_WORKER ?? '{}') as WorkerConfig;
  const sequelize = new Sequelize(config.url, { logging: false, pool: { max: 5 } });
  const apartment = new Apartment(sequelize, { prefix: config.prefix });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker } = require(config.module) as { Worker: typeof WorkerClass };
  const Widget = sequelize.define('Widget', { name: DataTypes.STRING }, { tableName: 'widgets' });

  const worker = new Worker(
    config.queue,
    tenantProcessor(apartment, async (job): Promise<JobResult> => {
      await sleep(Math.floor(Math.random() * 10));
      if (job.data.failOnce && job.attemptsMade === 0) throw new Error(`first attempt of ${job.data.name} fails on purpose`);
      const widget = await Widget.create({ name: job.data.name });
      const bound = await new Promise<string | null>((resolve) => setTimeout(apartment.bind(() => resolve(apartment.current() ?? null)), 1));
      return { tenant: apartment.current() ?? null, owner: apartment.tenantOf(widget) ?? null, attempt: job.attemptsMade, bound };
    }, { ttl: config.ttl }),
    { connection: { host: '127.0.0.1', port: 6379 }, prefix: config.redisPrefix, concurrency: config.concurrency },
  );
  worker.on('error', (error) => process.send?.({ type: 'worker-error', message: String(error) }));
  await worker.waitUntilReady();
  process.on('message', async (message) => {
    if (message !== 'close') return;
    await worker.close();
    await sequelize.close();
    process.exit(0);
  });
  process.send!({ type: 'ready' });
}

main().catch((error) => {
  process.send?.({ error: (error as Error).stack ?? String(error) });
  process.exit(1);
});
