import type { Sequelize } from 'sequelize';
import { Apartment } from '../../lib';
import { connect, type DialectName } from '../env';
import { eachLimit } from '../harness';

/** Statements of createTenant that change the catalog or the data (not locks, transactions or look-ups). */
const REPLAYABLE = /^\s*(CREATE|INSERT|ALTER)\b/i;

/**
 * The tenants of the fleet case, built by a fast path equal in catalog to
 * `createTenant`'s: the first tenant is created by `createTenant` itself with
 * its SQL recorded, and every other tenant replays that SQL with the schema
 * name swapped, 25 tenants per multi-statement query. Each tenant also gets
 * one widget row (id 1) for `findByPk`.
 */
export class FleetFixture {
  readonly dialect: DialectName;
  readonly prefix: string;
  readonly migrationsPath: string;
  #admin: Sequelize | undefined;

  constructor(dialect: DialectName, prefix: string, migrationsPath: string) {
    this.dialect = dialect;
    this.prefix = prefix;
    this.migrationsPath = migrationsPath;
  }

  get admin(): Sequelize {
    this.#admin ??= connect(this.dialect, {
      pool: { max: 2 },
      ...(this.dialect === 'mysql' ? { dialectOptions: { multipleStatements: true } } : {}),
    });
    return this.#admin;
  }

  key(i: number): string {
    return String(i + 1).padStart(5, '0');
  }

  q(identifier: string): string {
    return this.dialect === 'postgres' ? `"${identifier}"` : `\`${identifier}\``;
  }

  /** Names of the fleet's schemas/databases that exist now. */
  async existing(): Promise<Set<string>> {
    const [rows] = await this.admin.query(
      this.dialect === 'postgres'
        ? 'SELECT nspname AS name FROM pg_namespace WHERE left(nspname, ?) = ?'
        : 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ?',
      { replacements: [this.prefix.length, this.prefix] },
    );
    return new Set((rows as Array<{ name: string }>).map((r) => r.name));
  }

  /** Makes sure tenants 1..count exist (reusing those left by an earlier run); returns their keys. */
  async build(count: number, log: (message: string) => void): Promise<string[]> {
    const keys = Array.from({ length: count }, (_, i) => this.key(i));
    const have = await this.existing();
    const template = this.prefix + keys[0];
    const statements = await this.#record(template, have.has(template));
    const missing = keys.slice(1).filter((key) => !have.has(this.prefix + key));
    if (missing.length > 0) log(`building ${missing.length} tenants by the fast path (${have.size} exist)`);
    const batches: string[][] = [];
    for (let i = 0; i < missing.length; i += 25) batches.push(missing.slice(i, i + 25));
    let done = 0;
    await eachLimit(batches, 2, async (batch) => {
      const sql = batch.map((key) => this.#replay(statements, template, this.prefix + key)).join('\n');
      await this.admin.query(sql, { raw: true });
      done += batch.length;
      if (done % 1000 < 25) log(`  ${done}/${missing.length}`);
    });
    return keys;
  }

  /** createTenant's SQL for `template` (created now when missing), plus the widget row. */
  async #record(template: string, exists: boolean): Promise<string[]> {
    const recorded: string[] = [];
    const sequelize = connect(this.dialect, {
      pool: { max: 2 },
      logging: (sql: string) => recorded.push(sql.replace(/^Executing \([^)]*\): /, '')),
    });
    try {
      const apartment = new Apartment(sequelize, { prefix: this.prefix, migrationsPath: this.migrationsPath });
      const key = template.slice(this.prefix.length);
      // Recorded on a throw-away tenant when the template exists already.
      const probe = exists ? `${key}x` : key;
      await apartment.dropTenant(probe).catch(() => undefined);
      recorded.length = 0;
      await apartment.createTenant(probe);
      const statements = recorded
        .filter((sql) => REPLAYABLE.test(sql))
        .map((sql) => sql.trim().replace(/;$/, '') + ';')
        .map((sql) => sql.split(this.q(this.prefix + probe)).join(this.q(template)));
      const now = this.dialect === 'postgres' ? 'now()' : 'NOW()';
      statements.push(`INSERT INTO ${this.q(template)}.${this.q('widgets')} (${this.q('name')}, ${this.q('createdAt')}, ${this.q('updatedAt')}) VALUES ('widget', ${now}, ${now});`);
      if (exists) await apartment.dropTenant(probe);
      else await this.admin.query(statements[statements.length - 1]!, { raw: true });
      return statements;
    } finally {
      await sequelize.close();
    }
  }

  #replay(statements: string[], template: string, name: string): string {
    return statements.map((sql) => sql.split(this.q(template)).join(this.q(name))).join('\n');
  }

  /** Drops every schema/database of the fleet. */
  async dropAll(log: (message: string) => void): Promise<void> {
    const names = [...(await this.existing())];
    if (names.length > 0) log(`dropping ${names.length} fleet tenants`);
    const batches: string[][] = [];
    for (let i = 0; i < names.length; i += 50) batches.push(names.slice(i, i + 50));
    await eachLimit(batches, 2, (batch) =>
      this.admin.query(
        batch.map((name) => (this.dialect === 'postgres' ? `DROP SCHEMA IF EXISTS ${this.q(name)} CASCADE;` : `DROP DATABASE IF EXISTS ${this.q(name)};`)).join('\n'),
        { raw: true },
      ),
    );
  }

  async close(): Promise<void> {
    await this.#admin?.close();
    this.#admin = undefined;
  }
}
