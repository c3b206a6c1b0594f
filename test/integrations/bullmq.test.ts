import { expect } from 'chai';
import * as bullmq6 from 'bullmq';
import type { Job, Queue, QueueEvents } from 'bullmq';
import * as path from 'node:path';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { Apartment, ConfigurationError, CrossTenantError, NoTenantError } from 'sequelize-apartment';
import { TENANT_DATA_KEY, jobTenant, tenantProcessor, tenantQueue } from 'sequelize-apartment/bullmq';
import { Child } from '../support/child';
import { describeDialects } from '../support/dialects';
import { widgetTenants } from './helpers';
import type { JobResult, WorkerConfig } from './bullmq/worker';

const WORKER = path.join(__dirname, 'bullmq', 'worker.js');
const REDIS = { host: '127.0.0.1', port: 6379 };

/** BullMQ 6 (`bullmq`) and BullMQ 5 (`bullmq5`, an npm alias of bullmq@5): the test and its worker process load the same one. */
const BULLMQS: Array<{ version: string; module: string; bullmq: typeof bullmq6 }> = [
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  { version: 'bullmq 5', module: 'bullmq5', bullmq: require('bullmq5') as typeof bullmq6 },
  { version: 'bullmq 6', module: 'bullmq', bullmq: bullmq6 },
];

