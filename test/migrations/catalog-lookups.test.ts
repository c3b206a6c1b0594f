import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sinon from 'sinon';
import type { Sequelize } from 'sequelize';
import { Apartment, MigrationError } from 'sequelize-apartment';
import { STATE_CHUNK, STATE_PARALLEL } from '../../lib/migrations/storage';
import { describeDialects } from '../support/dialects';
import { fixture } from '../support/paths';
import { Catalog } from './catalog';

/** A fresh migrations folder holding copies of the given fixture files. */
function folderWith(...files: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migcl-'));
  for (const file of files) fs.copyFileSync(file, path.join(dir, path.basename(file)));
  return dir;
}

/**
 * Per-tenant state reads are direct catalog lookups by name (pg_class joined
 * to pg_namespace on PostgreSQL), never a plan that grows with the number of
 * tenants (information_schema.tables scans every tenant's tables there), and
 * createTenant reads nothing it just created.
 */
/** Every statement `sequelize.query` is given until `stop()`: the spy proves what was (not) sent. */
function record(sequelize: Sequelize): { statements: string[]; calls: unknown[][]; stop(): void } {
  const spy = sinon.spy(sequelize, 'query');
  return {
    get statements() {
      return spy.getCalls().map((call) => String(call.args[0]));
    },
    /** Each call's arguments: the SQL and its options (replacements). */
    get calls() {
      return spy.getCalls().map((call) => call.args);
    },
    stop: () => spy.restore(),
  };
}

describeDialects('catalog lookups per tenant', (d) => {
  const prefix = 'migcl_';
  before(() => d.dropAll(prefix));
  after(() => d.dropAll(prefix));

  /** Statements that ask whether a tenant's SequelizeMeta exists (the name as a value, not as an identifier). */
  const metaLookups = (statements: string[]) => statements.filter((sql) => /'SequelizeMeta'|table_name\s*=\s*\?|relname\s*=\s*\?/i.test(sql));

  it('createTenant never asks whether the SequelizeMeta it is about to create exists', async () => {
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: fixture('migrations', 'basic') });
    const recording = record(sequelize);
    const result = await apartment.createTenant('fresh').finally(() => recording.stop());
    expect(result.ok).to.equal(true);
    expect(metaLookups(recording.statements), recording.statements.join('\n')).to.deep.equal([]);
    expect(await apartment.migrationStatus('fresh')).to.deep.equal({ executed: result.ok ? result.versions : [], pending: [] });
    expect(await d.tables(`${prefix}fresh`)).to.include('SequelizeMeta');
  });

  it('a migration run looks SequelizeMeta up once, by name in the catalog, and migrates a schema that has none', async () => {
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: fixture('migrations', 'basic') });
    // An existing, empty schema/database (say, made by hand): no SequelizeMeta yet.
    await sequelize.query(d.name === 'postgres' ? `CREATE SCHEMA ${d.q(`${prefix}bare`)}` : `CREATE DATABASE ${d.q(`${prefix}bare`)}`);
    const recording = record(sequelize);
    const result = await apartment.migrateTenant('bare').finally(() => recording.stop());
    expect(result.ok).to.equal(true);
    expect(result.ok && result.versions).to.have.length(3);
    const lookups = metaLookups(recording.statements);
    expect(lookups, recording.statements.join('\n')).to.have.length(1);
    if (d.name === 'postgres') {
      expect(recording.statements.filter((sql) => /information_schema/i.test(sql)), recording.statements.join('\n')).to.deep.equal([]);
      expect(lookups[0]).to.match(/pg_catalog\.pg_class/);
    }
    expect((await apartment.migrationStatus('bare')).pending).to.deep.equal([]);
    // Nothing pending: still one lookup, and no migration runs.
    const again = record(sequelize);
    const second = await apartment.migrateTenant('bare').finally(() => again.stop());
    expect(second.ok && second.versions).to.deep.equal([]);
    expect(metaLookups(again.statements)).to.have.length(1);
  });

  it("the query interface's tableExists and showAllTables in a tenant read the catalog by name", async () => {
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: fixture('migrations', 'basic') });
    await apartment.createTenant('qi');
    const qi = sequelize.getQueryInterface();
    const recording = record(sequelize);
    const [exists, missing, tables] = await apartment
      .run('qi', async () => [await qi.tableExists('migb_notes'), await qi.tableExists('nope'), (await qi.showAllTables()).map(String).sort()] as const)
      .finally(() => recording.stop());
    expect(exists).to.equal(true);
    expect(missing).to.equal(false);
    expect(tables).to.deep.equal((await d.tables(`${prefix}qi`)).sort());
    expect(tables).to.include.members(['migb_notes', 'SequelizeMeta']);
    if (d.name === 'postgres') expect(recording.statements.filter((sql) => /information_schema/i.test(sql))).to.deep.equal([]);
  });
});

