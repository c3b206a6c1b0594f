import { expect } from 'chai';
import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { QueryTypes, Sequelize } from 'sequelize';
import { Apartment, UnsafeQueryError } from 'sequelize-apartment';
import { describeDialects, type DialectHarness } from '../support/dialects';
import { createLoginRole, type LoginRole } from '../support/login-role';

/*
 * The inliner fuzzed (#27): random values go through raw SQL with `bind` in a
 * tenant, outside a transaction, where the package may inline them as
 * literals (PostgreSQL with isolation: 'role') or the driver does (the
 * `mariadb` driver), and where the package appends its own comments (the
 * mysql2 statement-cache mark, `sqlComment`). Each run checks that the
 * statement is the one written: exactly one row, exactly the columns
 * selected, each value exactly as bound, and nothing changed in the tenant or
 * the default schema. Settings that change how the server reads a literal
 * (standard_conforming_strings, sql_mode) are set per session on every pooled
 * connection.
 *
 * FC_SEED replays a run (the seed is printed), FC_RUNS sets the runs per
 * configuration (default 100).
 */
const RUNS = Number(process.env.FC_RUNS) || 100;
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);

/** Pieces that end literals, open comments or quote things in one dialect or mode or another. */
const NASTY = ["'", "''", '\\', "\\'", '"', '`', '$$', '$a$', '$1', '?', '--', '-- ', '#', '/*', '*/', '/*!', ';', '\n', '\r', '\t', "E'", 'N\'', "x'", '\u001a', '\b', '%', '_', ' '];
const UNICODE = ['é', 'e\u0301', '\u{1F600}', '\u{1F469}\u200D\u{1F4BB}', '\u{10FFFF}', '\uFEFF', '\u2028', '\u0130', 'ß', '中文', '\u202E'];

const nastyString = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...NASTY) }, fc.constantFrom(...UNICODE), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 24 })
  .map((parts) => parts.join(''));
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Strings a server can store: well-formed UTF-16 (an unpaired surrogate has no UTF-8 form), without NUL. */
const sqlString = fc
  .oneof(
    { weight: 6, arbitrary: nastyString },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    // Known payloads, and very long strings.
    { weight: 1, arbitrary: fc.constantFrom("x'/* y", "'); DELETE FROM canary; --", "\\'; DELETE FROM canary; #", "' OR '1'='1", '$$; DELETE FROM canary; $$', "*/ DELETE FROM canary; /*") },
    { weight: 1, arbitrary: fc.tuple(nastyString, fc.integer({ min: 1_000, max: 40_000 })).map(([s, n]) => (s || "'\\").repeat(Math.ceil(n / Math.max(1, s.length)))) },
  )
  .map((s) => s.replace(/\0/g, '').replace(LONE_SURROGATE, '\uFFFD'));

const EDGE_NUMBERS = [2 ** 53, -(2 ** 53), 2 ** 53 - 1, -(2 ** 53 - 1), -0, 0, 0.1, -1.5e-7, 1e21, 5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 123456.789];
const number = fc.oneof(fc.constantFrom(...EDGE_NUMBERS), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
/** Integers and decimals beyond a double, as strings (how apps pass them). */
const numericString = fc.oneof(
  fc.bigInt({ min: -(10n ** 38n), max: 10n ** 38n }).map(String),
  fc.tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: 0n, max: 10n ** 12n })).map(([i, f]) => `${i}.${String(f).padStart(12, '0')}`),
);
/** Dates the servers keep to the millisecond (PostgreSQL) or the second (MySQL/MariaDB DATETIME). */
const date = fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
const buffer = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
/**
 * Objects (to node-postgres a bound string is text and an array a PostgreSQL array, not JSON; the mariadb driver expands an array into a list).
 * Integers beyond Number.MAX_SAFE_INTEGER become the largest safe one: mysql2 on Node 22+ reads them back as strings
 * (JSON.parse with the source text), with or without this package.
 */
const json = fc
  .dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
  .map((v) => JSON.parse(JSON.stringify(v, (_key, x: unknown) => (typeof x === 'number' && Number.isInteger(x) && !Number.isSafeInteger(x) ? Math.sign(x) * Number.MAX_SAFE_INTEGER : x)).replace(/\\u0000/g, '')) as unknown);

/** One bound value: how the statement selects it and how to read back what the server returned. */
interface Bound {
  readonly kind: string;
  readonly value: unknown;
}

