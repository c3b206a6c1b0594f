import type { Transaction } from 'sequelize';
import { ConfigurationError } from '../errors';
import type { TenantRef } from '../tenant';
import type { AdapterContext, ClusterOperations, NodeAddress } from './contract';
import { PostgresAdapter } from './postgres';
import { splitStatements } from './statements';

/** Statements Citus may forward to its workers as the client's text: they must arrive alone. */
const DDL = /^\s*(?:CREATE|ALTER|DROP|COMMENT|GRANT|REVOKE|TRUNCATE|REINDEX)\b/i;

/** The oldest Citus with schema-based sharding. */
const MIN_MAJOR = 12;

/**
 * Citus (12+) schema-based sharding over PostgreSQL: every tenant schema is
 * a distributed schema, a colocation group that lives on one worker node.
 * Queries route exactly as on PostgreSQL (qualified tables, `search_path`);
 * what differs is here:
 * - schemas are created distributed, in their creation transaction;
 * - tenant DDL reaches the server one statement per message (Citus forwards
 *   DDL text to the workers over a protocol that takes one statement), so it
 *   never carries the search_path prefix and multi-statement
 *   query-generator output is split;
 * - create and drop of one tenant are serialised by its migration lock, so
 *   two processes dropping it get one success and one `TenantNotFoundError`
 *   instead of a distributed deadlock;
 * - placement, moves, reference tables and distributing existing schemas.
 */
export class CitusAdapter extends PostgresAdapter implements ClusterOperations {
  override readonly cluster: ClusterOperations = this;
  #checked: Promise<void> | undefined;

  constructor(ctx: AdapterContext, defaultSchema?: string) {
    super(ctx, defaultSchema);
    if (this.isolation === 'role') {
      // Citus runs a tenant's statements on its worker over connections it
      // opens as the current user: under SET ROLE that is the NOLOGIN tenant
      // role, which cannot log in there, and tenant DDL must reach the
      // coordinator alone, without the SET LOCAL prefix (README: Defense in depth).
      throw new ConfigurationError(
        "isolation: 'role' is not supported with `distribute: 'citus'`: Citus opens its worker connections as the current user, which under SET ROLE is a NOLOGIN tenant role. Remove one of the two options (isolation on plain PostgreSQL, or Citus with routing alone).",
      );
    }
  }

