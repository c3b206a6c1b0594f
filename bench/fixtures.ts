import { Sequelize } from 'sequelize';
import { connect, type DialectName } from './env';
import { eachLimit } from './harness';
import { MigrationSets } from './migration-sets';

/**
 * Tenants the cases share within one run, built with a fast path (one
 * multi-statement SQL per batch) because building 2,000 tenants through
 * migrations would take most of the time budget. The tables match what the
 * base migration (`MigrationSets.BASE`) creates, and SequelizeMeta records it.
 */
export class Fixtures {
  readonly dialect: DialectName;
  readonly prefix: string;
  readonly sets = new MigrationSets();
  /** Folder with just the base migration: what the bulk tenants are "migrated" to. */
  readonly baseFolder: string;
  /** Another server than the dialect's (the Citus coordinator), and whether its schemas are made distributed. */
  readonly server: { url?: string; distributed?: boolean };
  #admin: Sequelize | undefined;
  #bulk = 0;
  #queryTenant = false;

  constructor(dialect: DialectName, prefix: string, server: { url?: string; distributed?: boolean } = {}) {
    this.dialect = dialect;
    this.prefix = prefix;
    this.server = server;
    this.baseFolder = this.sets.generate('base', 1);
  }

  /** A connection that accepts several statements per query. */
  get admin(): Sequelize {
    const options = {
      logging: false,
      pool: { max: 2 },
      ...(this.dialect === 'mysql' ? { dialectOptions: { multipleStatements: true } } : {}),
    } as const;
    this.#admin ??= this.server.url ? new Sequelize(this.server.url, options) : connect(this.dialect, options);
    return this.#admin;
  }

  q(identifier: string): string {
    return this.dialect === 'postgres' ? `"${identifier}"` : `\`${identifier}\``;
  }

  /** Prefix of the bulk tenants (keys '00001', ...). */
  get bulkPrefix(): string {
    return `${this.prefix}t_`;
  }

  bulkKey(i: number): string {
    return String(i + 1).padStart(5, '0');
  }

  bulkKeys(count: number): string[] {
    return Array.from({ length: count }, (_, i) => this.bulkKey(i));
  }

  /** Makes sure at least `count` bulk tenants exist (widgets with one row, SequelizeMeta at the base migration). */
  async bulk(count: number, log: (message: string) => void = () => undefined): Promise<string[]> {
    if (count > this.#bulk) {
      const keys = this.bulkKeys(count).slice(this.#bulk);
      log(`building ${keys.length} bulk tenants (fast path)`);
      const batches: string[][] = [];
      for (let i = 0; i < keys.length; i += 25) batches.push(keys.slice(i, i + 25));
      await eachLimit(batches, 2, (batch) =>
        this.admin.query(batch.map((key) => this.#bulkDDL(this.bulkPrefix + key)).join('\n'), { raw: true }),
      );
      this.#bulk = count;
    }
    return this.bulkKeys(count);
  }

  /** The schema/database the query-overhead case uses: widgets, tags, widget_tags with seed rows. */
  async queryTenant(): Promise<string> {
    const name = `${this.prefix}q_x`;
    if (!this.#queryTenant) {
      const s = this.q(name);
      const t = (table: string) => `${s}.${this.q(table)}`;
      const ts = this.#timestampColumns();
      const idColumn = this.dialect === 'postgres' ? '"id" SERIAL PRIMARY KEY' : '`id` INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY';
      const sql = [
        this.#createSchema(name),
        `CREATE TABLE ${t('widgets')} (${idColumn}, ${this.q('name')} VARCHAR(255), ${ts});`,
        `CREATE TABLE ${t('tags')} (${idColumn}, ${this.q('name')} VARCHAR(255), ${ts});`,
        `CREATE TABLE ${t('widget_tags')} (${this.q('widgetId')} INTEGER NOT NULL REFERENCES ${t('widgets')} (${this.q('id')}) ON DELETE CASCADE, ${this.q('tagId')} INTEGER NOT NULL REFERENCES ${t('tags')} (${this.q('id')}) ON DELETE CASCADE, ${ts}, PRIMARY KEY (${this.q('widgetId')}, ${this.q('tagId')}));`,
      ];
      for (let i = 1; i <= 10; i++) {
        sql.push(`INSERT INTO ${t('widgets')} (${this.q('name')}, ${this.q('createdAt')}, ${this.q('updatedAt')}) VALUES ('widget ${i}', ${this.#now()}, ${this.#now()});`);
        sql.push(`INSERT INTO ${t('tags')} (${this.q('name')}, ${this.q('createdAt')}, ${this.q('updatedAt')}) VALUES ('tag ${i}', ${this.#now()}, ${this.#now()});`);
      }
      for (let w = 1; w <= 10; w++) {
        for (const tag of [1, 2, 3]) {
          sql.push(`INSERT INTO ${t('widget_tags')} (${this.q('widgetId')}, ${this.q('tagId')}, ${this.q('createdAt')}, ${this.q('updatedAt')}) VALUES (${w}, ${((w + tag) % 10) + 1}, ${this.#now()}, ${this.#now()});`);
        }
      }
      await this.admin.query(sql.join('\n'), { raw: true });
      this.#queryTenant = true;
    }
    return name;
  }

  #now(): string {
    return this.dialect === 'postgres' ? 'now()' : 'NOW()';
  }

  #timestampColumns(): string {
    const type = this.dialect === 'postgres' ? 'TIMESTAMP WITH TIME ZONE' : 'DATETIME';
    return `${this.q('createdAt')} ${type} NOT NULL, ${this.q('updatedAt')} ${type} NOT NULL`;
  }

  #createSchema(name: string): string {
    // Citus: a distributed schema, as `distribute: 'citus'` makes them (the rest of the text is one implicit transaction).
    if (this.server.distributed) return `SET LOCAL citus.enable_schema_based_sharding TO on; CREATE SCHEMA ${this.q(name)};`;
    return this.dialect === 'postgres' ? `CREATE SCHEMA ${this.q(name)};` : `CREATE DATABASE ${this.q(name)};`;
  }

