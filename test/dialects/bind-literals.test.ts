import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { QueryTypes, Sequelize } from 'sequelize';
import { Apartment, UnsafeQueryError } from 'sequelize-apartment';
import { appendComment, inlineParameters, MYSQL_LEXICONS, POSTGRES_LEXICONS } from '../../lib/dialects/statements';
import { describeDialects } from '../support/dialects';
import { createLoginRole, type LoginRole } from '../support/login-role';

/*
 * The values and statements the inliner fuzz (inline-fuzz.test.ts) found
 * turning into other statements, each pinned here.
 */

describe('appendComment and inlineParameters read a statement under every mode the session may be in', () => {
  it('a comment goes after a space, after a newline when the text may end in a line comment, and nowhere when something is left open', () => {
    expect(appendComment('SELECT 1', '/* m */', MYSQL_LEXICONS)).to.equal('SELECT 1 /* m */');
    expect(appendComment('SELECT 1 # note', '/* m */', MYSQL_LEXICONS)).to.equal('SELECT 1 # note\n/* m */');
    expect(appendComment('SELECT 1 --', '/* m */', MYSQL_LEXICONS)).to.equal('SELECT 1 --\n/* m */');
    expect(appendComment('SELECT 1 -- note', '/* m */', POSTGRES_LEXICONS)).to.equal('SELECT 1 -- note\n/* m */');
    // Left open: a block comment (MySQL ends it at the first */, so the mark would close it), a literal, a quoted name.
    for (const sql of ['SELECT 1 /* open', "SELECT 'open", 'SELECT `open', 'SELECT "open']) expect(appendComment(sql, '/* m */', MYSQL_LEXICONS), sql).to.equal(undefined);
    for (const sql of ['SELECT 1 /* open', "SELECT 'open", 'SELECT $$ open', 'SELECT 1 /* /* */']) expect(appendComment(sql, '/* m */', POSTGRES_LEXICONS), sql).to.equal(undefined);
    // Open under one mode only: a backslash before the quote ends the literal under NO_BACKSLASH_ESCAPES, not under the default.
    expect(appendComment("SELECT 'a\\' /* x", '/* m */', MYSQL_LEXICONS)).to.equal(undefined);
    expect(appendComment("SELECT 'a\\'", '/* m */', MYSQL_LEXICONS)).to.equal(undefined);
    expect(appendComment("SELECT 'a\\''", '/* m */', POSTGRES_LEXICONS)).to.equal(undefined);
    // MySQL/MariaDB drop the `;`s and blanks ending a statement before reading it: `--;` there is a comment, `;;` nothing;
    // with anything after them, two minus signs and an empty statement. The mark goes where they began.
    expect(appendComment('SELECT 1 AS v0--;', '/* m */', MYSQL_LEXICONS)).to.equal('SELECT 1 AS v0--\n/* m */');
    expect(appendComment('SELECT 1 AS v0;; \n', '/* m */', MYSQL_LEXICONS)).to.equal('SELECT 1 AS v0 /* m */');
    expect(appendComment("SELECT 'open;", '/* m */', MYSQL_LEXICONS)).to.equal(undefined);
    expect(appendComment('SELECT 1 AS v0 --;', '/* m */', POSTGRES_LEXICONS)).to.equal('SELECT 1 AS v0 --;\n/* m */');
  });

  it('placeholders are inlined only where every mode agrees they are', () => {
    const lit = (v: unknown) => `'${String(v)}'`;
    // standard_conforming_strings on: $1 is a placeholder; off: it is inside the string 'a\' AS x, $1::text AS v -- '.
    expect(inlineParameters("SELECT 'a\\' AS x, $1::text AS v -- '", ['v'], lit, POSTGRES_LEXICONS)).to.equal(undefined);
    expect(inlineParameters("SELECT E'a\\'', $1", ['v'], lit, POSTGRES_LEXICONS)).to.equal("SELECT E'a\\'', 'v'");
    expect(inlineParameters("SELECT 'a\\', ?", ['v'], lit, MYSQL_LEXICONS)).to.equal(undefined);
    expect(inlineParameters("SELECT 'a\\\\', ?", ['v'], lit, MYSQL_LEXICONS)).to.equal("SELECT 'a\\\\', 'v'");
    expect(inlineParameters("SELECT 'a', ? # ?", ['v'], lit, MYSQL_LEXICONS)).to.equal("SELECT 'a', 'v' # ?");
    // As many ? as values, in order.
    expect(inlineParameters('SELECT ?, ?', ['v'], lit, MYSQL_LEXICONS)).to.equal(undefined);
    expect(inlineParameters('SELECT ?', ['v', 'w'], lit, MYSQL_LEXICONS)).to.equal(undefined);
  });
});