/**
 * A fleet run costs round trips per tenant (10,000 of them at scale): the
 * run's one catalog read stands for each tenant's SequelizeMeta lookup, and
 * a step that a rollback of the whole lock's transaction undoes just as well
 * (the first of a tenant's run) takes no savepoint.
 */
describeDialects('round trips per tenant of a migration run', (d) => {
  const prefix = 'migrt_';
  const other = 'migru_';
  const BASIC = fixture('migrations', 'basic');
  const FAILING = fixture('migrations', 'failing');
  before(() => Promise.all([d.dropAll(prefix), d.dropAll(other)]));
  after(() => Promise.all([d.dropAll(prefix), d.dropAll(other)]));


  it('migrateAll looks no tenant\'s SequelizeMeta up (the run\'s catalog read found it) and runs the first migration of each tenant without a savepoint', async () => {
    const folder = folderWith(path.join(BASIC, '20260201000001-create-notes.js'));
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: folder });
    for (const key of ['a', 'b', 'c']) await apartment.createTenant(key);
    fs.copyFileSync(path.join(BASIC, '20260201000002-add-color.cjs'), path.join(folder, '20260201000002-add-color.cjs'));
    fs.copyFileSync(path.join(BASIC, '20260201000003-create-tags.mjs'), path.join(folder, '20260201000003-create-tags.mjs'));
    const recording = record(sequelize);
    const results = await apartment.migrateAll().finally(() => recording.stop());
    expect(results.map((r) => [r.tenant, r.ok, r.ok && r.versions])).to.deep.equal(
      ['a', 'b', 'c'].map((key) => [key, true, ['20260201000002-add-color.cjs', '20260201000003-create-tags.mjs']]),
    );
    const all = recording.statements.join('\n');
    // The one fleet read by table name (schemasWithTable), none per tenant.
    expect(recording.statements.filter((sql) => /'SequelizeMeta'|table_name\s*=\s*\?|relname\s*=\s*\?/i.test(sql)), all).to.have.length(1);
    expect(recording.statements.filter((sql) => /SELECT name FROM .*SequelizeMeta/.test(sql)), all).to.have.length(3);
    if (d.name === 'postgres') {
      // Two migrations per tenant: the second one in a savepoint, the first in the lock's transaction itself.
      expect(recording.statements.filter((sql) => /^\s*SAVEPOINT\b/i.test(sql)), all).to.have.length(3);
    }
    for (const key of ['a', 'b', 'c']) expect((await apartment.migrationStatus(key)).pending).to.deep.equal([]);
  });

  it('a failing first migration of a run leaves the tenant as it was; a failing later one keeps the ones before it', async () => {
    const catalog = new Catalog(d, d.sequelize());
    const folder = folderWith(path.join(FAILING, '20260301000001-create-ok.js'));
    await new Apartment(d.sequelize(), { prefix: other, migrationsPath: folder }).createTenant('first');
    await new Apartment(d.sequelize(), { prefix: other, migrationsPath: folderWith() }).createTenant('later');
    const apartment = new Apartment(d.sequelize(), { prefix: other, migrationsPath: FAILING });
    // 'first' is at create-ok, so half-done is the first migration of its run; 'later' runs create-ok first.
    const results = await apartment.migrateAll({ to: '20260301000002-half-done.js' });
    expect(results.map((r) => [r.tenant, r.ok, r.versions])).to.deep.equal([
      ['first', false, []],
      ['later', false, ['20260301000001-create-ok.js']],
    ]);
    for (const result of results) {
      expect(result.ok === false && (result.error as MigrationError)).to.be.instanceOf(MigrationError).and.include({ migration: '20260301000002-half-done.js' });
    }
    expect(await apartment.migrationStatus('first')).to.deep.equal({ executed: ['20260301000001-create-ok.js'], pending: ['20260301000002-half-done.js', '20260301000003-never.js'] });
    expect(await apartment.migrationStatus('later')).to.deep.equal({ executed: ['20260301000001-create-ok.js'], pending: ['20260301000002-half-done.js', '20260301000003-never.js'] });
    for (const key of ['first', 'later']) {
      const tables = await d.tables(`${other}${key}`);
      expect(tables, key).to.include('migf_ok');
      if (d.name === 'postgres') {
        // Nothing of the failed migration is left, with or without a savepoint around it.
        expect(tables, key).to.not.include('migf_partial');
        expect(await catalog.columns(`${other}${key}`, 'migf_ok'), key).to.deep.equal(['id']);
      }
    }
    // The lock's transaction ended: the tenant migrates again at once (to the end it fails the same way).
    const again = await apartment.migrateTenant('first', { to: '20260301000002-half-done.js' });
    expect(again.ok).to.equal(false);
  });
});