function boundValue(dialect: DialectHarness['name']): fc.Arbitrary<Bound> {
  const of = (kind: string, arb: fc.Arbitrary<unknown>) => arb.map((value) => ({ kind, value }));
  const common = [
    of('string', sqlString),
    of('number', number),
    of('numeric', numericString),
    of('date', date),
    of('buffer', buffer),
    // mysql2 cannot execute an object: apps send JSON text.
    of('json', dialect === 'mysql' ? json.map((v) => JSON.stringify(v)) : json),
    of('null', fc.constant(null)),
    of('boolean', fc.boolean()),
  ];
  // PostgreSQL arrays (node-postgres renders array literals); MySQL has no array type and the drivers differ.
  if (dialect === 'postgres') common.push(of('array', fc.array(fc.option(sqlString, { nil: null }), { maxLength: 6 })));
  return fc.oneof(...common);
}

/** The select-list expression for placeholder `$n`, by kind. */
function expression(dialect: DialectHarness['name'], b: Bound, n: number): string {
  const p = `$${n}`;
  if (dialect === 'postgres') {
    const cast = { string: 'text', number: 'float8', numeric: 'numeric', date: 'timestamptz', buffer: 'bytea', json: 'json', null: 'text', boolean: 'boolean', array: 'text[]' }[b.kind];
    return `${p}::${cast}`;
  }
  switch (b.kind) {
    case 'buffer':
      return `HEX(${p})`;
    case 'date':
      return `CAST(${p} AS DATETIME(3))`;
    case 'json':
      return `JSON_EXTRACT(${p}, '$')`;
    case 'number':
      return `(${p} + 0e0)`;
    default:
      return p;
  }
}

/** What the row's column holds when the statement did what it says (the value as its kind reads back). */
function expectValue(dialect: DialectHarness['name'], b: Bound, actual: unknown): void {
  const v = b.value;
  switch (b.kind) {
    case 'number':
      expect(Number(actual)).to.equal(Object.is(v, -0) ? 0 : v);
      return;
    case 'numeric':
      expect(String(actual)).to.equal(v);
      return;
    case 'date':
      expect(new Date(actual as any).getTime()).to.equal((v as Date).getTime() - (dialect === 'postgres' ? 0 : 0));
      return;
    case 'buffer':
      expect(dialect === 'postgres' ? (actual as Buffer).toString('hex') : String(actual).toLowerCase()).to.equal((v as Buffer).toString('hex'));
      return;
    case 'json':
      expect(typeof actual === 'string' ? JSON.parse(actual) : actual).to.deep.equal(typeof v === 'string' ? JSON.parse(v) : v);
      return;
    case 'boolean':
      expect(dialect === 'postgres' ? actual : Boolean(Number(actual))).to.equal(v);
      return;
    default:
      expect(actual).to.deep.equal(v);
  }
}

/** What may surround the statement: the user's own comments and semicolon, which the package's marks must respect. */
const SUFFIXES = ['', ';', ' -- a note', '\n-- a note\n', ' /* a note */', ';\n'];

/** Pieces of statement text after the first column: what opens, closes and escapes in one mode or another. */
const TEXT = ["'", '"', '`', '\\', "\\'", '/*', '*/', '--', '-- ', '#', '\n', '$$', '$a$', ' x', ' AS w', ', $2', ", 'q'", "E'", ' ', '(', ')', '*', '$1', '?', ';'];

interface Config {
  readonly title: string;
  /** Sent on every new pooled connection. */
  readonly session: string[];
  /** What the session must report back, to be sure the mode is on. */
  readonly check: { sql: string; expect: (row: any) => void };
  readonly isolation?: 'role';
  readonly sqlComment: boolean;
  /** Whether the values reach the server written into the statement's text by the package (not as bind parameters or by the driver). */
  readonly inlined: boolean;
}

