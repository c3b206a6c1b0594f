import type { Transaction } from 'sequelize';
import type { UmzugStorage } from 'umzug';
import { poolMax as poolSize, queryGeneratorOf } from '../seam/sequelize';
import type { TenantRef } from '../tenant';
import type { MigrationHost } from './host';

/** sequelize-cli's table of applied migrations; each tenant has its own. */
export const META_TABLE = 'SequelizeMeta';
/** sequelize-cli's table of applied seeders (its `seederStorage: 'sequelize'`), same shape; each tenant has its own. */
export const DATA_TABLE = 'SequelizeData';

/**
 * Tenants per UNION ALL statement when reading the state of many tenants.
 * PostgreSQL's planning of a UNION ALL grows faster than its branches (one
 * statement over 1,000 tables plans in 104 ms, over 250 in 8.5, over 50 in
 * 0.9, warm): 50 is past the point where the round trips per statement
 * start to count. README "Very many tenants".
 */
export const STATE_CHUNK = 50;
/**
 * At most this many of those statements at once: the work is the server's
 * (planning, and building each table's cache entry the first time a backend
 * opens it), and two at once did better on a 2-core server than four.
 */
export const STATE_PARALLEL = 2;

function metaTable(host: MigrationHost, tenant: TenantRef, table: string): string {
  const queryGenerator = queryGeneratorOf(host.sequelize);
  return queryGenerator.quoteTable({ tableName: table, schema: tenant.name, delimiter: '.' });
}

/**
 * umzug storage in the tenant's own `SequelizeMeta` (or, for seeders,
 * `SequelizeData`) table, sequelize-cli's shape:
 * `name VARCHAR(255) NOT NULL UNIQUE PRIMARY KEY`, on the run's transaction
 * when there is one. The table is created with the first logged step, so a
 * tenant without migrations stays empty.
 *
 * One storage serves one run under the tenant's migration lock, so nobody
 * else changes the table meanwhile: it reads the table once (umzug asks again
 * for every `up`/`down`) and keeps the list current itself. `fresh` (a schema
 * created in this run) skips the read: there is nothing to read. `exists`
 * (the run's catalog read found the table) skips the lookup before it.
 */
export class TenantMetaStorage implements UmzugStorage {
  readonly #host: MigrationHost;
  readonly #tenant: TenantRef;
  readonly #transaction: Transaction | undefined;
  readonly #table: string;
  #ensured = false;
  #executed: string[] | undefined;
  #exists: boolean;

  constructor(host: MigrationHost, tenant: TenantRef, transaction?: Transaction, table: string = META_TABLE, options: { fresh?: boolean; exists?: boolean } = {}) {
    this.#host = host;
    this.#tenant = tenant;
    this.#transaction = transaction;
    this.#table = table;
    if (options.fresh) this.#executed = [];
    this.#exists = options.exists === true;
  }

  #query(sql: string, replacements: unknown[], type: 'SELECT' | 'RAW'): Promise<any> {
    return this.#host.context.run(this.#tenant, () =>
      this.#host.sequelize.query(sql, { replacements, type, raw: true, transaction: this.#transaction } as any),
    );
  }

  async #ensure(): Promise<void> {
    if (this.#ensured) return;
    const q = (name: string) => queryGeneratorOf(this.#host.sequelize).quoteIdentifier(name, true);
    const table = metaTable(this.#host, this.#tenant, this.#table);
    await this.#query(`CREATE TABLE IF NOT EXISTS ${table} (${q('name')} VARCHAR(255) NOT NULL UNIQUE, PRIMARY KEY (${q('name')}))`, [], 'RAW');
    // isolation: 'role': the tenant role owns it; status reads of every tenant run without one.
    await this.#host.adapter.roles?.readableByApp(this.#tenant, table, this.#transaction ? { transaction: this.#transaction } : {});
    this.#ensured = true;
  }

  async executed(): Promise<string[]> {
    if (this.#executed === undefined) {
      // A direct catalog lookup: its cost does not grow with the number of tenants.
      if (!this.#exists && !(await this.#host.adapter.tableExists(this.#tenant.name, this.#table, { transaction: this.#transaction }))) {
        this.#executed = [];
      } else {
        this.#ensured = true;
        const rows = await this.#query(`SELECT name FROM ${metaTable(this.#host, this.#tenant, this.#table)} ORDER BY name`, [], 'SELECT');
        this.#executed = (rows as Array<{ name: string }>).map((row) => row.name);
      }
    }
    return [...this.#executed];
  }

  async logMigration({ name }: { name: string }): Promise<void> {
    await this.#ensure();
    await this.#query(`INSERT INTO ${metaTable(this.#host, this.#tenant, this.#table)} (name) VALUES (?)`, [name], 'RAW');
    if (this.#executed && !this.#executed.includes(name)) this.#executed = [...this.#executed, name].sort();
  }

  async unlogMigration({ name }: { name: string }): Promise<void> {
    await this.#ensure();
    await this.#query(`DELETE FROM ${metaTable(this.#host, this.#tenant, this.#table)} WHERE name = ?`, [name], 'RAW');
    if (this.#executed) this.#executed = this.#executed.filter((executed) => executed !== name);
  }
}

/**
 * The applied migrations of many tenants in a few statements: one catalog
 * query for the tenants that have a `SequelizeMeta` table, then UNION ALL
 * reads of up to `STATE_CHUNK` tenants each, `STATE_PARALLEL` at once.
 * Tenants without the table have none.
 */
export async function readExecuted(host: MigrationHost, tenants: readonly TenantRef[], table: string = META_TABLE): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for (const tenant of tenants) result.set(tenant.name, []);
  if (tenants.length === 0) return result;
  const withTable = new Set(await host.adapter.schemasWithTable(host.names.prefix, table));
  const targets = tenants.filter((tenant) => withTable.has(tenant.name));
  const sequelize = host.sequelize as any;
  const chunks: TenantRef[][] = [];
  for (let start = 0; start < targets.length; start += STATE_CHUNK) chunks.push(targets.slice(start, start + STATE_CHUNK));
  const readChunk = async (chunk: TenantRef[], lane: number) => {
    const sql = chunk
      .map((tenant) => `SELECT ${sequelize.escape(tenant.name)} AS tenant_schema, name FROM ${metaTable(host, tenant, table)}`)
      .join(' UNION ALL ');
    let rows: Array<{ tenant_schema: string; name: string }>;
    try {
      rows = await host.context.runOnLane(lane, () => sequelize.query(sql, { type: 'SELECT', raw: true }));
    } catch {
      // A tenant dropped since the catalog query: read this chunk one by one.
      rows = [];
      for (const tenant of chunk) {
        const names = await new TenantMetaStorage(host, tenant, undefined, table).executed().catch(() => []);
        for (const name of names) rows.push({ tenant_schema: tenant.name, name });
      }
    }
    for (const row of rows) result.get(row.tenant_schema)?.push(row.name);
  };
  // Chunks on several pooled connections at once (one spare for the app): each
  // statement opens its tenants' tables, which is server work that parallelises.
  // Lane k reads chunks k, k + lanes, ...: the same chunks every call, and with
  // tenant-affine connections on the connection that read them last, whose
  // backend has their tables cached (a warm call costs about half a cold one).
  const poolMax = poolSize(sequelize);
  const lanes = Math.max(1, Math.min(STATE_PARALLEL, poolMax - 1, chunks.length));
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < chunks.length; i += lanes) await readChunk(chunks[i]!, lane);
    }),
  );
  for (const names of result.values()) names.sort();
  return result;
}