/**
 * Fleet state reads (migrationStatusAll, migrateAll's work list) open every
 * tenant's SequelizeMeta: in UNION ALL statements of STATE_CHUNK tenants,
 * STATE_PARALLEL at once, because PostgreSQL plans a long UNION ALL in more
 * than linear time (README "Very many tenants").
 */
describeDialects('state reads of many tenants', (d) => {
  const prefix = 'migsr_';
  const BASIC = fixture('migrations', 'basic');
  const FILES = fs.readdirSync(BASIC).sort();
  const count = 2 * STATE_CHUNK + 7;
  const key = (i: number) => `t${String(i).padStart(3, '0')}`;
  // Tenant i has applied (i mod 4) of the three migrations; every fifth has no SequelizeMeta.
  const applied = (i: number) => (i % 5 === 0 ? null : FILES.slice(0, i % 4));
  const withTable = Array.from({ length: count }, (_, i) => i).filter((i) => applied(i) !== null).length;
  /** Whether a statement is one of readExecuted's UNION ALL reads. */
  const isRead = (sql: string) => / UNION ALL |^SELECT .* AS tenant_schema, name FROM /.test(sql);

  before(async () => {
    await d.dropAll(prefix);
    // Built by hand, as a restore would.
    const sequelize = d.sequelize();
    for (let i = 0; i < count; i++) {
      const name = d.q(`${prefix}${key(i)}`);
      await sequelize.query(d.name === 'postgres' ? `CREATE SCHEMA ${name}` : `CREATE DATABASE ${name}`);
      const names = applied(i);
      if (names === null) continue;
      await sequelize.query(`CREATE TABLE ${name}.${d.q('SequelizeMeta')} (${d.q('name')} VARCHAR(255) NOT NULL PRIMARY KEY)`);
      if (names.length > 0) await sequelize.query(`INSERT INTO ${name}.${d.q('SequelizeMeta')} (${d.q('name')}) VALUES ${names.map((n) => `('${n}')`).join(', ')}`);
    }
  });
  after(() => d.dropAll(prefix));

  it(`migrationStatusAll reads ${2 * 50 + 7} tenants in statements of at most ${50} tenants, at most ${2} at once, each tenant its own state`, async () => {
    expect([STATE_CHUNK, STATE_PARALLEL]).to.deep.equal([50, 2]);
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: BASIC });
    // What each statement read, and how many were in flight at its start.
    const query = sequelize.query;
    const reads: Array<{ tenants: number; inFlight: number }> = [];
    let inFlight = 0;
    sequelize.query = async function (this: unknown, ...args: any[]) {
      const text = String(args[0]);
      const read = isRead(text);
      if (read) reads.push({ tenants: (text.match(/SequelizeMeta/g) ?? []).length, inFlight: ++inFlight });
      try {
        return await (query as any).apply(this, args);
      } finally {
        if (read) inFlight--;
      }
    } as typeof query;
    let status;
    try {
      status = await apartment.migrationStatusAll();
    } finally {
      sequelize.query = query;
    }
    expect(status.map((s) => [s.tenant, s.executed])).to.deep.equal(Array.from({ length: count }, (_, i) => [key(i), applied(i) ?? []]));
    expect(status.every((s) => s.pending.length === FILES.length - s.executed.length)).to.equal(true);
    expect(reads.reduce((sum, r) => sum + r.tenants, 0)).to.equal(withTable);
    expect(reads).to.have.length(Math.ceil(withTable / STATE_CHUNK));
    expect(Math.max(...reads.map((r) => r.tenants))).to.equal(STATE_CHUNK);
    expect(Math.max(...reads.map((r) => r.inFlight))).to.equal(STATE_PARALLEL);
  });

  it('with tenant-affine connections, each chunk is read on the connection that read it last time, whatever ran on the pool in between', async () => {
    const sequelize = d.sequelize({ pool: { max: 5 } });
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: BASIC });
    /** Which connection read which chunk (by the chunk's first tenant), in one migrationStatusAll. */
    const readers = async (): Promise<Map<string, unknown>> => {
      const seen = new Map<string, unknown>();
      const run = sinon.spy((sequelize as any).dialect.Query.prototype, 'run');
      try {
        await apartment.migrationStatusAll();
      } finally {
        run.restore();
      }
      for (const call of run.getCalls()) {
        const sql = String(call.args[0]);
        if (isRead(sql)) seen.set(/'([^']+)' AS tenant_schema/.exec(sql)![1]!, (call.thisValue as any).connection);
      }
      return seen;
    };
    // Two pooled connections open (the lanes of a call would otherwise share one when a read ends before a second connection is up).
    await Promise.all([0, 1].map(() => sequelize.transaction(async (transaction) => {
      await sequelize.query('SELECT 1', { transaction });
      await new Promise((resolve) => setTimeout(resolve, 50));
    })));
    const first = await readers();
    expect(first.size).to.equal(Math.ceil(withTable / STATE_CHUNK));
    expect(new Set(first.values()).size).to.equal(STATE_PARALLEL);
    // Other work on the pool in between: the idle connections come back in another order.
    const pool = (sequelize as any).connectionManager.pool;
    await apartment.run(key(1), () => sequelize.query('SELECT 1'));
    // ... and the one that read the first chunk is the last the pool would hand out.
    const firstReader = first.values().next().value;
    pool._availableObjects.sort((a: any, b: any) => Number(b.resource === firstReader) - Number(a.resource === firstReader));
    const second = await readers();
    expect([...second.keys()]).to.deep.equal([...first.keys()]);
    for (const [chunk, connection] of second) expect(connection === first.get(chunk), `chunk from ${chunk}`).to.equal(true);
  });
});

