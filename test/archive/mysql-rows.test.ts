import { expect } from 'chai';
import * as fs from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { QueryTypes, type Sequelize } from 'sequelize';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { archiveMigrations } from './migrations';

/** The lines of an archive written to memory. */
async function exported(apartment: Apartment, key: string): Promise<string[]> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  await apartment.exportTenant(key, sink);
  return Buffer.concat(chunks).toString('utf8').split('\n');
}

/** MySQL/MariaDB archive rows: how they are read (lines built by the server) and loaded (LOAD DATA LOCAL INFILE). */
describeDialects(
  'tenant archives: MySQL/MariaDB rows',
  (d) => {
    const { folder } = archiveMigrations();
    let sequelize: Sequelize;
    let apartment: Apartment;
    // Every ASCII control character, quotes, backslashes, a tab and a line end, non-ASCII text.
    const awkward = `${Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')} "quoted" back\\slash \\N \u007f żółć 🎉`;

    before(async function () {
      this.timeout(120_000);
      await d.dropAll('arcrow_');
      sequelize = d.sequelize();
      apartment = new Apartment(sequelize, { prefix: 'arcrow_', migrationsPath: folder });
      await apartment.createTenant('src');
      const notes = `${d.q(apartment.schemaFor('src'))}.${d.q('notes')}`;
      await sequelize.query(`INSERT INTO ${notes} (body, marker) VALUES (?, 1), (NULL, 2), ('', 3), ('plain', NULL)`, { replacements: [awkward] });
    });
    after(async () => {
      await d.dropAll('arcrow_');
      fs.rmSync(folder, { recursive: true, force: true });
    });

    it("writes each row as JSON.stringify of its values, whatever the server's own JSON escaping (MariaDB: \\u001B, not \\u001b)", async () => {
      const lines = await exported(apartment, 'src');
      const start = lines.indexOf('{"table":"notes"}');
      const rows = lines.slice(start + 1, lines.indexOf('\\.', start));
      expect(rows).to.deep.equal([JSON.stringify(['1', awkward, '1']), JSON.stringify(['2', null, '2']), JSON.stringify(['3', '', '3']), JSON.stringify(['4', 'plain', null])]);
    });

    it('imports the same rows back (LOAD DATA LOCAL INFILE with mysql2, INSERTs with the mariadb driver)', async () => {
      const file = `${folder}/src.archive`;
      await apartment.exportTenant('src', file);
      const loads = async () => Number(((await sequelize.query("SHOW GLOBAL STATUS LIKE 'Com_load'", { type: QueryTypes.SELECT })) as Array<{ Value: string }>)[0]!.Value);
      const before = await loads();
      await apartment.importTenant('copy', file);
      // Three tables: one LOAD DATA each with mysql2 (other clients of the server may add theirs).
      if (d.name === 'mysql') expect((await loads()) - before).to.be.at.least(3);
      const read = (key: string) => sequelize.query(`SELECT id, body, marker FROM ${d.q(apartment.schemaFor(key))}.${d.q('notes')} ORDER BY id`, { type: QueryTypes.SELECT });
      expect(await read('copy')).to.deep.equal(await read('src'));
      expect(((await read('copy')) as Array<{ body: string | null }>)[0]!.body).to.equal(awkward);
    });

    it("imports from a source whose one chunk holds more than the server's max_allowed_packet (LOAD DATA's text goes in pieces)", async function () {
      if (d.name !== 'mysql') return this.skip();
      this.timeout(120_000);
      const [{ limit }] = (await sequelize.query('SELECT @@max_allowed_packet AS `limit`', { type: QueryTypes.SELECT })) as Array<{ limit: number }>;
      if (Number(limit) > 64 * 1024 ** 2) return this.skip(); // too large an archive to build here
      await apartment.createTenant('large');
      const notes = `${d.q(apartment.schemaFor('large'))}.${d.q('notes')}`;
      const rows = Math.ceil(Number(limit) / 1000) + 1000;
      for (let from = 0; from < rows; from += 500) {
        const values = Array.from({ length: Math.min(500, rows - from) }, (_, i) => `(REPEAT('x', 1000), ${from + i})`).join(', ');
        await sequelize.query(`INSERT INTO ${notes} (body, marker) VALUES ${values}`);
      }
      const whole = Buffer.from((await exported(apartment, 'large')).join('\n'));
      expect(whole.length).to.be.above(Number(limit));
      const imported = await apartment.importTenant('large-copy', Readable.from([whole]));
      expect(imported.tables.notes!.rows).to.equal(rows);
    });

    it('falls back to INSERTs when the connection does not take local files (mysql2 without the LOCAL_FILES flag)', async function () {
      if (d.name !== 'mysql') return this.skip();
      const noLocal = d.sequelize({ dialectOptions: { flags: '-LOCAL_FILES' } } as any);
      const other = new Apartment(noLocal, { prefix: 'arcrow_', migrationsPath: folder });
      const file = `${folder}/src.archive`;
      await other.exportTenant('src', file);
      await other.importTenant('fallback', file);
      const read = (key: string) => sequelize.query(`SELECT id, body, marker FROM ${d.q(apartment.schemaFor(key))}.${d.q('notes')} ORDER BY id`, { type: QueryTypes.SELECT });
      expect(await read('fallback')).to.deep.equal(await read('src'));
    });
  },
  ['mysql', 'mariadb'],
);