describeDialects('bullmq helper', (d) => {
  for (const { version, module, bullmq } of BULLMQS) describe(version, () => {
    const { Queue, QueueEvents } = bullmq;
    let sequelize: Sequelize;
    let apartment: Apartment;
    let Widget: ModelStatic<Model>;
    // Redis is shared by every engineer and CI run: a key prefix of this run only, obliterated after.
    const redisPrefix = `apartment-test-${process.pid}-${Date.now().toString(36)}-${d.name}-${module}`;
    const queueName = 'jobs';
    let queue: Queue;
    let events: QueueEvents;
    let worker: Child;

    before(async function () {
      this.timeout(120_000);
      await d.dropAll('bq_');
      sequelize = d.sequelize();
      apartment = new Apartment(sequelize, { prefix: 'bq_', migrationsPath: false });
      Widget = await widgetTenants(apartment, sequelize);
      queue = tenantQueue(apartment, new Queue(queueName, { connection: REDIS, prefix: redisPrefix }));
      events = new QueueEvents(queueName, { connection: REDIS, prefix: redisPrefix });
      await events.waitUntilReady();
      events.setMaxListeners(1000); // one listener per awaited job
      queue.setMaxListeners(1000);
      const config: WorkerConfig = { url: d.url, prefix: 'bq_', queue: queueName, redisPrefix, concurrency: 16, module, ttl: 0 };
      worker = new Child(WORKER, { env: { BULLMQ_WORKER: JSON.stringify(config) } });
      await worker.message((m) => m?.type === 'ready');
    });
    after(async () => {
      await worker?.close();
      await events?.close();
      if (queue) {
        await queue.obliterate({ force: true });
        await queue.close();
      }
      await d.dropAll('bq_');
    });

    /** The job's outcome once the worker process is done with it: its return value, or its failure. */
    async function outcome(job: Job): Promise<{ result?: JobResult; failed?: string; stack?: string[] }> {
      try {
        return { result: await job.waitUntilFinished(events, 60_000) };
      } catch (error) {
        const failed = await queue.getJob(job.id!);
        return { failed: (error as Error).message, stack: failed?.stacktrace ?? undefined };
      }
    }

    it('jobs added in tenant A are processed in A while tenant B\'s run beside them (worker in another process, 16 at a time)', async () => {
      const run = Date.now().toString(36);
      const plan = Array.from({ length: 200 }, (_, i) => ({ tenant: i % 3 ? 'acme' : 'beta', name: `job-${run}-${i}` }));
      const jobs = await Promise.all(plan.map((p) => apartment.run(p.tenant, () => queue.add('widget', { name: p.name }))));
      for (const [i, job] of jobs.entries()) {
        expect(job.data).to.deep.equal({ name: plan[i].name, [TENANT_DATA_KEY]: plan[i].tenant });
        expect(jobTenant(job)).to.equal(plan[i].tenant);
      }
      const outcomes = await Promise.all(jobs.map(outcome));
      outcomes.forEach((o, i) => {
        expect(o.failed, o.stack?.join('\n')).to.equal(undefined);
        expect(o.result).to.deep.equal({ tenant: plan[i].tenant, owner: plan[i].tenant, attempt: 0, bound: plan[i].tenant });
      });
      for (const tenant of ['acme', 'beta']) {
        const names = await apartment.run(tenant, async () => (await Widget.findAll()).map((w) => String(w.get('name'))).filter((n) => n.startsWith(`job-${run}-`)));
        expect(names.sort()).to.deep.equal(plan.filter((p) => p.tenant === tenant).map((p) => p.name).sort());
      }
    });

    it('addBulk: each job carries the tenant it was added in', async () => {
      const run = Date.now().toString(36);
      const acme = await apartment.run('acme', () => queue.addBulk([{ name: 'widget', data: { name: `bulk-${run}-a` } }]));
      const beta = await apartment.run('beta', () => queue.addBulk([{ name: 'widget', data: { name: `bulk-${run}-b1` } }, { name: 'widget', data: { name: `bulk-${run}-b2` } }]));
      const results = await Promise.all([...acme, ...beta].map(outcome));
      expect(results.map((r) => r.result?.tenant)).to.deep.equal(['acme', 'beta', 'beta']);
    });

    it('a retried job runs again in its tenant', async () => {
      const run = Date.now().toString(36);
      const jobs = await Promise.all(
        ['acme', 'beta', 'acme', 'beta'].map((tenant, i) =>
          apartment.run(tenant, () => queue.add('widget', { name: `retry-${run}-${i}`, failOnce: true }, { attempts: 2 })),
        ),
      );
      const outcomes = await Promise.all(jobs.map(outcome));
      expect(outcomes.map((o) => o.result)).to.deep.equal(
        ['acme', 'beta', 'acme', 'beta'].map((tenant) => ({ tenant, owner: tenant, attempt: 1, bound: tenant })),
      );
    });

    it('a job added outside any tenant fails with NoTenantError (strict mode), before the processor runs', async () => {
      const run = Date.now().toString(36);
      const job = await queue.add('widget', { name: `orphan-${run}` });
      expect(job.data).to.deep.equal({ name: `orphan-${run}` });
      const o = await outcome(job);
      expect(o.failed).to.match(/carries no tenant/);
      expect(o.stack?.[0]).to.match(/^NoTenantError: Job 'widget' \(id \d+\) of queue 'jobs' carries no tenant\. Add it inside apartment\.run/);
      for (const tenant of ['acme', 'beta']) {
        expect(await apartment.run(tenant, () => Widget.count({ where: { name: `orphan-${run}` } }))).to.equal(0);
      }
    });

    it('a job scheduler upserted in a tenant produces jobs that run in that tenant', async () => {
      const run = Date.now().toString(36);
      const produced = new Promise<Job[]>((resolve) => {
        const jobs: Job[] = [];
        events.on('completed', async ({ jobId }) => {
          const job = await queue.getJob(jobId);
          if (job?.data?.name !== `scheduled-${run}`) return;
          jobs.push(job);
          if (jobs.length === 2) resolve(jobs);
        });
      });
      await apartment.run('beta', () => queue.upsertJobScheduler(`every-${run}`, { every: 200, limit: 2 }, { name: 'widget', data: { name: `scheduled-${run}` } }));
      const jobs = await produced;
      await queue.removeJobScheduler(`every-${run}`);
      expect(jobs.map((job) => job.returnvalue)).to.deep.equal([0, 0].map(() => ({ tenant: 'beta', owner: 'beta', attempt: 0, bound: 'beta' })));
      expect(await apartment.run('beta', () => Widget.count({ where: { name: `scheduled-${run}` } }))).to.equal(2);
      expect(await apartment.run('acme', () => Widget.count({ where: { name: `scheduled-${run}` } }))).to.equal(0);
    });

    it('a job of a suspended tenant (closed or read-only) fails with TenantSuspendedError before the processor runs; resumed, it runs', async () => {
      const run = Date.now().toString(36);
      try {
        for (const mode of ['closed', 'read-only'] as const) {
          await apartment.suspendTenant('beta', { mode });
          const job = await apartment.run('beta', () => queue.add('widget', { name: `suspended-${run}-${mode}` }));
          const o = await outcome(job);
          expect(o.stack?.[0]).to.match(new RegExp(`^TenantSuspendedError: Job 'widget' \\(id \\d+\\) of queue 'jobs' was not run: tenant 'beta' is suspended \\(${mode}\\)`));
        }
        const other = await apartment.run('acme', () => queue.add('widget', { name: `acme-${run}` }));
        expect((await outcome(other)).result?.tenant).to.equal('acme');
        await apartment.resumeTenant('beta');
        const resumed = await apartment.run('beta', () => queue.add('widget', { name: `resumed-${run}` }));
        expect((await outcome(resumed)).result?.tenant).to.equal('beta');
        const names = await apartment.run('beta', async () => (await Widget.findAll()).map((w) => String(w.get('name'))).filter((n) => n.includes(run)));
        expect(names).to.deep.equal([`resumed-${run}`]);
      } finally {
        await apartment.resumeTenant('beta');
      }
    });

    it('in-process checks: non-object data in a tenant, a conflicting carried tenant, bad arguments; strict: false runs without a tenant', async () => {
      await apartment.run('acme', async () => {
        let error: unknown;
        try {
          await queue.add('x', 'just a string' as any);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(ConfigurationError);
        error = undefined;
        try {
          await queue.add('x', { [TENANT_DATA_KEY]: 'beta' });
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(CrossTenantError);
      });
      expect(tenantQueue(apartment, queue)).to.equal(queue); // wrapping twice is a no-op
      expect(() => tenantQueue({} as any, queue)).to.throw(ConfigurationError);
      expect(() => tenantQueue(apartment, {} as any)).to.throw(ConfigurationError);
      expect(() => tenantProcessor(apartment, 'processor.js' as any)).to.throw(ConfigurationError);
      const fake = (data: unknown) => ({ data, name: 'x', id: '1', queueName: 'q' }) as unknown as Job;
      const seen = tenantProcessor(apartment, async () => apartment.current() ?? null);
      expect(await seen(fake({ [TENANT_DATA_KEY]: 'beta' }))).to.equal('beta');
      let error: unknown;
      try {
        await apartment.run('acme', () => seen(fake({})));
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(NoTenantError);
      const lax = tenantProcessor(apartment, async () => apartment.current() ?? null, { strict: false });
      expect(await apartment.run('acme', () => lax(fake({})))).to.equal(null);
    });
  });
});