describeDialects(
  'foreign-key lookups of removeColumn stay in the tenant database',
  (d) => {
    const prefix = 'migfk_';
    before(() => d.dropAll(prefix));
    after(() => d.dropAll(prefix));

    it("removeColumn of a foreign-key column drops the key, asking only the tenant's database", async () => {
      const sequelize = d.sequelize();
      const apartment = new Apartment(sequelize, { prefix, migrationsPath: fixture('migrations', 'basic') });
      await apartment.createTenant('a');
      const qi = sequelize.getQueryInterface();
      const { DataTypes } = require('sequelize');
      const recording = record(sequelize);
      try {
        await apartment.run('a', async () => {
          await qi.createTable('owners', { id: { type: DataTypes.INTEGER, primaryKey: true } });
          await qi.createTable('pets', { id: { type: DataTypes.INTEGER, primaryKey: true }, ownerId: { type: DataTypes.INTEGER, references: { model: 'owners', key: 'id' } } });
          await qi.removeColumn('pets', 'ownerId');
        });
      } finally {
        recording.stop();
      }
      const lookups = recording.statements.filter((sql) => /KEY_COLUMN_USAGE/.test(sql) && /OR/.test(sql));
      expect(lookups).to.have.length.at.least(1);
      // A constant TABLE_SCHEMA in front of the OR: the server scans one database, not all of them.
      for (const sql of lookups) expect(sql).to.match(new RegExp(`WHERE TABLE_SCHEMA = '${prefix}a' AND \\(\\(`));
      const [keys] = await sequelize.query(
        "SELECT CONSTRAINT_NAME AS name FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'pets' AND REFERENCED_TABLE_NAME IS NOT NULL",
        { replacements: [`${prefix}a`] },
      );
      expect(keys).to.deep.equal([]);
      const [columns] = await sequelize.query("SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'pets'", { replacements: [`${prefix}a`] });
      expect((columns as Array<{ name: string }>).map((c) => c.name)).to.deep.equal(['id']);
    });
  },
  ['mysql'],
);