/** The error `promise` rejects with (a test failure when it resolves). */
async function refused(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => expect.fail(`expected the server to refuse the statement, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
}

describeDialects('bind values and the package\'s marks never change the statement (the fuzz\'s findings)', (d) => {
  const prefix = `bl${Math.random().toString(36).slice(2, 6)}_`;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-bind-literals-'));
  let login: LoginRole | undefined;
  const opened: Sequelize[] = [];

  /** An Apartment whose every pooled connection runs `session` first, with tenant `t` created. */
  async function world(session: string, options: { sqlComment?: boolean; isolation?: 'role' } = {}) {
    const sequelize = new Sequelize(options.isolation ? login!.url : d.url, {
      logging: false,
      pool: { max: 2 },
      hooks: {
        afterConnect: async (connection: any) => {
          if (d.name === 'mysql') await new Promise((resolve, reject) => connection.query(session, (e: unknown) => (e ? reject(e) : resolve(undefined))));
          else await connection.query(session);
        },
      },
    });
    opened.push(sequelize);
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: folder, ...options });
    if (!(await apartment.exists('t'))) await apartment.createTenant('t');
    const query = (sql: string, bind?: unknown[]) => apartment.run('t', () => sequelize.query(sql, { type: QueryTypes.SELECT, ...(bind ? { bind } : {}) })) as Promise<any[]>;
    return { sequelize, apartment, query };
  }

  before(async function () {
    this.timeout(60_000);
    if (d.name === 'postgres') login = await createLoginRole();
  });
  after(async function () {
    this.timeout(60_000);
    for (const s of opened) await s.close().catch(() => undefined);
    if (login) await login.drop(prefix);
    else await d.dropAll(prefix);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  if (d.name !== 'postgres') {
    const NBE = "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES'";

    for (const sqlComment of [false, true]) {
      it(`NO_BACKSLASH_ESCAPES${sqlComment ? ', sqlComment' : ''}: the value x'/* y stays one value (the mariadb driver escaped its quote with a backslash, and the mark closed the comment it opened)`, async () => {
        const { query } = await world(NBE, { sqlComment });
        expect(await query('SELECT $1 AS v', ["x'/* y"])).to.deep.equal([{ v: "x'/* y" }]);
        expect(await query('SELECT $1 AS v, $2 AS w', ["x'/* y", "*/ 'z"])).to.deep.equal([{ v: "x'/* y", w: "*/ 'z" }]);
        expect(await query('SELECT $1 AS v', ['a\\'])).to.deep.equal([{ v: 'a\\' }]);
      });
    }

    it('NO_BACKSLASH_ESCAPES: JSON, Buffers and arrays keep their quotes and bytes', async () => {
      const { query } = await world(NBE);
      const json = { "it's": 'a "quote" \\ here' };
      const bytes = Buffer.from("'\\\"\x00", 'latin1');
      const [row] = await query('SELECT JSON_EXTRACT($1, \'$."it\'\'s"\') AS j, HEX($2) AS b, $3 IN ($4) AS listed', [d.name === 'mysql' ? JSON.stringify(json) : json, bytes, "o'k", d.name === 'mysql' ? "o'k" : ["no", "o'k"]]);
      // mysql2 returns JSON_EXTRACT's text; the mariadb driver may have parsed it already.
      expect(row.j.startsWith?.('"') ? JSON.parse(row.j) : row.j).to.equal('a "quote" \\ here');
      expect(String(row.b).toLowerCase()).to.equal(bytes.toString('hex'));
      expect(Number(row.listed)).to.equal(1);
    });

    it('the mark is never added after a comment or literal the statement left open (it would close it)', async () => {
      for (const sqlComment of [false, true]) {
        const { query } = await world("SET SESSION sql_mode = 'STRICT_TRANS_TABLES'", { sqlComment });
        // Broken as written: without the package's mark the server refuses them, and so it must with it.
        expect(await refused(query('SELECT $1 AS v /* unterminated', ['x']))).to.be.instanceOf(Error);
        if (sqlComment) expect(await refused(query('SELECT 1 AS v /* unterminated'))).to.be.instanceOf(Error);
      }
    });

    if (d.name === 'mysql') {
      it('mysql2: a statement whose end depends on the sql_mode gets no mark by guess: UnsafeQueryError, nothing sent', async () => {
        const { query } = await world("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES'");
        const error = await query("SELECT 'a\\', $1 AS v", ['x']).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(UnsafeQueryError);
        expect((error as UnsafeQueryError).tenant).to.equal('t');
        expect((error as Error).message).to.match(/bind value/);
      });
    } else {
      it('mariadb: NaN and Infinity are refused (the driver wrote them unquoted, where the server reads a column name)', async () => {
        const { query } = await world("SET SESSION sql_mode = 'STRICT_TRANS_TABLES'");
        for (const value of [NaN, Infinity, -Infinity, [1, NaN]]) {
          const error = await query('SELECT $1 AS v', [value]).catch((e: unknown) => e);
          expect(error, String(value)).to.be.instanceOf(UnsafeQueryError);
          expect((error as Error).message).to.match(/NaN or Infinity/);
        }
      });

      it("mariadb: when the driver's connection does not report the session's mode, bind statements are refused (never escaped by guess)", async () => {
        const sequelize = new Sequelize(d.url, {
          logging: false,
          pool: { max: 1 },
          // A driver whose connection has no status flags (connection.info.status) to read the sql_mode from.
          hooks: { afterConnect: (connection: any) => void Object.defineProperty(connection, 'info', { value: {}, configurable: true }) },
        });
        opened.push(sequelize);
        const apartment = new Apartment(sequelize, { prefix, migrationsPath: folder });
        const error = await apartment.run('t', () => sequelize.query('SELECT $1 AS v', { type: QueryTypes.SELECT, bind: ["x'/* y"] })).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(UnsafeQueryError);
        expect((error as Error).message).to.match(/does not report the session's sql_mode/);
        // Without bind values nothing is escaped: the statement runs.
        expect(await apartment.run('t', () => sequelize.query("SELECT 'ok' AS v", { type: QueryTypes.SELECT }))).to.deep.equal([{ v: 'ok' }]);
      });

      it('mariadb: a statement that sets sql_mode itself, with bind values, is refused', async () => {
        const { query } = await world("SET SESSION sql_mode = 'STRICT_TRANS_TABLES'");
        const error = await query("SET STATEMENT sql_mode = 'NO_BACKSLASH_ESCAPES' FOR SELECT $1 AS v", ["x'/* y"]).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(UnsafeQueryError);
      });
    }
  } else {
    it("isolation: 'role', standard_conforming_strings off: a value inlined after 'a\\' would have been read as SQL; the statement keeps its bind parameters instead", async () => {
      const off = await world('SET standard_conforming_strings = off', { isolation: 'role' });
      // Under 'off' the text from 'a\' to the last quote is one string; inlined, the value sat between two strings, as code.
      const sql = "SELECT 'a\\' AS x, $1::text AS v -- '";
      const value = ", 42 AS injected, ";
      const result = await off.query(sql, [value]).catch((e: unknown) => e);
      expect(result, 'the server refuses the statement as written').to.be.instanceOf(Error);
      // With standard strings the same statement is fine, and the value is one value.
      const on = await world('SET standard_conforming_strings = on', { isolation: 'role' });
      expect(await on.query(sql, [value])).to.deep.equal([{ x: 'a\\', v: value }]);
    });

    it('sqlComment: the tag is never added after a comment or literal the statement left open', async () => {
      const { query } = await world('SET standard_conforming_strings = on', { sqlComment: true });
      // PostgreSQL nests comments, so its mark alone could not close one; the rule is the same for every dialect.
      expect(await refused(query("SELECT 1 AS v, 'open"))).to.be.instanceOf(Error);
      expect(await refused(query('SELECT 1 AS v /* open'))).to.be.instanceOf(Error);
    });
  }
});
