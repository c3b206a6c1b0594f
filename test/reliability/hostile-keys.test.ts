import { expect } from 'chai';
import * as sinon from 'sinon';
import { Apartment, ApartmentError, TenantNameError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { runPrefix } from './stress';

const CASES = Number(process.env.HOSTILE_CASES || 0) || 1200;
const SEED = Number(process.env.HOSTILE_SEED || 0) || 20260101;
/** Accepted keys that make the full round trip on the server, per prefix (the rest only prove they would be accepted). */
const ROUND_TRIPS = Number(process.env.HOSTILE_ROUND_TRIPS || 0) || 12;

/** mulberry32: a small seeded PRNG, so a failing case can be reproduced with HOSTILE_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SQL_META = [`'`, `"`, '`', ';', '--', '/*', '*/', '\\', '%', '_', '(', ')', ',', '.', ' ', '=', '$1', '?', ':x', '||', '#', '@'];
const CONTROL = ['\0', '\x01', '\x07', '\b', '\t', '\n', '\r', '\x1b', '\x1f', '\x7f'];
const UNICODE = [
  '\u0430', // Cyrillic a
  '\u03bf', // Greek omicron
  '\uff45', // fullwidth e
  '\u0131', // dotless i
  '\u017f', // long s (upper-cases to S)
  '\u212a', // Kelvin sign (lower-cases to k)
  '\u0301', // combining acute
  '\u0338', // combining long solidus overlay
  '\u200b', // zero-width space
  '\u200d', // zero-width joiner
  '\u202e', // right-to-left override
  '\ufeff', // BOM
  '\u00e9', // é precomposed
  'e\u0301', // é decomposed
  '\ud83d\ude00', // emoji (astral)
  '\u00a0', // no-break space
];
const SAFE = 'abcdefghijklmnopqrstuvwxyz0123456789_-';
const INJECTIONS = [
  `a"; DROP SCHEMA public CASCADE; --`,
  'a`; DROP DATABASE test; --',
  `a'||pg_sleep(5)||'`,
  `a' OR '1'='1`,
  'a\\"; SELECT 1; --',
  'a\0b',
  '"',
  '`',
  "'",
  'x; SET search_path TO public',
  'x`.`y',
  'x"."y',
  '../../etc/passwd',
  '%00',
  '%2e%2e',
];
const RESERVED = ['public', 'information_schema', 'pg_catalog', 'pg_toast', 'pg_temp_1', 'pg_anything', 'mysql', 'sys', 'performance_schema'];

/** At least CASES hostile keys: fixed cases, then generated ones. */
function generate(): unknown[] {
  const rand = prng(SEED);
  const int = (n: number) => Math.floor(rand() * n);
  const from = (items: string[]) => items[int(items.length)];
  const cases: unknown[] = [
    ...INJECTIONS,
    ...RESERVED,
    ...RESERVED.map((r) => r.toUpperCase()),
    'test', '', ' ', '-', '_', '--', '-a', '_a', '0', '00', '1abc', '123', '9-', 'a-', 'a_', 'a'.repeat(300), '1'.repeat(57), 'a'.repeat(57), 'a'.repeat(58),
    'é'.repeat(28), 'Acme', 'ACME', 'acme ', ' acme', 'acme\n',
    // Non-strings.
    42, 0, -1, 1.5, NaN, Infinity, 2 ** 53, -0, { id: 'acme' }, { id: 7 }, { id: 'a"b' }, { id: null }, { id: { id: 'x' } }, {}, [], ['acme'], null, undefined, true, Symbol('acme'),
    { toString: () => 'acme' }, Object.create(null), new String('acme'),
  ];
  while (cases.length < CASES) {
    const kind = int(7);
    const length = int(kind === 6 ? 70 : 301);
    let key = '';
    if (kind === 0) {
      // SQL metacharacters around word characters.
      while (key.length < length) key += rand() < 0.5 ? from(SQL_META) : SAFE[int(26)];
    } else if (kind === 1) {
      while (key.length < length) key += rand() < 0.3 ? from(CONTROL) : SAFE[int(SAFE.length)];
    } else if (kind === 2) {
      while (key.length < length) key += rand() < 0.3 ? from(UNICODE) : SAFE[int(SAFE.length)];
    } else if (kind === 3) {
      // Leading digits, dashes and underscores.
      key = from(['-', '_', '0', '9', '--', '-0', '00']) + Array.from({ length: int(60) }, () => SAFE[int(SAFE.length)]).join('');
    } else if (kind === 4) {
      key = from(RESERVED) + from(['', '_', '-', '1', '\0', ' ', '"', '`']) + (rand() < 0.5 ? '' : SAFE[int(26)]);
    } else if (kind === 5) {
      key = from(INJECTIONS) + Array.from({ length: int(length) }, () => SAFE[int(SAFE.length)]).join('');
    } else {
      // Plausible keys: alnum start then [a-z0-9_-], lengths around the server limits (many are accepted).
      key = SAFE[int(36)] + Array.from({ length: Math.max(0, length - 1) }, () => SAFE[int(SAFE.length)]).join('');
    }
    cases.push(key.slice(0, 300));
  }
  return cases;
}

const show = (value: unknown) => {
  try {
    return typeof value === 'symbol' ? value.toString() : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

describeDialects('reliability: hostile tenant keys', (d) => {
  const cases = generate();
  const own = runPrefix('rel_h');

  before(async () => {
    await d.dropAll(own);
  });
  after(async () => {
    await d.dropAll(own);
  });

  for (const prefix of [own, '']) {
    it(`${cases.length} generated keys with prefix ${JSON.stringify(prefix)}: each round-trips or is refused with TenantNameError before any SQL; no database error escapes`, async function () {
      this.timeout(120_000);
      const sequelize = d.sequelize();
      const apartment = new Apartment(sequelize, { migrationsPath: false, prefix });
      const query = sinon.spy(sequelize, 'query');
      const connections = sinon.spy((sequelize as any).connectionManager, 'getConnection');
      const accepted: Array<{ input: unknown; name: string }> = [];
      let rejected = 0;
      try {
        for (const input of cases) {
          let name: string | undefined;
          try {
            name = apartment.schemaFor(input as any);
          } catch (error) {
            expect(error, `schemaFor(${show(input)})`).to.be.instanceOf(TenantNameError);
          }
          if (name !== undefined) {
            accepted.push({ input, name });
            continue;
          }
          rejected += 1;
          const calls = query.callCount + connections.callCount;
          // Every entry point refuses it the same way, before any SQL.
          for (const [what, call] of [
            ['createTenant', () => apartment.createTenant(input as any)],
            ['exists', () => apartment.exists(input as any)],
            ['dropTenant', () => apartment.dropTenant(input as any)],
            ['migrateTenant', () => apartment.migrateTenant(input as any)],
            ['run', () => apartment.run(input as any, () => sequelize.query('SELECT 1'))],
            // `{ tenant: null | undefined }` means "no explicit tenant", not a key.
            ...(input == null ? [] : ([['query { tenant }', () => sequelize.query('SELECT 1', { tenant: input } as any)]] as const)),
          ] as const) {
            let error: unknown;
            try {
              await call();
            } catch (e) {
              error = e;
            }
            expect(error, `${what}(${show(input)})`).to.be.instanceOf(TenantNameError);
            expect((error as Error).message, `${what}(${show(input)}) says what to do`).to.match(/key|tenant/i);
          }
          // sequelize.query is called by the 'query { tenant }' case itself (it refuses inside), nothing else.
          expect(query.callCount + connections.callCount - calls, `SQL for ${show(input)}`).to.equal(input == null ? 0 : 1);
          expect(connections.callCount, `connections for ${show(input)}`).to.equal(0);
        }
      } finally {
        query.restore();
        connections.restore();
      }
      for (const { name } of accepted) {
        expect(name).to.match(/^[a-z0-9_-]+$/);
        expect(Buffer.byteLength(name)).to.be.at.most(d.name === 'postgres' ? 63 : 64);
        expect(name.startsWith('pg_')).to.equal(false);
        expect(['public', 'information_schema', 'mysql', 'sys', 'performance_schema', d.defaultSchema]).to.not.include(name);
      }
      expect(rejected).to.be.greaterThan(cases.length / 2);
      expect(accepted.length).to.be.greaterThan(20);

      // Round trips for a capped sample of the accepted keys: the longest, the oddest, and some at random.
      const distinct = [...new Map(accepted.map((a) => [a.name, a])).values()];
      const byLength = [...distinct].sort((a, b) => b.name.length - a.name.length);
      const sample = [byLength[0], byLength[byLength.length - 1], ...distinct.filter((a) => /--|-$|^[0-9]+$/.test(a.name.slice(prefix.length))).slice(0, 3)];
      for (const a of distinct) if (sample.length < ROUND_TRIPS && !sample.includes(a)) sample.push(a);
      // With no prefix the name is the key: keep clear of anything not ours.
      const ours = prefix === '' ? sample.map((a) => ({ input: `${own}${a.name}`.slice(0, 60), name: `${own}${a.name}`.slice(0, 60) })) : sample;
      for (const { input, name } of ours) {
        try {
          const result = await apartment.createTenant(input as any);
          expect(result).to.include({ ok: true, schema: name });
          expect(await apartment.exists(input as any)).to.equal(true);
          expect(await d.schemaExists(name)).to.equal(true);
          const rows = await apartment.run(input as any, async () => {
            await sequelize.query('CREATE TABLE hostile (v VARCHAR(20))');
            await sequelize.query('INSERT INTO hostile (v) VALUES (?)', { replacements: [name.slice(0, 20)] });
            const [r] = await sequelize.query('SELECT v FROM hostile');
            return r as Array<{ v: string }>;
          });
          expect(rows).to.deep.equal([{ v: name.slice(0, 20) }]);
          expect(await d.tables(name)).to.deep.equal(['hostile']);
          await apartment.dropTenant(input as any);
          expect(await apartment.exists(input as any)).to.equal(false);
        } catch (error) {
          expect.fail(`round trip of ${show(input)} (${name}) threw ${(error as Error)?.name}: ${(error as Error)?.message}${error instanceof ApartmentError ? '' : ' -- a database error escaped'}`);
        }
      }
    });
  }
});
