import { expect } from 'chai';
import { DataTypes, type Options } from 'sequelize';
import { Apartment, ConfigurationError, type AffinityOptions } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';

/**
 * Tenant-affine connections on the real servers: the pool prefers a
 * connection that already served the tenant, never waits for it, keeps
 * transactions on theirs, retires connections after N distinct tenants, and
 * stays Sequelize's pool (max, maxUses, acquire and idle timeouts).
 */
describeDialects('tenant-affine connections', (d) => {
  const prefix = 'aff_';
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
  const pidSql = d.name === 'postgres' ? 'SELECT pg_backend_pid() AS pid' : 'SELECT CONNECTION_ID() AS pid';

  before(async () => {
    await d.dropAll(prefix);
    const sequelize = d.sequelize();
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: false });
    const Widget = sequelize.define('Widget', { name: DataTypes.STRING }, { tableName: 'widgets' });
    for (const key of keys) {
      await apartment.createTenant(key);
      await apartment.run(key, async () => {
        await Widget.sync();
        await Widget.create({ name: key });
      });
    }
    await sequelize.close();
  });
  after(() => d.dropAll(prefix));

  function setup(poolOptions: Options['pool'], affinity?: boolean | AffinityOptions) {
    const sequelize = d.sequelize({ pool: poolOptions });
    const apartment = new Apartment(sequelize, { prefix, ...(affinity === undefined ? {} : { affinity }) });
    const Widget = sequelize.define('Widget', { name: DataTypes.STRING }, { tableName: 'widgets' });
    const pid = async (key: string): Promise<number> => {
      const [rows] = await apartment.run(key, () => sequelize.query(pidSql));
      return Number((rows as Array<{ pid: unknown }>)[0]!.pid);
    };
    const pool = (sequelize as any).connectionManager.pool;
    return { sequelize, apartment, Widget, pid, pool };
  }

  /** Two tenants get a connection each, then alternate one query at a time. */
  async function alternate(affinity: boolean) {
    const { apartment, pid, sequelize } = setup({ max: 2, min: 2 }, affinity);
    // Both connections open, each serving one tenant (concurrently, so they cannot share one).
    await Promise.all(['a', 'b'].map((key) => apartment.run(key, () => sequelize.query(d.name === 'postgres' ? 'SELECT pg_sleep(0.05)' : 'SELECT SLEEP(0.05)'))));
    const seen: Record<string, Set<number>> = { a: new Set(), b: new Set() };
    for (let i = 0; i < 6; i++) for (const key of ['a', 'b']) seen[key]!.add(await pid(key));
    return seen;
  }

  it("is on by default: a tenant's queries go to the connection that served it, even when another was released last", async () => {
    const seen = await alternate(true);
    expect(seen.a!.size).to.equal(1);
    expect(seen.b!.size).to.equal(1);
    // The plain pool (affinity: false) hands out the connection released last: both tenants share it.
    const plain = await alternate(false);
    expect(new Set([...plain.a!, ...plain.b!]).size).to.equal(1);
  });

  it('each tenant has a home connection: with idle connections to choose from, tenants spread over the pool and each keeps its own', async () => {
    const run = async (affinity: boolean) => {
      const { pid, sequelize, pool } = setup({ max: 3 }, affinity);
      // Three connections open and idle, none of which served a tenant yet.
      await Promise.all([1, 2, 3].map(() => sequelize.query(d.name === 'postgres' ? 'SELECT pg_sleep(0.05)' : 'SELECT SLEEP(0.05)')));
      expect(pool.size).to.equal(3);
      const seen = new Map<string, Set<number>>(keys.map((key) => [key, new Set()]));
      // One query at a time: a plain pool hands every one to the connection released last.
      for (let round = 0; round < 3; round++) for (const key of keys) seen.get(key)!.add(await pid(key));
      return seen;
    };
    const affine = await run(true);
    for (const [key, pids] of affine) expect(pids.size, key).to.equal(1);
    // The 6 tenants' homes (a hash of the name over 3 slots) are not all one connection.
    expect(new Set([...affine.values()].map((pids) => [...pids][0])).size).to.be.at.least(2);
    const plain = await run(false);
    expect(new Set([...plain.values()].flatMap((pids) => [...pids])).size).to.equal(1);
  });

  it('routing stays correct under interleaving: 6 tenants, 60 concurrent operations, pool of 3', async () => {
    const { apartment, Widget, sequelize } = setup({ max: 3 });
    const wrong: string[] = [];
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const key = keys[(i * 7) % keys.length]!;
        await apartment.run(key, async () => {
          const widget = await Widget.findByPk(1);
          if (widget?.get('name') !== key) wrong.push(`${key}: findByPk gave ${widget?.get('name')}`);
          const [rows] = await sequelize.query('SELECT name FROM widgets WHERE id = 1');
          if ((rows as Array<{ name: string }>)[0]?.name !== key) wrong.push(`${key}: raw SQL gave ${JSON.stringify(rows)}`);
        });
      }),
    );
    expect(wrong).to.deep.equal([]);
  });

  it("a busy tenant spills over: while its connection is held, its next query runs at once on another", async () => {
    const { apartment, sequelize, pid } = setup({ max: 2 });
    const home = await pid('a');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inside = new Promise<void>((resolve) => (started = resolve));
    const transaction = apartment.run('a', () =>
      sequelize.transaction(async (t) => {
        const [rows] = await sequelize.query(pidSql, { transaction: t });
        started();
        await held;
        return Number((rows as Array<{ pid: unknown }>)[0]!.pid);
      }),
    );
    await inside;
    // The transaction holds a's connection; a second query for a does not wait for it.
    const other = await pid('a');
    release();
    const inTransaction = await transaction;
    expect(inTransaction).to.equal(home);
    expect(other).to.not.equal(home);
  });

  it('a hot tenant bursting uses every connection of the pool, and never more than max', async () => {
    const { apartment, sequelize, pool } = setup({ max: 3 });
    let biggest = 0;
    const pids = new Set<number>();
    await Promise.all(
      Array.from({ length: 30 }, () =>
        apartment.run('a', async () => {
          const [rows] = await sequelize.query(d.name === 'postgres' ? 'SELECT pg_backend_pid() AS pid, pg_sleep(0.01)' : 'SELECT CONNECTION_ID() AS pid, SLEEP(0.01)');
          pids.add(Number((rows as Array<{ pid: unknown }>)[0]!.pid));
          biggest = Math.max(biggest, pool.size);
        }),
      ),
    );
    expect(pids.size).to.equal(3);
    expect(biggest).to.be.at.most(3);
  });

  it('transactions keep their connection while other tenants interleave on the pool', async () => {
    const { apartment, sequelize, pid } = setup({ max: 3 });
    const inside = await apartment.run('a', () =>
      sequelize.transaction(async (t) => {
        const seen = new Set<number>();
        for (let i = 0; i < 5; i++) {
          await Promise.all([pid('b'), pid('c')]);
          const [rows] = await sequelize.query(pidSql, { transaction: t });
          seen.add(Number((rows as Array<{ pid: unknown }>)[0]!.pid));
        }
        return seen;
      }),
    );
    expect(inside.size).to.equal(1);
  });

  it('retires a connection after it served maxTenantsPerConnection distinct tenants', async () => {
    const { pid, pool } = setup({ max: 1 }, { maxTenantsPerConnection: 3 });
    const pids: number[] = [];
    for (const key of ['a', 'b', 'a', 'c', 'd', 'e', 'f']) pids.push(await pid(key));
    // a, b, a, c: the third distinct tenant retires the connection on release; d, e, f on the next one.
    expect(pids.slice(0, 4).every((p) => p === pids[0])).to.equal(true);
    expect(pids.slice(4, 7).every((p) => p === pids[4])).to.equal(true);
    expect(pids[4]).to.not.equal(pids[0]);
    expect(pool.size).to.be.at.most(1);
    // Without affinity the same connection serves them all.
    const plain = setup({ max: 1 }, false);
    const plainPids = new Set<number>();
    for (const key of keys) plainPids.add(await plain.pid(key));
    expect(plainPids.size).to.equal(1);
  });

  it("keeps Sequelize's pool options: maxUses, acquire timeout, idle eviction", async () => {
    const uses = setup({ max: 1, maxUses: 2 });
    const pids: number[] = [];
    for (let i = 0; i < 4; i++) pids.push(await uses.pid('a'));
    expect(pids[0]).to.equal(pids[1]);
    expect(pids[2]).to.not.equal(pids[1]);
    expect(pids[2]).to.equal(pids[3]);

    const timeout = setup({ max: 1, acquire: 200 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inside = new Promise<void>((resolve) => (started = resolve));
    const transaction = timeout.apartment.run('a', () =>
      timeout.sequelize.transaction(() => {
        started();
        return held;
      }),
    );
    await inside;
    const error = await timeout.pid('a').catch((e: Error) => e);
    release();
    await transaction;
    expect((error as Error).name).to.equal('SequelizeConnectionAcquireTimeoutError');

    const idle = setup({ max: 2, min: 0, idle: 50, evict: 20 });
    await Promise.all([idle.pid('a'), idle.pid('b')]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(idle.pool.size).to.equal(0);
    expect(await idle.pid('a')).to.be.a('number');
  });

  it('refuses bad options with a ConfigurationError', () => {
    for (const affinity of [1, 'yes', { prefer: 'no' }, { maxTenantsPerConnection: -1 }, { maxTenantsPerConnection: 1.5 }]) {
      const sequelize = d.sequelize();
      expect(() => new Apartment(sequelize, { prefix, affinity: affinity as any })).to.throw(ConfigurationError, /affinity/);
    }
  });
});