/** The modes to fuzz; on a Citus coordinator without isolation: 'role' (refused with `distribute: 'citus'`; its login role is made on the plain server). */
function configs(dialect: DialectHarness['name'], citus: boolean): Config[] {
  const out: Config[] = [];
  if (dialect === 'postgres') {
    for (const scs of ['on', 'off']) {
      for (const isolation of citus ? [undefined] : (['role', undefined] as const)) {
        for (const sqlComment of [false, true]) {
          out.push({
            title: `standard_conforming_strings ${scs}, isolation: ${isolation ?? 'none'}${sqlComment ? ', sqlComment' : ''}`,
            session: [`SET standard_conforming_strings = ${scs}`],
            check: { sql: 'SHOW standard_conforming_strings', expect: (row) => expect(row.standard_conforming_strings).to.equal(scs) },
            isolation,
            sqlComment,
            inlined: isolation === 'role',
          });
        }
      }
    }
    return out;
  }
  for (const modes of [[], ['NO_BACKSLASH_ESCAPES'], ['ANSI_QUOTES'], ['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES']]) {
    for (const sqlComment of [false, true]) {
      const mode = ['STRICT_TRANS_TABLES', ...modes].join(',');
      out.push({
        title: `sql_mode ${modes.join(',') || 'default'}${sqlComment ? ', sqlComment' : ''}`,
        session: [`SET SESSION sql_mode = '${mode}'`],
        check: { sql: 'SELECT @@SESSION.sql_mode AS mode', expect: (row) => expect(row.mode.split(',').sort()).to.deep.equal(mode.split(',').sort()) },
        sqlComment,
        // mysql2 executes prepared statements; the package writes the values itself for the mariadb driver under NO_BACKSLASH_ESCAPES.
        inlined: dialect === 'mariadb' && modes.includes('NO_BACKSLASH_ESCAPES'),
      });
    }
  }
  return out;
}

/**
 * Records, for each fuzzed statement the driver connection receives (its
 * columns are `v0`, `v1`, …), whether its values came as bind parameters.
 * mysql2 is left alone: Sequelize executes its bind statements as prepared
 * statements (`execute`), never as text.
 */
