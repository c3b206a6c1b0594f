import { randomBytes } from 'node:crypto';
import { URLS } from '../env';
import { interleave, perOp } from '../harness';
import { closeSides, interleaveSides, startSides } from '../sides';
import { row, type BenchCase, type BenchContext, type Row } from '../types';

const OPS = ['findByPk', 'create + destroy', 'raw SQL', 'raw SQL with bind'] as const;

function iterations(ctx: BenchContext, op: string): number {
  if (ctx.quick) return 20;
  return op === 'create + destroy' ? 120 : 400;
}

/**
 * `isolation: 'role'` against the floor, in separate processes
 * (bench/sides): the floor (plain Sequelize, hand-qualified, never loads the
 * package), the package without roles (`routed`) and the package with
 * `isolation: 'role'` (`roles`, connected as a NOINHERIT login role, every
 * statement under `SET LOCAL ROLE`). Same tenant, same data, pool of one,
 * rounds interleaved. The tenant's role is made and granted here by the
 * superuser (the bench tenant's tables are the superuser's, so syncRoles
 * could not adopt them).
 */
export const isolationRole: BenchCase = {
  id: 'roles',
  title: "isolation: 'role'",
  dialects: ['postgres'],
  async run(ctx) {
    const { fixtures } = ctx;
    const schema = await fixtures.queryTenant();
    const login = `bench_app_${randomBytes(3).toString('hex')}`;
    const admin = fixtures.admin;
    const role = fixtures.q(schema);
    const group = fixtures.q(`${ctx.prefix}q__shared`);
    const database = new URL(URLS.postgres).pathname.slice(1) || 'postgres';
    const ensure = (quoted: string) => `DO $b$BEGIN CREATE ROLE ${quoted} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$b$`;
    await admin.query(ensure(role));
    await admin.query(ensure(group));
    await admin.query(`CREATE ROLE "${login}" LOGIN NOINHERIT CREATEROLE`);
    await admin.query(`GRANT CREATE ON DATABASE "${database}" TO "${login}"`);
    await admin.query(`GRANT ${role} TO "${login}"`);
    await admin.query(`GRANT ${group} TO ${role}`);
    await admin.query(`GRANT USAGE, CREATE ON SCHEMA ${role} TO ${role}`);
    await admin.query(`GRANT ALL ON ALL TABLES IN SCHEMA ${role} TO ${role}`);
    await admin.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA ${role} TO ${role}`);
    const url = new URL(URLS.postgres);
    url.username = login;
    url.password = '';
    const rows: Row[] = [];
    try {
      rows.push(await protocolCost(ctx, schema));
      for (const node of ctx.nodes) {
        const sides = await startSides(node.path, ['floor', 'routed', 'roles'], {
          dialect: ctx.dialect,
          schema,
          prefix: `${ctx.prefix}q_`,
          key: 'x',
          pool: 1,
          rolesUrl: url.toString(),
        });
        try {
          for (const op of OPS) {
            const m = await interleaveSides(sides, op, iterations(ctx, op), ctx.rounds(11, 2));
            const [floor, routed, roles] = [m.get('floor')!, m.get('routed')!, m.get('roles')!];
            const base = { case: "isolation: 'role'", dialect: ctx.dialect } as const;
            rows.push(
              row(
                { ...base, metric: `${op}, wall, roles vs floor, ${node.label}`, unit: 'µs/op', a: roles.wallUs, b: floor.wallUs },
                op === 'findByPk' && node.major >= 24 ? { maxRatio: 1.05 } : undefined,
              ),
              row({ ...base, metric: `${op}, wall, roles vs routing alone, ${node.label}`, unit: 'µs/op', a: roles.wallUs, b: routed.wallUs }),
              row({ ...base, metric: `${op}, client CPU, roles vs floor, ${node.label}`, unit: 'µs/op', a: roles.cpuUs, b: floor.cpuUs, note: `+${(roles.cpuUs - floor.cpuUs).toFixed(1)} µs` }),
            );
          }
        } finally {
          await closeSides(sides);
        }
      }
    } finally {
      await admin.query(`DROP OWNED BY "${login}"`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS "${login}"`).catch(() => undefined);
      // The tenant role goes with the bench's schemas: DROP OWNED BY takes its grants.
      await admin.query(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${group}`).catch(() => undefined);
    }
    return rows;
  },
};

/**
 * What `SET LOCAL ROLE` itself adds to one statement on the wire and in the
 * server (the same primary-key SELECT, with and without the role in front,
 * in one message, on one pg connection, interleaved): the floor of the
 * feature's cost, without Sequelize or this package.
 */
async function protocolCost(ctx: BenchContext, schema: string): Promise<Row> {
  const manager = (ctx.fixtures.admin as any).connectionManager;
  const client = await manager.getConnection();
  const q = (sql: string) => new Promise((resolve, reject) => client.query(sql, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result))));
  const select = `SELECT "id", "name" FROM "${schema}"."widgets" WHERE "id" = 1`;
  const withRole = `SET LOCAL ROLE "${schema}"; ${select}`;
  try {
    const n = ctx.quick ? 50 : 1000;
    const a = perOp(n, () => q(withRole));
    const b = perOp(n, () => q(select));
    await a();
    await b();
    const r = await interleave(ctx.rounds(21, 3), a, b);
    return row({
      case: "isolation: 'role'",
      metric: 'SET LOCAL ROLE in front of a primary-key SELECT, one pg connection (protocol + server)',
      dialect: ctx.dialect,
      unit: 'µs/query',
      a: r.a * 1000,
      b: r.b * 1000,
      note: `+${((r.a - r.b) * 1000).toFixed(1)} µs`,
    });
  } finally {
    manager.releaseConnection(client);
  }
}
