import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { DataTypes, Op, QueryTypes, Sequelize, type Model, type ModelStatic } from 'sequelize';
import { Apartment, ArchiveError, CrossTenantError, TenantExistsError, TenantNotFoundError, ARCHIVE_VERSION } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { createLoginRole, type LoginRole } from '../support/login-role';
import { postgresBin, startPrivatePostgres, type PrivateServer } from '../support/private-servers';
import { archiveMigrations } from './migrations';

/** exportTenant / importTenant / cloneTenant (issue 25), against the real servers. */
describeDialects('tenant archives: export, import, clone', (d) => {
  const { folder, files } = archiveMigrations();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-archives-'));
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Thing: ModelStatic<Model>;
  let Part: ModelStatic<Model>;
  let Note: ModelStatic<Model>;
  const pg = d.name === 'postgres';

  function models(s: Sequelize) {
    const thing = s.define(
      'Thing',
      {
        name: DataTypes.STRING, body: DataTypes.TEXT, n: DataTypes.INTEGER, big: DataTypes.BIGINT, price: DataTypes.DECIMAL(12, 4), ratio: DataTypes.DOUBLE,
        flag: DataTypes.BOOLEAN, at: DataTypes.DATE, day: DataTypes.DATEONLY, data: DataTypes.JSON, blob: DataTypes.BLOB, uuid: DataTypes.UUID,
        ...(pg ? { tags: DataTypes.ARRAY(DataTypes.STRING), scores: DataTypes.ARRAY(DataTypes.INTEGER), attrs: DataTypes.HSTORE, doc: DataTypes.JSONB } : { stamp: DataTypes.DATE }),
      } as any,
      { tableName: 'things' },
    );
    const part = s.define('Part', { thing_id: DataTypes.INTEGER, label: DataTypes.STRING }, { tableName: 'a_parts', timestamps: false });
    const note = s.define('Note', { body: DataTypes.TEXT, marker: DataTypes.INTEGER }, { tableName: 'notes', timestamps: false });
    return { thing, part, note };
  }

  /** Every row of every table, in id order, as plain values (Buffers as hex). */
  async function snapshot(a: Apartment, key: string, s: Sequelize = sequelize): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const table of ['things', 'a_parts', 'notes']) {
      const rows = (await a.run(key, () => s.query(`SELECT * FROM ${d.q(table)} ORDER BY id`, { type: 'SELECT' }))) as Array<Record<string, unknown>>;
      out[table] = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('hex') : v instanceof Date ? v.toISOString() : v])));
    }
    return out;
  }

  /** The tenant's columns and types, as the catalog has them. */
  async function catalog(schema: string, s: Sequelize = sequelize): Promise<unknown[]> {
    const [rows] = await s.query(
      pg
        ? "SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default FROM information_schema.columns WHERE table_schema = ? ORDER BY table_name, ordinal_position"
        : 'SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION',
      { replacements: [schema] },
    );
    return (rows as Array<Record<string, unknown>>).map((r) => ({ ...r, column_default: typeof r.column_default === 'string' ? r.column_default.replace(schema, 'S') : r.column_default }));
  }

  async function fill(key: string, things = 50): Promise<void> {
    await apartment.run(key, async () => {
      const weird = "tab\there, newline\nthere, back\\slash, quote ' \" , NUL-free unicode: żółć 日本 🎉, \\N literally, \\.";
      for (let i = 0; i < things; i++) {
        await Thing.create({
          name: i === 0 ? weird : `thing ${i}`,
          body: i % 7 === 0 ? null : weird.repeat(3),
          n: i % 5 === 0 ? null : i - 25,
          big: i % 4 === 0 ? null : String(2n ** 60n + BigInt(i)),
          price: i % 6 === 0 ? null : `${i}.1234`,
          ratio: i % 3 === 0 ? null : i / 7,
          flag: i % 3 === 0 ? null : i % 2 === 0,
          at: i % 8 === 0 ? null : new Date(Date.UTC(2026, 0, 1, 12, 30, 15, i)),
          day: i % 9 === 0 ? null : '2026-02-28',
          data: i % 10 === 0 ? null : { i, nested: { list: [1, 'two', null], text: weird } },
          blob: i % 11 === 0 ? null : Buffer.from([0, 1, 2, 255, 0x5c, 0x0a, i % 256]),
          uuid: i % 12 === 0 ? null : `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          ...(pg
            ? { tags: i % 13 === 0 ? null : ['a', 'b c', 'd"e', weird], scores: [1, null, 3], attrs: i % 14 === 0 ? null : { k: 'v', weird }, doc: { i, weird } }
            : { stamp: i % 13 === 0 ? null : new Date(Date.UTC(2026, 5, 1, 0, 0, 0, i)) }),
        });
      }
      const ids = (await Thing.findAll({ attributes: ['id'] })).map((t) => t.get('id'));
      for (const [i, id] of ids.entries()) await Part.create({ thing_id: id, label: `part ${i}` });
      await Note.bulkCreate(Array.from({ length: 30 }, (_, i) => ({ body: i === 5 ? 'note 5? $1 :name @x' : `note ${i}`, marker: i })));
      await Note.destroy({ where: { marker: 29 } }); // the sequence is past the highest id
    });
  }

  before(async function () {
    this.timeout(120_000);
    await d.dropAll('arc_');
    sequelize = d.sequelize();
    if (pg) await sequelize.query('CREATE EXTENSION IF NOT EXISTS hstore');
    apartment = new Apartment(sequelize, { prefix: 'arc_', migrationsPath: folder });
    ({ thing: Thing, part: Part, note: Note } = models(sequelize));
    await apartment.createTenant('src');
    await fill('src');
  });
  after(async () => {
    await d.dropAll('arc_');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('round trip (export, drop, import): identical catalog, rows and checksums; migrations recorded; sequences past the highest id', async () => {
    const rowsBefore = await snapshot(apartment, 'src');
    const catalogBefore = await catalog('arc_src');
    const file = path.join(dir, `src-${d.name}.archive.gz`);
    const exported = await apartment.exportTenant('src', file);
    expect(gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n', 1)[0]).to.match(new RegExp(`^\\{"format":"sequelize-apartment-archive","version":${ARCHIVE_VERSION},`));
    expect(exported.manifest).to.include({ version: ARCHIVE_VERSION, dialect: pg ? 'postgres' : 'mysql', tenant: 'src', schema: 'arc_src' });
    expect(exported.manifest.migrations).to.deep.equal(files);
    expect(exported.manifest.tables.map((t) => t.name)).to.have.members(['things', 'a_parts', 'notes']);
    expect(exported.manifest.tables.findIndex((t) => t.name === 'things')).to.be.lessThan(exported.manifest.tables.findIndex((t) => t.name === 'a_parts'));
    expect(exported.tables).to.deep.include({ notes: { rows: 29, checksum: exported.tables.notes.checksum } });
    expect(exported.rows).to.equal(50 + 50 + 29);

    await apartment.dropTenant('src');
    const imported = await apartment.importTenant('src', file);
    expect(imported.tables).to.deep.equal(exported.tables);
    expect(await catalog('arc_src')).to.deep.equal(catalogBefore);
    expect(await snapshot(apartment, 'src')).to.deep.equal(rowsBefore);
    expect((await apartment.migrationStatus('src')).executed).to.deep.equal(files);
    const again = await apartment.exportTenant('src', new PassThrough().resume());
    expect(again.tables).to.deep.equal(exported.tables);
    const note = await apartment.run('src', () => Note.create({ body: 'new' }));
    expect(note.get('id')).to.equal(30); // ids 1..30, 30 deleted: the sequence restarts past the highest id left
  });

  it('cloneTenant: a copy under another key, from untouched; an existing target is refused', async () => {
    const before = await snapshot(apartment, 'src');
    const result = await apartment.cloneTenant('src', 'copy');
    expect(result.tenant).to.equal('copy');
    expect(await snapshot(apartment, 'copy')).to.deep.equal(before);
    expect(await snapshot(apartment, 'src')).to.deep.equal(before);
    expect(await apartment.cloneTenant('src', 'copy').catch((e: unknown) => e)).to.be.instanceOf(TenantExistsError);
    expect(await apartment.cloneTenant('nope', 'copy2').catch((e: unknown) => e)).to.be.instanceOf(TenantNotFoundError);
    expect(await apartment.exists('copy2')).to.equal(false);
  });

  /** The archive of `src` as lines, to damage. */
  async function archiveLines(): Promise<string[]> {
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    await apartment.exportTenant('src', sink);
    return Buffer.concat(chunks).toString('utf8').split('\n');
  }

  async function refused(lines: string[], pattern: RegExp): Promise<void> {
    const error = await apartment.importTenant('bad', Readable.from([lines.join('\n')])).catch((e: unknown) => e);
    expect(error, String(error)).to.be.instanceOf(ArchiveError).and.have.property('tenant', 'bad');
    expect((error as Error).message).to.match(pattern);
    expect((error as Error).message).to.match(/Tenant 'bad' was not imported \(nothing was created\)\.$/);
    expect(await apartment.exists('bad')).to.equal(false);
    expect(await apartment.tenants()).to.not.include('bad');
    if (!pg) expect((await sequelize.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'arc\\_\\_import%'"))[0]).to.deep.equal([]);
  }

  it('all or nothing: a cut-short archive, a damaged row, a wrong count leave no tenant', async () => {
    const lines = await archiveLines();
    const half = lines.findIndex((l, i) => i > 0 && l.startsWith('{"table":"a_parts"}')) + 20;
    await refused(lines.slice(0, half), /The archive ends before the end of a table \(it was cut short\)/);
    const damaged = [...lines];
    const row = damaged.findIndex((l) => l.includes('thing 3'));
    damaged[row] = damaged[row].replace('thing 3', 'thing 4');
    await refused(damaged, /Table things in the archive has 50 rows \(checksum [0-9a-f]{32}\) but its summary says 50 \([0-9a-f]{32}\): the archive is damaged/);
    await refused(lines.slice(0, -2), /The archive ends before the end of the archive/);
  });

  /**
   * The archive rewritten in format version 1, as the package wrote it before version 2: the same records, each
   * table's checksum the sum of SHA-256 per row (docs/reference/archive-format.md), computed here on its own.
   */
  function asVersion1(lines: string[]): string[] {
    const tables: Record<string, { rows: number; checksum: string }> = {};
    let table: { name: string; low: bigint; high: bigint; rows: number } | undefined;
    return lines.map((line, i) => {
      if (i === 0) return JSON.stringify({ ...JSON.parse(line), version: 1 });
      if (table && line === '\\.') {
        tables[table.name] = { rows: table.rows, checksum: table.low.toString(16).padStart(16, '0') + table.high.toString(16).padStart(16, '0') };
        table = undefined;
        return line;
      }
      if (table) {
        const digest = createHash('sha256').update(line).digest();
        table.low = (table.low + digest.readBigUInt64LE(0)) % 2n ** 64n;
        table.high = (table.high + digest.readBigUInt64LE(8)) % 2n ** 64n;
        table.rows += 1;
        return line;
      }
      if (line === '') return line;
      const record = JSON.parse(line);
      if (record.end) return JSON.stringify({ end: true, tables });
      if (record.rows === undefined) table = { name: record.table, low: 0n, high: 0n, rows: 0 };
      else return JSON.stringify({ table: record.table, ...tables[record.table] });
      return line;
    });
  }

  it('reads format version 1 (SHA-256 row checksums): imports it and checks it; refuses it damaged, or with version 2 checksums', async () => {
    const lines = await archiveLines();
    const v1 = asVersion1(lines);
    expect(v1[0]).to.match(/^\{"format":"sequelize-apartment-archive","version":1,/);
    const imported = await apartment.importTenant('old', Readable.from([v1.join('\n')]));
    expect(imported.manifest.version).to.equal(1);
    const { rows, checksum } = JSON.parse(v1.find((l) => l.startsWith('{"table":"notes","rows":'))!);
    expect(imported.tables.notes).to.deep.equal({ rows, checksum });
    expect(await snapshot(apartment, 'old')).to.deep.equal(await snapshot(apartment, 'src'));
    await apartment.dropTenant('old');

    const damaged = [...v1];
    const row = damaged.findIndex((l) => l.includes('thing 3'));
    damaged[row] = damaged[row].replace('thing 3', 'thing 4');
    await refused(damaged, /Table things in the archive has 50 rows \(checksum [0-9a-f]{32}\) but its summary says 50 \([0-9a-f]{32}\): the archive is damaged/);
    await refused([v1[0], ...lines.slice(1)], /Table [a-z_]+ in the archive has \d+ rows \(checksum [0-9a-f]{32}\) but its summary says \d+ \([0-9a-f]{32}\): the archive is damaged/);
  });

  it('all or nothing when the server stores another value than the archive has (a decimal rounded on load): the read-back check refuses it', async () => {
    const lines = await archiveLines();
    const columns = (JSON.parse(lines[0]).tables as Array<{ name: string; columns: Array<{ name: string }> }>).find((t) => t.name === 'things')!.columns;
    const price = columns.findIndex((c) => c.name === 'price');
    const row = lines.findIndex((l) => l.includes('thing 3'));
    const changed = [...lines];
    if (pg) {
      const fields = changed[row].split('\t');
      expect(fields[price]).to.equal('3.1234');
      fields[price] = '3.12345'; // numeric(12,4): stored as 3.1235
      changed[row] = fields.join('\t');
    } else {
      const values = JSON.parse(changed[row]) as unknown[];
      expect(values[price]).to.equal('3.1234');
      values[price] = '3.12345'; // DECIMAL(12,4): stored as 3.1235
      changed[row] = JSON.stringify(values);
    }
    // The archive's own checksums match its rows (recomputed, in version 1): only the read-back can tell.
    await refused(asVersion1(changed), /Table things read back from the new tenant has 50 rows \(checksum [0-9a-f]{32}\), the archive 50 \([0-9a-f]{32}\): the server changed values on load/);
  });

  it('an export whose destination closes early fails with ArchiveError naming the tenant, and leaves no transaction open', async () => {
    const sink = new PassThrough();
    let seen = 0;
    sink.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > 2_000) sink.destroy();
    });
    const error = await apartment.exportTenant('src', sink).catch((e: unknown) => e);
    expect(error, String(error)).to.be.instanceOf(ArchiveError).and.have.property('tenant', 'src');
    expect((error as Error).message).to.match(/^The destination of tenant 'src''s export was closed before the export ended.*export again/);
    const [open] = await sequelize.query(
      pg ? "SELECT pid FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()" : 'SELECT trx_id FROM information_schema.INNODB_TRX',
    );
    expect(open).to.deep.equal([]);
  });

  it('refuses another dialect, a later format, migrations this app does not have, a non-archive', async () => {
    const lines = await archiveLines();
    const manifest = JSON.parse(lines[0]);
    await refused([JSON.stringify({ ...manifest, dialect: pg ? 'mysql' : 'postgres', encoding: 'x' }), ...lines.slice(1)], pg ? /comes from MySQL\/MariaDB .* and this app runs on PostgreSQL/ : /comes from PostgreSQL .* and this app runs on MySQL\/MariaDB/);
    await refused([JSON.stringify({ ...manifest, version: ARCHIVE_VERSION + 1 }), ...lines.slice(1)], new RegExp(`is format version \`${ARCHIVE_VERSION + 1}\` \\(number\\).*this package reads versions 1 to ${ARCHIVE_VERSION}\\. Upgrade sequelize-apartment`));
    await refused(
      [JSON.stringify({ ...manifest, migrations: [...manifest.migrations, '20270101000000-future.js'] }), ...lines.slice(1)],
      /has 1 migration\(s\) this app does not have \(20270101000000-future\.js\): it was exported from a newer version of the app\. Deploy that version/,
    );
    await refused(['hello', 'world'], /has `"hello"` \(string\) where the manifest belongs/);
  });

  it('an export taken during 2,000 concurrent writes restores to exactly one consistent point', async function () {
    this.timeout(120_000);
    await apartment.createTenant('busy');
    // Enough rows that the export takes a while.
    await apartment.run('busy', () => Thing.bulkCreate(Array.from({ length: 5_000 }, (_, i) => ({ name: `bulk ${i}`, body: 'x'.repeat(200) }))));
    let writes = 0;
    // Each write puts one note and one part pointing at a new thing, in one transaction: a consistent point has as many of each.
    const writer = async () => {
      while (writes < 2_000) {
        const marker = writes++;
        await apartment.run('busy', () =>
          sequelize.transaction(async (transaction) => {
            const thing = await Thing.create({ name: `w ${marker}` }, { transaction });
            await Part.create({ thing_id: thing.get('id'), label: `w ${marker}` }, { transaction });
            await Note.create({ body: 'w', marker }, { transaction });
          }),
        );
      }
    };
    const writers = Promise.all(Array.from({ length: 10 }, writer));
    while (writes < 200) await new Promise((r) => setTimeout(r, 5));
    const file = path.join(dir, `busy-${d.name}.archive`);
    const atStart = writes;
    await apartment.exportTenant('busy', file);
    const atEnd = writes;
    await writers;
    expect(atEnd, 'writes went on during the export').to.be.greaterThan(atStart);
    await apartment.importTenant('busy-copy', file);
    const [notes, parts, things] = await apartment.run('busy-copy', () => Promise.all([Note.count({ where: { body: 'w' } }), Part.count({ where: { label: { [Op.like]: 'w %' } } }), Thing.count({ where: { name: { [Op.like]: 'w %' } } })]));
    expect(parts).to.equal(notes);
    expect(things).to.equal(notes);
    expect(notes).to.be.within(atStart - 10, atEnd);
  });
});

describeDialects('tenant archives: import into a second PostgreSQL server', () => {
  const { folder, files } = archiveMigrations();
  let server: PrivateServer | undefined;
  const opened: Sequelize[] = [];

  before(async function () {
    this.timeout(120_000);
    if (!postgresBin()) {
      if (process.env.CI) throw new Error('PostgreSQL server binaries (initdb) are missing; CI must have them.');
      console.warn('\n  !!! SKIPPING the second-server import: no PostgreSQL server binaries (initdb) under /usr/lib/postgresql.\n');
      this.skip();
    }
    server = await startPrivatePostgres();
  });
  after(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
    await server?.stop();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('exports on one server and imports on another: the same rows and migrations', async function () {
    this.timeout(120_000);
    const open = (url: string) => {
      const s = new Sequelize(url, { logging: false, pool: { max: 3 } });
      opened.push(s);
      return s;
    };
    const here = open(process.env.PG_URL || 'postgres://postgres@127.0.0.1:5432/test');
    const there = open(server!.url);
    await here.query('DROP SCHEMA IF EXISTS move_acme CASCADE');
    const a = new Apartment(here, { prefix: 'move_', migrationsPath: folder });
    const b = new Apartment(there, { prefix: 'move_', migrationsPath: folder });
    await there.query('CREATE EXTENSION IF NOT EXISTS hstore');
    await a.createTenant('acme');
    await a.run('acme', () => here.query("INSERT INTO notes (body, marker) VALUES ('moved', 1), ('along', 2)"));
    const pipe = new PassThrough();
    const [, result] = await Promise.all([a.exportTenant('acme', pipe, { gzip: true }), b.importTenant('acme', pipe)]);
    expect(result.manifest.migrations).to.deep.equal(files);
    expect(result.tables.notes.rows).to.equal(2);
    const [rows] = await b.run('acme', () => there.query('SELECT body, marker FROM notes ORDER BY id'));
    expect(rows).to.deep.equal([{ body: 'moved', marker: 1 }, { body: 'along', marker: 2 }]);
    expect((await b.migrationStatus('acme')).executed).to.deep.equal(files);
    await a.dropTenant('acme');
  });
}, ['postgres']);


describeDialects("tenant archives with isolation: 'role'", (d) => {
  const { folder } = archiveMigrations();
  let login: LoginRole;
  let sequelize: Sequelize;
  let apartment: Apartment;

  before(async function () {
    this.timeout(60_000);
    await d.sequelize().query('CREATE EXTENSION IF NOT EXISTS hstore');
    login = await createLoginRole();
    sequelize = new Sequelize(login.url, { logging: false, pool: { max: 3 } });
    apartment = new Apartment(sequelize, { prefix: 'arcr_', migrationsPath: folder, isolation: 'role' });
    await apartment.createTenant('src');
    await apartment.run('src', () => sequelize.query("INSERT INTO notes (body, marker) VALUES ('one', 1), ('two', 2)"));
  });
  after(async () => {
    await sequelize?.close();
    await login?.drop('arcr_');
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('an imported (cloned) tenant gets a role of its own: under it the tenant reads its rows, writes past the highest id, and cannot reach the source (CrossTenantError)', async () => {
    const result = await apartment.cloneTenant('src', 'copy');
    expect(result.tables.notes.rows).to.equal(2);
    const roleOf = async (key: string) =>
      apartment.run(key, async () => ((await sequelize.query('SELECT current_user AS me', { type: QueryTypes.SELECT })) as Array<{ me: string }>)[0].me);
    const [source, copy] = [await roleOf('src'), await roleOf('copy')];
    expect(copy).to.not.equal(login.name);
    expect(copy).to.not.equal(source);
    await apartment.run('copy', async () => {
      await sequelize.query("INSERT INTO notes (body, marker) VALUES ('three', 3)");
      expect(await sequelize.query('SELECT id, body FROM notes ORDER BY id', { type: QueryTypes.SELECT })).to.deep.equal([
        { id: 1, body: 'one' },
        { id: 2, body: 'two' },
        { id: 3, body: 'three' },
      ]);
      const error: any = await sequelize.query('SELECT * FROM arcr_src.notes').catch((e: unknown) => e);
      expect(error, String(error)).to.be.instanceOf(CrossTenantError);
    });
  });
}, ['postgres']);

/** MySQL/MariaDB's information_schema reads every database's directory unless a statement names its database as a constant. */
describeDialects('tenant archives: catalog reads of one tenant', (d) => {
  if (d.name === 'postgres') return;
  const { folder } = archiveMigrations();
  let sequelize: Sequelize;

  before(async function () {
    this.timeout(120_000);
    await d.dropAll('arcscan_');
    sequelize = d.sequelize();
    await new Apartment(sequelize, { prefix: 'arcscan_', migrationsPath: folder }).createTenant('one');
  });
  after(async () => {
    await d.dropAll('arcscan_');
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('no information_schema read of an export scans every database on the server (EXPLAIN says Scanned 1 database)', async () => {
    const statements: string[] = [];
    const logged = d.sequelize({ logging: (sql: string) => statements.push(sql.replace(/^Executing \([^)]*\): /, '')) });
    try {
      await new Apartment(logged, { prefix: 'arcscan_', migrationsPath: folder }).exportTenant('one', new PassThrough().resume());
    } finally {
      await logged.close();
    }
    const catalogReads = statements.filter((sql) => /information_schema\./i.test(sql));
    expect(catalogReads).to.not.be.empty;
    for (const sql of catalogReads) {
      const plan = (await sequelize.query(`EXPLAIN ${sql}`, { type: QueryTypes.SELECT })) as Array<{ Extra: string | null }>;
      expect(plan.map((p) => p.Extra ?? '').join(' | '), sql).to.not.include('Scanned all databases');
    }
  });
});