  #bulkDDL(name: string): string {
    const s = this.q(name);
    const idColumn = this.dialect === 'postgres' ? '"id" SERIAL PRIMARY KEY' : '`id` INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY';
    return [
      this.#createSchema(name),
      `CREATE TABLE ${s}.${this.q('widgets')} (${idColumn}, ${this.q('name')} VARCHAR(255), ${this.#timestampColumns()});`,
      `CREATE TABLE ${s}.${this.q('SequelizeMeta')} (${this.q('name')} VARCHAR(255) NOT NULL PRIMARY KEY);`,
      `INSERT INTO ${s}.${this.q('SequelizeMeta')} (${this.q('name')}) VALUES ('${MigrationSets.BASE}');`,
      `INSERT INTO ${s}.${this.q('widgets')} (${this.q('name')}, ${this.q('createdAt')}, ${this.q('updatedAt')}) VALUES ('widget', ${this.#now()}, ${this.#now()});`,
    ].join('\n');
  }

  /** Drops every schema/database that starts with the bench prefix. */
  async dropAll(log: (message: string) => void = () => undefined): Promise<void> {
    const [rows] = await this.admin.query(
      this.dialect === 'postgres'
        ? 'SELECT nspname AS name FROM pg_namespace WHERE left(nspname, ?) = ?'
        : 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ?',
      { replacements: [this.prefix.length, this.prefix] },
    );
    const names = (rows as Array<{ name: string }>).map((r) => r.name);
    if (names.length > 50) log(`dropping ${names.length} leftover ${this.prefix}* schemas`);
    const batches: string[][] = [];
    for (let i = 0; i < names.length; i += 50) batches.push(names.slice(i, i + 50));
    await eachLimit(batches, 2, (batch) =>
      this.admin.query(
        batch
          .map((name) => (this.dialect === 'postgres' ? `DROP SCHEMA IF EXISTS ${this.q(name)} CASCADE;` : `DROP DATABASE IF EXISTS ${this.q(name)};`))
          .join('\n'),
        { raw: true },
      ),
    );
    this.#bulk = 0;
    this.#queryTenant = false;
  }

  async close(): Promise<void> {
    await this.#admin?.close();
    this.#admin = undefined;
    this.sets.cleanup();
  }
}
