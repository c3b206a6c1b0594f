/**
 * `sequelize-apartment/bullmq`: BullMQ 5/6 jobs that run in the tenant they were added in.
 * `bullmq` is an optional peer dependency.
 * @module sequelize-apartment/bullmq
 */
import type { Job, Processor, Queue } from 'bullmq';
import type { Apartment } from '../apartment';
import { ConfigurationError, CrossTenantError, NoTenantError, TenantSuspendedError, describeValue } from '../errors';
import { existenceCache } from '../http/existence-cache';
import { apartmentOption } from './guard';

/**
 * The one key of a job's data that carries its tenant: set by a queue
 * wrapped with `tenantQueue` when a job is added inside a tenant context,
 * read by a processor wrapped with `tenantProcessor`. Reserved: do not use
 * it for anything else.
 */
export const TENANT_DATA_KEY = 'sequelize-apartment:tenant';

const WRAPPED = Symbol.for('sequelize-apartment.bullmq-queue');

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The tenant key a job carries (`job.data[TENANT_DATA_KEY]`), or undefined. */
export function jobTenant(job: Pick<Job, 'data'>): string | undefined {
  const value = isRecord(job?.data) ? job.data[TENANT_DATA_KEY] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The job data with the tenant in context added (or as it is, outside a tenant context). */
function withTenant(apartment: Apartment, data: unknown, name: unknown): unknown {
  const tenant = apartment.current();
  if (tenant === undefined) return data;
  if (!isRecord(data)) {
    throw new ConfigurationError(
      `Expected the data of job ${describeValue(name)} to be an object, so it can carry tenant '${tenant}', got ${describeValue(data)}. Wrap the value: queue.add(name, { value }).`,
      { tenant },
    );
  }
  const carried = data[TENANT_DATA_KEY];
  if (carried !== undefined && carried !== tenant) {
    throw new CrossTenantError(
      `Job ${describeValue(name)} carries tenant ${describeValue(carried)} in its data but is added inside tenant '${tenant}'. Add it inside apartment.run(${describeValue(carried)}, ...), or remove \`${TENANT_DATA_KEY}\` from its data.`,
      { tenant, instanceTenant: String(carried) },
    );
  }
  return { ...data, [TENANT_DATA_KEY]: tenant };
}

/**
 * Makes `queue.add`, `queue.addBulk` and `queue.upsertJobScheduler` (the
 * template of a job scheduler) put the tenant in context (if any) into each
 * job's data under `TENANT_DATA_KEY`. Returns the same queue.
 * Jobs added outside a tenant context carry none (a `tenantProcessor`
 * refuses them in strict mode).
 *
 * @example
 * const emails = tenantQueue(apartment, new Queue('emails', { connection }));
 * await apartment.run('acme', () => emails.add('welcome', { userId: 7 })); // runs in acme
 */
export function tenantQueue<Q extends Pick<Queue, 'add' | 'addBulk'>>(apartment: Apartment, queue: Q): Q {
  const checked = apartmentOption(apartment, 'tenantQueue');
  if (!queue || typeof queue.add !== 'function' || typeof queue.addBulk !== 'function') {
    throw new ConfigurationError(`Expected a BullMQ Queue as the second argument of tenantQueue, got ${describeValue(queue)}.`);
  }
  if ((queue as any)[WRAPPED]) return queue;
  const add = queue.add.bind(queue);
  const addBulk = queue.addBulk.bind(queue);
  // Job schedulers (BullMQ 5.16+, the only repeatable jobs of BullMQ 6): the
  // jobs they produce are copies of the template, made later in Redis, so the
  // tenant goes into the template's data.
  const upsert = typeof (queue as any).upsertJobScheduler === 'function' ? (queue as any).upsertJobScheduler.bind(queue) : undefined;
  if (upsert) {
    Object.defineProperty(queue, 'upsertJobScheduler', {
      configurable: true,
      writable: true,
      value: (id: string, repeat: unknown, template: { name?: string; data?: unknown; opts?: unknown } = {}) =>
        upsert(id, repeat, { ...template, data: withTenant(checked, template.data ?? {}, template.name ?? id) }),
    });
  }
  Object.defineProperties(queue, {
    [WRAPPED]: { value: true },
    add: { configurable: true, writable: true, value: (name: string, data: unknown, opts?: unknown) => add(name, withTenant(checked, data, name), opts as any) },
    addBulk: {
      configurable: true,
      writable: true,
      value: (jobs: Array<{ name: string; data: unknown; opts?: unknown }>) =>
        addBulk(jobs.map((job) => ({ ...job, data: withTenant(checked, job.data, job.name) })) as any),
    },
  });
  return queue;
}

/** Options of `tenantProcessor`. */
export interface TenantProcessorOptions {
  /**
   * Fail a job that carries no tenant with `NoTenantError` (before the
   * processor runs). With `false` such a job runs with no tenant in context.
   * @default the Apartment's `strict`
   */
  strict?: boolean;
  /**
   * How long (ms) a worker trusts what it last read of a tenant's state
   * (`suspendTenant`): a job of a tenant suspended by another process fails
   * within this long. `0` reads the catalog for every job.
   * @default 10000
   */
  ttl?: number;
}

/**
 * Wraps a BullMQ processor so that each job runs inside
 * `apartment.run(tenant, ...)` with the tenant its data carries (every
 * attempt: a retried job stays in its tenant). A job without one fails with
 * `NoTenantError` in strict mode. A job of a suspended tenant (closed or
 * read-only: a job cannot be told to only read) fails with
 * `TenantSuspendedError` before the processor runs, so BullMQ's `attempts`
 * and `backoff` retry it later, after `resumeTenant`.
 *
 * The job's data is typed `Record<string, unknown>` unless you say what it
 * is: `tenantProcessor<WelcomeJob>(apartment, ...)` (tenant jobs always carry
 * an object: the tenant is one of its keys).
 *
 * @example new Worker('emails', tenantProcessor(apartment, async (job) => sendWelcome(job.data.userId)), { connection })
 */
export function tenantProcessor<T = Record<string, unknown>, R = unknown, N extends string = string>(
  apartment: Apartment,
  processor: Processor<T, R, N>,
  options: TenantProcessorOptions = {},
): Processor<T, R, N> {
  const checked = apartmentOption(apartment, 'tenantProcessor');
  if (typeof processor !== 'function') {
    throw new ConfigurationError(`Expected a processor function as the second argument of tenantProcessor, got ${describeValue(processor)}. (A sandboxed processor file must call tenantProcessor itself.)`);
  }
  const strict = options.strict ?? checked.strict;
  if (typeof strict !== 'boolean') throw new ConfigurationError(`Expected \`strict\` to be a boolean, got ${describeValue(strict)}.`);
  const ttl = options.ttl ?? 10_000;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
    throw new ConfigurationError(`Expected \`ttl\` to be a number of milliseconds from 0 and up, got ${describeValue(ttl)}.`);
  }
  const states = existenceCache(checked);
  return async (job, ...rest) => {
    const tenant = jobTenant(job);
    if (tenant === undefined) {
      if (strict) {
        throw new NoTenantError(
          `Job '${String(job.name)}' (id ${String(job.id)}) of queue '${String(job.queueName)}' carries no tenant. Add it inside apartment.run(tenant, ...) to a queue wrapped by tenantQueue(apartment, queue), or pass { strict: false } to tenantProcessor to run such jobs without one.`,
        );
      }
      return checked.context.runWithout(() => processor(job, ...rest));
    }
    const ref = checked.names.ref(tenant);
    const state = await states.state(ref, ttl);
    if (state === 'closed' || state === 'read-only') {
      throw new TenantSuspendedError(
        `Job '${String(job.name)}' (id ${String(job.id)}) of queue '${String(job.queueName)}' was not run: tenant '${ref.key}' is suspended (${state}). It is retried per the job's attempts and backoff; resume the tenant with resumeTenant('${ref.key}').`,
        { tenant: ref.key, mode: state },
      );
    }
    return checked.run(tenant, () => processor(job, ...rest));
  };
}
