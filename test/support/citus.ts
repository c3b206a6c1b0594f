import { Sequelize, type Options } from 'sequelize';
import * as dialects from '../../lib/dialects';

/**
 * A Citus coordinator to run against (coordinator + workers, schema-based
 * sharding). Citus is not in Debian's packages, so CI has none: Citus tests
 * run when CITUS_URL is set and are skipped loudly otherwise.
 */
export const CITUS_URL = process.env.CITUS_URL || undefined;

/**
 * Shared suites (describeDialects titles) that cannot apply to a Citus
 * coordinator, with the reason; they run on plain PostgreSQL only. The
 * README ("Scale out with Citus") lists them too.
 */
export const NOT_ON_CITUS: ReadonlyMap<string, string> = new Map([
  ['on a PostgreSQL server without the extension', 'about a server without Citus; the coordinator has it'],
  ['apartment CLI: --distribute citus on PostgreSQL without the extension', 'about a server without Citus; the coordinator has it'],
  ['doctor on PostgreSQL: roles, search_path and poolers', 'its login role and PgBouncer are made on the plain PostgreSQL server'],
  ["drift under isolation: 'role'", 'its login role is made on the plain PostgreSQL server'],
]);

/** Sequelize instances on the coordinator: every Apartment on one gets `distribute: 'citus'`. */
const onCitus = new WeakSet<Sequelize>();

if (CITUS_URL) {
  // The shared suites write `new Apartment(d.sequelize(), options)`: on a
  // coordinator instance the adapter is the Citus one, as if they had said
  // `distribute: 'citus'` (test harness only).
  const adapterFor = dialects.adapterFor;
  (dialects as { adapterFor: typeof adapterFor }).adapterFor = (ctx, defaultSchema, distribute) =>
    adapterFor(ctx, defaultSchema, distribute ?? (onCitus.has(ctx.sequelize) ? 'citus' : undefined));
}

/** A Citus worker node, as `citus_get_active_worker_nodes()` names it. */
export interface CitusNode {
  host: string;
  port: number;
}

/** `fn` on a connection to each worker (the coordinator's URL with the worker's host and port), each closed after `fn`. */
export async function onEachWorker<T>(workers: readonly CitusNode[], fn: (worker: Sequelize) => Promise<T>): Promise<T[]> {
  return Promise.all(
    workers.map(async (node) => {
      const url = new URL(CITUS_URL as string);
      url.hostname = node.host;
      url.port = String(node.port);
      const worker = new Sequelize(url.toString(), { logging: false });
      try {
        return await fn(worker);
      } finally {
        await worker.close();
      }
    }),
  );
}

/** A Sequelize instance on the coordinator (close it when done). */
export function citusSequelize(options: Options = {}): Sequelize {
  if (!CITUS_URL) throw new Error('CITUS_URL is not set');
  const sequelize = new Sequelize(CITUS_URL, { logging: false, ...options });
  onCitus.add(sequelize);
  return sequelize;
}

let warned = false;

/** A suite that needs a Citus cluster: runs when CITUS_URL is set, skipped loudly otherwise (CI too: Citus cannot be installed there). */
export function describeCitus(title: string, suite: () => void): void {
  describe(`${title} [citus]`, function () {
    before(function () {
      if (CITUS_URL) return;
      if (!warned) {
        warned = true;
        console.warn('\n  !!! SKIPPING CITUS TESTS: CITUS_URL is not set (a Citus 12+ coordinator with 2 workers). See README "Scale out with Citus".\n');
      }
      this.skip();
    });
    suite();
  });
}