function watch(dialect: DialectHarness['name'], connection: any, sent: { inlined: number; bound: number }): void {
  if (dialect === 'mysql') return;
  const query = connection.query;
  connection.query = function watched(this: unknown, text: unknown, values?: unknown, ...rest: unknown[]) {
    if (typeof text === 'string' && /AS ["`]v0["`]/.test(text)) {
      if (Array.isArray(values) && values.length > 0) sent.bound++;
      else sent.inlined++;
    }
    return query.call(this, text, values, ...rest);
  };
}

/** Runs `sql` on a raw driver connection (Sequelize's afterConnect hook receives one). */
function onConnection(dialect: DialectHarness['name'], connection: any, sql: string): Promise<unknown> {
  if (dialect === 'mysql') return new Promise((resolve, reject) => connection.query(sql, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
  return connection.query(sql);
}

describeDialects('the inliner fuzzed: bind values never change the statement', (d) => {
  const prefix = `fz${Math.random().toString(36).slice(2, 6)}_`;
  let login: LoginRole | undefined;
  let admin: Sequelize;
  const canary = `fz_canary_${prefix.slice(2, 6)}`;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-fuzz-'));

  before(async function () {
    this.timeout(120_000);
    console.log(`      (inliner fuzz on ${d.name}: FC_SEED=${SEED} FC_RUNS=${RUNS})`);
    admin = d.sequelize({ pool: { max: 1 } });
    if (d.name === 'postgres' && !d.citus) login = await createLoginRole();
    await admin.query(`CREATE TABLE ${d.q(canary)} (id int)`);
    await admin.query(`INSERT INTO ${d.q(canary)} VALUES (1)`);
    if (login) await admin.query(`GRANT ALL ON ${d.q(canary)} TO "${login.name}"`);
  });

  after(async function () {
    this.timeout(120_000);
    await admin?.query(`DROP TABLE IF EXISTS ${d.q(canary)}`).catch(() => undefined);
    if (login) await login.drop(prefix);
    else await d.dropAll(prefix);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  for (const config of configs(d.name, d.citus)) {
    describe(config.title, () => {
      const sent = { inlined: 0, bound: 0 };
      const tenant = `t${Math.random().toString(36).slice(2, 6)}`;
      const schema = `${prefix}${tenant}`;
      let sequelize: Sequelize;
      let apartment: Apartment;
      let reference: Sequelize;
      const inTenant = (sql: string, bind: unknown[]) => apartment.run(tenant, () => sequelize.query(sql, { type: QueryTypes.SELECT, bind })) as Promise<any[]>;

      before(async function () {
        this.timeout(60_000);
        const hooks = (dialect: DialectHarness['name'], watched: boolean) => ({
          afterConnect: async (connection: any) => {
            for (const sql of config.session) await onConnection(dialect, connection, sql);
            if (watched) watch(dialect, connection, sent);
          },
        });
        sequelize = new Sequelize(config.isolation === 'role' ? login!.url : d.url, { logging: false, pool: { max: 2 }, hooks: hooks(d.name, true) });
        apartment = new Apartment(sequelize, { prefix, migrationsPath: folder, isolation: config.isolation, sqlComment: config.sqlComment });
        // What the same text and values do without the package, in the same mode: the same driver, except where the
        // package writes the values itself because the driver's escaping is wrong for the mode (mariadb under
        // NO_BACKSLASH_ESCAPES): there a mysql2 prepared statement, which the server reads with values apart.
        const server = d.name === 'mariadb' && config.inlined ? 'mysql' : d.name;
        reference = new Sequelize(server === 'mysql' ? d.url.replace(/^mariadb:/, 'mysql:') : d.url, { logging: false, pool: { max: 1 }, hooks: hooks(server, false) });
        await apartment.createTenant(tenant);
        await apartment.run(tenant, () => sequelize.query('CREATE TABLE canary (id int)'));
        await apartment.run(tenant, () => sequelize.query('INSERT INTO canary VALUES (1)'));
        // The mode is on, on the connection the statements use.
        const [mode] = (await apartment.run(tenant, () => sequelize.query(config.check.sql, { type: QueryTypes.SELECT }))) as any[];
        config.check.expect(mode);
      });

      after(async function () {
        this.timeout(60_000);
        await apartment?.dropTenant(tenant).catch(() => undefined);
        await sequelize?.close();
        await reference?.close();
      });

      it(`${RUNS} random statements return exactly the values bound, and change nothing`, async function () {
        this.timeout(300_000);
        // One query per run: the rows of the tenant's and the default schema's canary tables.
        const counts = `SELECT (SELECT COUNT(*) FROM ${d.q(schema)}.canary) AS tenant, (SELECT COUNT(*) FROM ${d.q(canary)}) AS shared`;
        const state = async () => {
          const [row] = (await admin.query(counts, { type: QueryTypes.SELECT })) as any[];
          return [Number(row.tenant), Number(row.shared)];
        };
        const tables = await d.tables(schema);
        const before = await state();
        await fc.assert(
          fc.asyncProperty(fc.array(boundValue(d.name), { minLength: 1, maxLength: 5 }), fc.constantFrom(...SUFFIXES), async (values, suffix) => {
            const list = values.map((b, i) => `${expression(d.name, b, i + 1)} AS ${d.q(`v${i}`)}`).join(', ');
            const rows = await inTenant(`SELECT ${list}${suffix}`, values.map((b) => b.value));
            expect(rows, 'one row').to.have.length(1);
            expect(Object.keys(rows[0]), 'the columns selected').to.deep.equal(values.map((_, i) => `v${i}`));
            values.forEach((b, i) => expectValue(d.name, b, rows[0][`v${i}`]));
            expect(await state(), 'nothing changed').to.deep.equal(before);
          }),
          { seed: SEED, numRuns: RUNS },
        );
        expect(await d.tables(schema), 'the tables of the tenant').to.deep.equal(tables);
        // The path under test was taken: values written into the text (inlined), or sent apart.
        if (d.name !== 'mysql') {
          if (config.inlined) expect(sent.inlined, `statements sent with values written in (${sent.bound} with bind parameters)`).to.be.greaterThan(sent.bound);
          else expect(sent.inlined, 'statements sent with values written in by the package').to.equal(0);
        }
      });

      it(`${RUNS} random statement texts (open comments and literals, backslashes, line comments) do what they do without the package, or are refused`, async function () {
        this.timeout(300_000);
        const outcome = (pending: Promise<unknown>) =>
          pending.then(
            (rows) => JSON.stringify(rows),
            (error: unknown) => (error instanceof UnsafeQueryError ? 'refused' : 'error'),
          );
        await fc.assert(
          fc.asyncProperty(fc.array(fc.constantFrom(...TEXT), { maxLength: 8 }), fc.stringMatching(/^[a-z0-9]{0,6}$/), fc.stringMatching(/^[a-z0-9]{0,6}$/), async (pieces, a, b) => {
            // Columns the pieces add get names of their own (the mariadb driver refuses duplicate names, mysql2 does not).
            const text = pieces.map((p, k) => (p === ', $2' || p === ", 'q'" ? `${p} AS ${d.q(`c${k}`)}` : p)).join('');
            const sql = `SELECT $1 AS ${d.q('v0')}${text}`;
            const bind = sql.includes('$2') ? [a, b] : [a];
            const [mine, theirs] = [await outcome(inTenant(sql, bind)), await outcome(reference.query(sql, { type: QueryTypes.SELECT, bind }))];
            // Refusing (UnsafeQueryError, nothing sent) is always allowed; anything else must be what the server does with the text as written.
            if (mine !== 'refused') expect(mine, sql).to.equal(theirs);
          }),
          { seed: SEED, numRuns: RUNS },
        );
      });
    });
  }
});