describeDialects(
  'listing tenants and spares reads an index range of pg_namespace',
  (d) => {
    const prefix = 'migls_';
    before(() => d.dropAll(prefix));
    after(() => d.dropAll(prefix));

    /**
     * Every createTenant asks whether warm spares exist, and tenants() lists
     * the prefix: with `left(nspname, n) = prefix` both read every schema of
     * the server (10,000 tenants: ~5 ms each), with a name range they read
     * the matching entries of pg_namespace_nspname_index alone.
     */
    it('the pg_namespace listings of createTenant and tenants() can use pg_namespace_nspname_index, and list exactly the prefix', async () => {
      const sequelize = d.sequelize();
      const apartment = new Apartment(sequelize, { prefix, migrationsPath: false });
      // Names around the prefix's range: one character short, the next character after '_', a longer lookalike.
      for (const name of ['migls', 'migls`x', 'migls-x', 'migls_a', 'migls_b']) await sequelize.query(`CREATE SCHEMA ${d.q(name)}`);
      const recording = record(sequelize);
      try {
        await apartment.createTenant('c');
        expect(await apartment.tenants()).to.deep.equal(['a', 'b', 'c']);
      } finally {
        recording.stop();
        for (const name of ['migls', 'migls`x', 'migls-x']) await sequelize.query(`DROP SCHEMA ${d.q(name)}`);
      }
      const listings = recording.calls.filter(([sql]) => /FROM pg_catalog\.pg_namespace/.test(String(sql)) && !/nspname = \?/.test(String(sql)));
      expect(listings.length, 'createTenant looks for spares, tenants() lists the prefix').to.be.at.least(2);
      for (const [sql, options] of listings) {
        // With sequential scans priced out, a query that can use the index says so in its plan: the
        // index bounds the scan (an Index Cond), rather than being read whole for its order with a Filter.
        const plan = await sequelize.transaction(async (transaction) => {
          await sequelize.query('SET LOCAL enable_seqscan = off', { transaction });
          const [rows] = await sequelize.query(`EXPLAIN ${sql}`, { ...(options as object), transaction, type: undefined } as any);
          return (rows as unknown as Array<Record<string, string>>).map((row) => Object.values(row)[0]).join('\n');
        });
        expect(plan, String(sql)).to.match(/Index (Only )?Scan using pg_namespace_nspname_index/);
        expect(plan, String(sql)).to.match(/Index Cond: .*nspname >= /);
        expect(plan, String(sql)).not.to.match(/Filter:/);
      }
    });
  },
  ['postgres'],
);
