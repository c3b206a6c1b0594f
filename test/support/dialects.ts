import { QueryTypes, type Options, type Sequelize } from 'sequelize';
// SELECT-typed queries: a raw query on a plain Sequelize fails with the mariadb driver 3.1+ (sequelize#15701).
import { citusSequelize, CITUS_URL, NOT_ON_CITUS } from './citus';
import { connect, unavailable, URL_VARIABLES, URLS, type DialectName } from './servers';

export interface DialectHarness {
  readonly name: DialectName;
  /** True when this PostgreSQL run is against a Citus coordinator (CITUS_URL), every Apartment with `distribute: 'citus'`. */
  readonly citus: boolean;
  readonly url: string;
  /** A Sequelize instance on this dialect's test server, closed after the suite. */
  sequelize(options?: Options): Sequelize;
  /** Drops every schema/database whose name starts with `prefix`. */
  dropAll(prefix: string): Promise<void>;
  /** Names of the tables in a schema/database. */
  tables(schema: string): Promise<string[]>;
  /** Whether a schema/database exists. */
  schemaExists(schema: string): Promise<boolean>;
  /** Quote an identifier for this dialect. */
  q(identifier: string): string;
  /** The default schema/database (public / test). */
  readonly defaultSchema: string;
  /** Options every Apartment of the suite is built with: `{}`, or `{ sqlComment: true }` under describeRouting's second run. */
  readonly apartmentOptions: { sqlComment?: boolean };
}

const warned = new Set<DialectName>();

/**
 * Runs the same suite against every dialect (Apartment's shared example
 * groups). A server that does not answer fails the run under CI, and is
 * skipped loudly otherwise.
 */
export function describeDialects(
  title: string,
  suite: (d: DialectHarness) => void,
  dialects: DialectName[] = ['postgres', 'mysql', 'mariadb'],
  apartmentOptions: DialectHarness['apartmentOptions'] = {},
): void {
  // With CITUS_URL set, every PostgreSQL suite runs once more against the Citus coordinator
  // (except the few that cannot apply there, test/support/citus.ts NOT_ON_CITUS).
  const onCitus = Boolean(CITUS_URL) && !NOT_ON_CITUS.has(title);
  if (CITUS_URL && !onCitus && dialects.includes('postgres')) console.warn(`  (not run on Citus: "${title}": ${NOT_ON_CITUS.get(title)})`);
  const targets = dialects.flatMap((name) => (name === 'postgres' && onCitus ? [{ name, citus: false }, { name, citus: true }] : [{ name, citus: false }]));
  for (const { name, citus } of targets) {
    const url = citus ? (CITUS_URL as string) : URLS[name];
    const open = (options?: Options) => (citus ? citusSequelize(options) : connect(name, options));
    describe(`${title} [${citus ? 'citus' : name}]`, function () {
      const opened: Sequelize[] = [];
      let admin: Sequelize;
      const harness: DialectHarness = {
        name,
        citus,
        url,
        apartmentOptions,
        defaultSchema: name === 'postgres' ? 'public' : new URL(URLS[name]).pathname.slice(1),
        sequelize(options = {}) {
          const s = open(options);
          opened.push(s);
          return s;
        },
        async dropAll(prefix) {
          admin ??= open();
          const rows = await admin.query(
            name === 'postgres'
              ? 'SELECT nspname AS name FROM pg_namespace WHERE left(nspname, ?) = ?'
              : 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ?',
            { replacements: [prefix.length, prefix], type: QueryTypes.SELECT },
          );
          for (const row of rows as Array<{ name: string }>) {
            await admin.query(name === 'postgres' ? `DROP SCHEMA IF EXISTS "${row.name}" CASCADE` : `DROP DATABASE IF EXISTS \`${row.name}\``);
          }
        },
        async tables(schema) {
          admin ??= open();
          const rows = await admin.query(
            name === 'postgres'
              ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY 1"
              : "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
            { replacements: [schema], type: QueryTypes.SELECT },
          );
          return (rows as Array<{ name: string }>).map((r) => r.name);
        },
        async schemaExists(schema) {
          admin ??= open();
          const rows = await admin.query(
            name === 'postgres'
              ? 'SELECT 1 FROM pg_namespace WHERE nspname = ?'
              : 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
            { replacements: [schema], type: QueryTypes.SELECT },
          );
          return (rows as unknown[]).length > 0;
        },
        q(identifier) {
          return name === 'postgres' ? `"${identifier}"` : `\`${identifier}\``;
        },
      };

      before(async function () {
        const reason = citus ? undefined : await unavailable(name);
        if (reason === undefined) return;
        if (process.env.CI) throw new Error(`${name} server at ${URLS[name]} is unreachable (CI is set, so this fails the run): ${reason}`);
        if (!warned.has(name)) {
          warned.add(name);
          console.warn(`\n  !!! SKIPPING ${name.toUpperCase()} TESTS: server at ${URLS[name]} is unreachable (${reason}). Start it, or set ${URL_VARIABLES[name]}.\n`);
        }
        this.skip();
      });

      suite(harness);

      // Registered after the suite's own hooks, so it runs after them.
      after(async () => {
        for (const s of opened.splice(0)) await s.close().catch(() => undefined);
        if (admin) await admin.close().catch(() => undefined);
        admin = undefined as unknown as Sequelize;
      });
    });
  }
}

/**
 * A routing suite, run twice on every dialect: as is, and with every Apartment
 * tagging its SQL (`sqlComment: true`), which must not change what any query
 * does. The suite passes `d.apartmentOptions` to the Apartments it builds.
 */
export function describeRouting(title: string, suite: (d: DialectHarness) => void): void {
  describeDialects(title, suite);
  describeDialects(`${title} (sqlComment: true)`, suite, undefined, { sqlComment: true });
}