  /**
   * Refuses (ConfigurationError) a server without Citus 12+; checked once, on
   * first use (on `transaction`'s connection when given: a pool of one has no other).
   */
  ready(transaction?: Transaction): Promise<void> {
    this.#checked ??= this.admin("SELECT extversion AS name FROM pg_catalog.pg_extension WHERE extname = 'citus'", { transaction }).then(
      ([rows]: [Array<{ name: string }>]) => {
        const version = rows[0]?.name;
        if (version === undefined || Number.parseInt(version, 10) < MIN_MAJOR) {
          this.#checked = undefined;
          throw new ConfigurationError(
            `\`distribute: 'citus'\` needs the Citus extension (${MIN_MAJOR} or newer) in database "${this.sequelize.config.database}", ${version === undefined ? 'which does not have it' : `which has Citus ${version}`}. Run CREATE EXTENSION citus on the coordinator, or drop the \`distribute\` option.`,
          );
        }
      },
    );
    return this.#checked;
  }

  override async create(tenant: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    const inside = async (transaction: Transaction) => {
      await this.ready(transaction);
      await this.admin('SET LOCAL citus.enable_schema_based_sharding TO on', { transaction });
      await super.create(tenant, { transaction });
    };
    if (options.transaction) return inside(options.transaction);
    await this.ctx.unrouted(() => this.sequelize.transaction(inside));
  }

  override async drop(tenant: TenantRef, options: { transaction?: Transaction } = {}): Promise<void> {
    if (options.transaction) return super.drop(tenant, options);
    // Two DROP SCHEMA of one distributed schema deadlock across nodes: take turns.
    await this.withLock(tenant.name, (transaction) => super.drop(tenant, { transaction }));
  }

  protected override sendsAlone(sql: string): boolean {
    return DDL.test(sql);
  }

  override splitStatements(sql: string, tenant: TenantRef | undefined): string[] | undefined {
    if (!tenant || !sql.includes(';') || !DDL.test(sql)) return undefined;
    const parts = splitStatements(sql);
    return parts.length > 1 ? parts : undefined;
  }

  async placement(tenant: TenantRef): Promise<NodeAddress | undefined> {
    const found = (await this.#placements('s.schemaid = to_regnamespace(?)', [tenant.name])).get(tenant.name);
    if (found === undefined && !(await this.exists(tenant))) throw this.notFound(tenant, undefined);
    return found;
  }

  async placements(prefix: string): Promise<Map<string, NodeAddress | undefined>> {
    return this.#placements('left(ns.nspname, ?) = ?', [prefix.length, prefix]);
  }

  async #placements(where: string, replacements: unknown[]): Promise<Map<string, NodeAddress | undefined>> {
    await this.ready();
    // A distributed schema is one colocation group: all its shards share one placement.
    const [rows] = await this.admin(
      `SELECT ns.nspname AS name, node.nodename AS host, node.nodeport AS port
         FROM pg_dist_schema s
         JOIN pg_catalog.pg_namespace ns ON ns.oid = s.schemaid
         LEFT JOIN LATERAL (
           SELECT n.nodename, n.nodeport
             FROM pg_dist_partition p
             JOIN pg_dist_shard sh ON sh.logicalrelid = p.logicalrelid
             JOIN pg_dist_placement pl ON pl.shardid = sh.shardid
             JOIN pg_dist_node n ON n.groupid = pl.groupid
            WHERE p.colocationid = s.colocationid
            LIMIT 1
         ) node ON true
        WHERE ${where}
        ORDER BY ns.nspname`,
      { replacements },
    );
    const found = new Map<string, NodeAddress | undefined>();
    for (const row of rows as Array<{ name: string; host: string | null; port: number | null }>) {
      found.set(row.name, row.host === null ? undefined : { host: row.host, port: Number(row.port) });
    }
    return found;
  }

  async move(tenant: TenantRef, target: NodeAddress, mode: string): Promise<{ from: NodeAddress; moved: boolean }> {
    await this.ready();
    if (!(await this.exists(tenant))) {
      throw this.notFound(tenant, undefined);
    }
    const [node] = await this.names('SELECT nodename AS name FROM pg_dist_node WHERE nodename = ? AND nodeport = ? AND isactive', [target.host, target.port]);
    if (node === undefined) {
      throw new ConfigurationError(
        `There is no active Citus node ${target.host}:${target.port} to move tenant '${tenant.key}' to. List the nodes with SELECT * FROM citus_get_active_worker_nodes(), or add it with citus_add_node().`,
        { tenant: tenant.key },
      );
    }
    const from = await this.placement(tenant);
    if (from === undefined) {
      throw new ConfigurationError(
        `Tenant '${tenant.key}' has no distributed tables yet, so there is nothing to move. Run its migrations first (apartment.migrateTenant('${tenant.key}')), or distribute it with apartment.citus.distribute('${tenant.key}').`,
        { tenant: tenant.key },
      );
    }
    // Where it is already: done (Citus itself refuses "cannot move shard to the same node").
    if (from.host === target.host && from.port === target.port) return { from, moved: false };
    if (mode !== 'block_writes') await this.#refuseAsyncCommit(tenant, from);
    await this.admin('SELECT citus_schema_move(?::regnamespace, ?, ?, ?::citus.shard_transfer_mode)', {
      replacements: [tenant.name, target.host, target.port, mode],
    }).catch((error: unknown) => {
      throw this.#refused(error, tenant, `move tenant '${tenant.key}' ("${tenant.name}") to ${target.host}:${target.port}`,
        `It stays on ${from.host}:${from.port}. Fix what Citus names (mode 'block_writes' needs no replica identity), then call apartment.moveTenant('${tenant.key}', { host, port, mode }) again.`);
    });
    return { from, moved: true };
  }

  /**
   * A logical move (auto, force_logical) catches up from the source's WAL;
   * measured on Citus 13.2.2, writes acknowledged under `synchronous_commit =
   * off` during the move were missing on the target afterwards. Refuse
   * before anything moves while the source or the coordinator commits asynchronously.
   */
  async #refuseAsyncCommit(tenant: TenantRef, from: NodeAddress): Promise<void> {
    const [rows] = await this.admin(
      `SELECT n.nodename AS host, n.nodeport AS port, r.result AS value
         FROM run_command_on_all_nodes('SHOW synchronous_commit') r JOIN pg_dist_node n USING (nodeid)
        WHERE r.success AND r.result = 'off' AND (n.groupid = 0 OR (n.nodename = ? AND n.nodeport = ?))`,
      { replacements: [from.host, from.port] },
    );
    const off = rows as Array<{ host: string; port: number }>;
    if (off.length === 0) return;
    throw new ConfigurationError(
      `Moving tenant '${tenant.key}' with logical replication could lose writes: synchronous_commit is off on ${off.map((n) => `${n.host}:${n.port}`).join(' and ')}, and writes acknowledged that way during the move can be missing on the target afterwards. Nothing moved. Set synchronous_commit = on there, or move with mode 'block_writes' (apartment.moveTenant('${tenant.key}', { host, port, mode: 'block_writes' })).`,
      { tenant: tenant.key },
    );
  }

  /** A Citus refusal as a ConfigurationError that says what was tried, what Citus said, and what to do. */
  #refused(error: unknown, tenant: TenantRef, what: string, next: string): ConfigurationError {
    const e = error as { message?: string; original?: { detail?: string; hint?: string } };
    const said = [e.message, e.original?.detail, e.original?.hint].filter(Boolean).join('. ');
    return new ConfigurationError(`Citus could not ${what}: ${said}. ${next}`, { tenant: tenant.key, cause: error });
  }

  async reference(table: { tableName: string; schema: string }): Promise<boolean> {
    await this.ready();
    const qualified = `${this.quote(table.schema)}.${this.quote(table.tableName)}`;
    const [rows] = await this.admin(
      `SELECT to_regclass(?) IS NOT NULL AS found, (SELECT citus_table_type FROM citus_tables WHERE table_name = to_regclass(?)) AS type`,
      { replacements: [qualified, qualified] },
    );
    const { found, type } = (rows as Array<{ found: boolean; type: string | null }>)[0]!;
    if (!found) {
      throw new ConfigurationError(`There is no table ${qualified} to make a reference table. Create it first (run the shared migrations or sync the shared model).`);
    }
    if (type === 'reference') return false;
    if (type !== null) {
      throw new ConfigurationError(`${qualified} is already a ${type} table in Citus, so it cannot become a reference table. Undistribute it first (undistribute_table).`);
    }
    await this.admin('SELECT create_reference_table(?)', { replacements: [qualified] });
    return true;
  }

  async distribute(tenant: TenantRef): Promise<boolean> {
    await this.ready();
    if (!(await this.exists(tenant))) {
      throw this.notFound(tenant, undefined);
    }
    const [already] = await this.names('SELECT schemaid::regnamespace::text AS name FROM pg_dist_schema WHERE schemaid = to_regnamespace(?)', [tenant.name]);
    if (already !== undefined) return false;
    await this.withLock(tenant.name, (transaction) =>
      this.admin('SELECT citus_schema_distribute(?::regnamespace)', { replacements: [tenant.name], transaction }),
    ).catch((error: unknown) => {
      throw this.#refused(error, tenant, `distribute tenant '${tenant.key}' ("${tenant.name}")`,
        `Nothing changed. A table it references outside its schema must be a reference table first: pass its name to apartment.citus.reference(), then call apartment.citus.distribute('${tenant.key}') again.`);
    });
    return true;
  }
}
