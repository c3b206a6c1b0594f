import type { Model, ModelStatic } from 'sequelize';
import type { ClusterOperations, DialectAdapter, NodeAddress } from './dialects/contract';
import { ApartmentError, ConfigurationError, describeValue } from './errors';
import type { Tenant, TenantNames, TenantRef } from './tenant';

export type { NodeAddress } from './dialects/contract';

/** Options of `apartment.moveTenant`. */
export interface MoveOptions extends NodeAddress {
  /**
   * How Citus copies the tenant's shards (`shard_transfer_mode`):
   * `'auto'` (logical replication when every table has a replica identity,
   * else an error), `'force_logical'`, or `'block_writes'`.
   * @default 'auto'
   */
  mode?: 'auto' | 'force_logical' | 'block_writes';
}

/** One tenant in `apartment.citus.distributeAll()`'s report. */
export interface DistributeResult {
  tenant: string;
  schema: string;
  /** false when Citus refused this tenant (see `error`); the others go on. */
  ok: boolean;
  /** true: distributed now; false: it was distributed already (or it failed). */
  distributed: boolean;
  /** Why it failed, when `ok` is false. */
  error?: ApartmentError;
}

/** What `apartment.moveTenant` did. */
export interface MoveResult {
  tenant: string;
  schema: string;
  /** The node it was on. */
  from: NodeAddress;
  /** The node it is on now. */
  to: NodeAddress;
  mode: NonNullable<MoveOptions['mode']>;
  /** false: it was on `to` already, nothing moved. */
  moved: boolean;
}

const MODES = new Set(['auto', 'force_logical', 'block_writes']);

/** What `apartment.citus` needs from its Apartment. */
export interface ClusterHost {
  readonly adapter: DialectAdapter;
  readonly names: TenantNames;
  tenants(): Promise<string[]>;
}

/**
 * `apartment.citus`: the Citus-only operations (`distribute: 'citus'`).
 * On any other set-up every call throws `ConfigurationError`.
 */
export class CitusOperations {
  readonly #host: ClusterHost;

  /** @internal Made by the Apartment: `apartment.citus`. */
  constructor(host: ClusterHost) {
    this.#host = host;
  }

  /** @internal The adapter's cluster operations, or a ConfigurationError naming the option. */
  ops(what: string, tenant?: TenantRef): ClusterOperations {
    const cluster = this.#host.adapter.cluster;
    if (!cluster) {
      throw new ConfigurationError(
        `${what} needs a Citus cluster: create the Apartment with \`distribute: 'citus'\` on a Sequelize instance connected to the Citus coordinator.`,
        { tenant: tenant?.key },
      );
    }
    return cluster;
  }

  /**
   * Makes a shared table a Citus reference table (copied to every node), so
   * tenant tables may have foreign keys to it. Idempotent.
   * @returns true when it was made one now, false when it already was one
   * @example await apartment.citus.reference(Account) // or 'accounts'
   */
  async reference(table: ModelStatic<Model> | string): Promise<boolean> {
    const ops = this.ops('apartment.citus.reference()');
    const { defaultSchema } = this.#host.adapter;
    if (typeof table === 'string' && table !== '') return ops.reference({ tableName: table, schema: defaultSchema });
    const model = table as any;
    if (typeof model?.getTableName !== 'function') {
      throw new ConfigurationError(`Expected a model or a table name, got ${describeValue(table)}.`);
    }
    const name = model.getTableName();
    return ops.reference(
      typeof name === 'string' ? { tableName: name, schema: defaultSchema } : { tableName: name.tableName, schema: model._schema || defaultSchema },
    );
  }

  /**
   * Distributes an existing tenant's schema (`citus_schema_distribute`):
   * turning `distribute: 'citus'` on for tenants created before. Idempotent.
   * @returns true when it was distributed now, false when it already was
   * @throws TenantNotFoundError
   */
  async distribute(tenant: Tenant): Promise<boolean> {
    const ref = this.#host.names.ref(tenant);
    return this.ops('apartment.citus.distribute()', ref).distribute(ref);
  }

  /**
   * Distributes every tenant not distributed yet, one at a time; `onProgress`
   * after each. Like `migrateAll`, a tenant Citus refuses is reported
   * (`ok: false`, `error`) and the others go on; a server without Citus throws.
   * @example const report = await apartment.citus.distributeAll({ onProgress: (r) => console.log(r.tenant, r.ok) })
   */
  async distributeAll(options: { onProgress?(result: DistributeResult): void } = {}): Promise<DistributeResult[]> {
    const ops = this.ops('apartment.citus.distributeAll()');
    await ops.ready();
    const results: DistributeResult[] = [];
    for (const key of await this.#host.tenants()) {
      const ref = this.#host.names.ref(key);
      let result: DistributeResult;
      try {
        result = { tenant: ref.key, schema: ref.name, ok: true, distributed: await ops.distribute(ref) };
      } catch (error) {
        if (!(error instanceof ApartmentError)) throw error;
        result = { tenant: ref.key, schema: ref.name, ok: false, distributed: false, error };
      }
      results.push(result);
      options.onProgress?.(result);
    }
    return results;
  }
}

/** Checks `moveTenant`'s target before any SQL. */
export function checkMove(options: unknown, tenant: TenantRef): Required<MoveOptions> {
  const o = options as MoveOptions | undefined;
  if (!o || typeof o !== 'object' || typeof o.host !== 'string' || o.host === '') {
    throw new ConfigurationError(`Expected \`host\` of the node to move tenant '${tenant.key}' to, got ${describeValue(o?.host)}. Example: moveTenant('${tenant.key}', { host: '10.0.0.2', port: 5432 })`, {
      tenant: tenant.key,
    });
  }
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) {
    throw new ConfigurationError(`Expected \`port\` to be a number from 1 to 65535, got ${describeValue(o.port)}.`, { tenant: tenant.key });
  }
  const mode = o.mode ?? 'auto';
  if (!MODES.has(mode)) {
    throw new ConfigurationError(`Expected \`mode\` to be 'auto', 'force_logical' or 'block_writes', got ${describeValue(mode)}.`, { tenant: tenant.key });
  }
  return { host: o.host, port: o.port, mode };
}
