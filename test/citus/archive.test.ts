import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Sequelize } from 'sequelize';
import { Apartment, ArchiveError } from 'sequelize-apartment';
import { archiveMigrations } from '../archive/migrations';
import { citusSequelize, describeCitus, onEachWorker, type CitusNode } from '../support/citus';

const TABLES = ['things', 'a_parts', 'notes'];

/** importTenant / cloneTenant with `distribute: 'citus'` (issue 25): the new tenant is a distributed schema, on one worker. */
describeCitus('tenant archives on a Citus cluster: import and clone make distributed tenants', () => {
  const P = 'citarc_';
  const { folder, files } = archiveMigrations();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-citus-archives-'));
  let sequelize: Sequelize;
  let apartment: Apartment;
  /** The same app on plain PostgreSQL (PG_URL): where tenants come from when an app moves onto Citus. */
  let plain: Sequelize;
  let plainApartment: Apartment;
  let workers: CitusNode[];

  /** A connection to each worker, closed after `fn`. */
  const onWorkers = <T>(fn: (worker: Sequelize) => Promise<T>): Promise<T[]> => onEachWorker(workers, fn);
  /** Whether each worker's own catalog has `schema`. */
  const schemaOnWorkers = (schema: string) =>
    onWorkers(async (worker) => ((await worker.query('SELECT 1 FROM pg_namespace WHERE nspname = ?', { replacements: [schema] }))[0] as unknown[]).length > 0);

  /** How Citus has the tenant: its distributed schema and its tables' type and colocation. */
  async function distribution(schema: string): Promise<{ schema: boolean; tables: Array<{ name: string; type: string; colocated: boolean }> }> {
    const [found] = await sequelize.query('SELECT colocationid FROM pg_dist_schema WHERE schemaid = to_regnamespace(?)', { replacements: [schema] });
    const colocation = (found as Array<{ colocationid: number }>)[0]?.colocationid;
    const [tables] = await sequelize.query(
      `SELECT c.relname AS name, t.citus_table_type AS type, t.colocation_id AS colocation
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN citus_tables t ON t.table_name = c.oid
        WHERE n.nspname = ? AND c.relkind = 'r' ORDER BY c.relname`,
      { replacements: [schema] },
    );
    return {
      schema: colocation !== undefined,
      tables: (tables as Array<{ name: string; type: string | null; colocation: number | null }>).map((t) => ({
        name: t.name,
        type: String(t.type),
        colocated: colocation !== undefined && t.colocation === colocation,
      })),
    };
  }

  /** Every row of every archived table, in id order, as plain values. */
  async function rowsOf(a: Apartment, s: Sequelize, key: string): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const table of TABLES) {
      const rows = (await a.run(key, () => s.query(`SELECT * FROM "${table}" ORDER BY id`, { type: 'SELECT' }))) as Array<Record<string, unknown>>;
      out[table] = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('hex') : v instanceof Date ? v.toISOString() : v])));
    }
    return out;
  }

  async function fill(a: Apartment, s: Sequelize, key: string): Promise<void> {
    await a.run(key, async () => {
      for (let i = 0; i < 40; i++) {
        await s.query(
          `INSERT INTO things (name, body, n, big, price, ratio, flag, at, day, data, blob, uuid, tags, scores, attrs, doc, "createdAt", "updatedAt")
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, decode(?, 'hex'), ?, ?::varchar[], ARRAY[1, NULL, 3], ?::hstore, ?::jsonb, now(), now())`,
          {
            replacements: [
              `thing ${i}\twith a tab, ż 🎉`, i % 7 ? 'body\nline two \\ back' : null, i - 20, String(2n ** 60n + BigInt(i)), `${i}.1234`, i / 7, i % 2 === 0,
              new Date(Date.UTC(2026, 0, 1, 12, 0, 0, i)), '2026-02-28', JSON.stringify({ i, text: 'x' }), '0001ff5c0a', `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
              `{a,"b c",${i}}`, `k=>v${i}`, JSON.stringify({ i }),
            ],
          },
        );
      }
      await s.query('INSERT INTO a_parts (thing_id, label) SELECT id, \'part \' || id FROM things');
      await s.query("INSERT INTO notes (body, marker) SELECT 'note ' || g, g FROM generate_series(1, 25) g");
      await s.query('DELETE FROM notes WHERE marker = 25'); // the sequence is past the highest id
    });
  }

  const dropOwn = async (s: Sequelize) => {
    const [rows] = await s.query('SELECT nspname FROM pg_namespace WHERE left(nspname, ?) = ?', { replacements: [P.length, P] });
    for (const { nspname } of rows as Array<{ nspname: string }>) await s.query(`DROP SCHEMA "${nspname}" CASCADE`);
  };

  before(async function () {
    this.timeout(120_000);
    sequelize = citusSequelize();
    plain = new Sequelize(process.env.PG_URL || 'postgres://postgres@127.0.0.1:5432/test', { logging: false });
    for (const s of [sequelize, plain]) {
      await dropOwn(s);
      await s.query('CREATE EXTENSION IF NOT EXISTS hstore');
    }
    apartment = new Apartment(sequelize, { prefix: P, distribute: 'citus', migrationsPath: folder });
    plainApartment = new Apartment(plain, { prefix: P, migrationsPath: folder });
    const [nodes] = await sequelize.query('SELECT nodename AS host, nodeport AS port FROM pg_dist_node WHERE shouldhaveshards AND isactive ORDER BY nodeport');
    workers = nodes as CitusNode[];
    expect(workers.length, 'worker nodes (the cluster needs 2)').to.be.at.least(2);
  });

  after(async function () {
    this.timeout(120_000);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(folder, { recursive: true, force: true });
    if (!sequelize) return; // skipped: no CITUS_URL
    await dropOwn(sequelize);
    await dropOwn(plain);
    await sequelize.close();
    await plain.close();
  });

  it('an archive from plain PostgreSQL imports as a distributed tenant: a distributed schema on one worker, rows, counts and checksums intact, sequences past the highest id', async function () {
    this.timeout(180_000);
    await plainApartment.createTenant('origin');
    await fill(plainApartment, plain, 'origin');
    const file = path.join(dir, 'origin.archive.gz');
    const exported = await plainApartment.exportTenant('origin', file);
    expect(exported.rows).to.equal(40 + 40 + 24);

    const imported = await apartment.importTenant('moved', file);
    expect(imported.tables).to.deep.equal(exported.tables);
    expect(imported.rows).to.equal(exported.rows);
    const [[{ total }]] = (await sequelize.query(`SELECT (SELECT count(*) FROM "${P}moved".things) + (SELECT count(*) FROM "${P}moved".a_parts) + (SELECT count(*) FROM "${P}moved".notes) AS total`)) as any;
    expect(Number(total)).to.equal(exported.rows);
    expect(await rowsOf(apartment, sequelize, 'moved')).to.deep.equal(await rowsOf(plainApartment, plain, 'origin'));
    expect((await apartment.migrationStatus('moved')).executed).to.deep.equal(files);

    const how = await distribution(`${P}moved`);
    expect(how.schema, 'a distributed schema (pg_dist_schema)').to.equal(true);
    const archived = how.tables.filter((t) => TABLES.includes(t.name));
    expect(archived.map((t) => t.name).sort()).to.deep.equal([...TABLES].sort());
    for (const table of how.tables) expect(table, table.name).to.include({ type: 'schema', colocated: true });

    const where = await apartment.placement('moved');
    expect(workers).to.deep.include(where);
    // Its tables' shards live on that worker only (each worker's own catalog; Citus hides shards from it unless told).
    const shards = await onWorkers((worker) =>
      worker.transaction(async (transaction) => {
        await worker.query('SET LOCAL citus.override_table_visibility TO off', { transaction });
        const [found] = await worker.query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind = 'r' AND c.relname ~ '^notes_[0-9]+$'", {
          replacements: [`${P}moved`],
          transaction,
        });
        return found.length;
      }),
    );
    expect(shards.map((count, i) => (count > 0 ? workers[i]!.port : undefined)).filter(Boolean)).to.deep.equal([where!.port]);

    const [[note]] = (await apartment.run('moved', () => sequelize.query("INSERT INTO notes (body, marker) VALUES ('new', 26) RETURNING id"))) as any;
    expect(note.id).to.equal(25); // ids 1..25, 25 deleted: the sequence restarts past the highest id left
  });

  it('cloneTenant on the cluster: the copy is distributed too, with the same rows; the source is untouched and stays where it was', async function () {
    this.timeout(180_000);
    const before = await rowsOf(apartment, sequelize, 'moved');
    const from = await apartment.placement('moved');
    const result = await apartment.cloneTenant('moved', 'copy');
    expect(result.rows).to.equal(Object.values(before).reduce((n, rows) => n + rows.length, 0));
    expect(await rowsOf(apartment, sequelize, 'copy')).to.deep.equal(before);
    expect(await rowsOf(apartment, sequelize, 'moved')).to.deep.equal(before);
    const how = await distribution(`${P}copy`);
    expect(how.schema).to.equal(true);
    for (const table of how.tables) expect(table, table.name).to.include({ type: 'schema', colocated: true });
    expect(workers).to.deep.include(await apartment.placement('copy'));
    expect(await apartment.placement('moved')).to.deep.equal(from);
    // The copy moves like any distributed tenant.
    const at = (await apartment.placement('copy'))!;
    const to = workers.find((w) => w.port !== at.port)!;
    expect(await apartment.moveTenant('copy', { ...to, mode: 'block_writes' })).to.deep.include({ moved: true, to });
    expect(await rowsOf(apartment, sequelize, 'copy')).to.deep.equal(before);
    const highest = Math.max(...(before.notes as Array<{ id: number }>).map((n) => n.id));
    const [[note]] = (await apartment.run('copy', () => sequelize.query("INSERT INTO notes (body, marker) VALUES ('copied', 27) RETURNING id"))) as any;
    expect(note.id).to.equal(highest + 1);
  });

  it('an import that fails halfway (the archive cut short in its second table) leaves nothing on any node', async function () {
    this.timeout(120_000);
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    await apartment.exportTenant('moved', sink);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    const second = lines.findIndex((l, i) => i > 0 && /^\{"table":"[a-z_]+"\}$/.test(l) && lines.slice(1, i).some((m) => /^\{"table":"[a-z_]+"\}$/.test(m)));
    expect(second, 'the second table begins').to.be.greaterThan(0);
    const error = await apartment.importTenant('half', Readable.from([lines.slice(0, second + 10).join('\n')])).catch((e: unknown) => e);
    expect(error, String(error)).to.be.instanceOf(ArchiveError);
    expect((error as Error).message).to.match(/cut short.*Tenant 'half' was not imported \(nothing was created\)/);
    expect(await apartment.exists('half')).to.equal(false);
    expect(await schemaOnWorkers(`${P}half`)).to.deep.equal(workers.map(() => false));
    const [dist] = await sequelize.query('SELECT 1 FROM pg_dist_schema WHERE schemaid::regnamespace::text = ?', { replacements: [`${P}half`] });
    expect(dist).to.deep.equal([]);
    const [tables] = await sequelize.query("SELECT 1 FROM pg_dist_partition WHERE logicalrelid::text LIKE 'citarc\\_half.%'");
    expect(tables).to.deep.equal([]);
  });
});
