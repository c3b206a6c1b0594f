import { expect } from 'chai';
import { DataTypes, Sequelize, type ModelStatic, type Model } from 'sequelize';
import { Apartment, ConfigurationError, MigrationError, TenantExistsError, TenantNotFoundError } from 'sequelize-apartment';
import { citusSequelize, CITUS_URL, describeCitus, onEachWorker, type CitusNode } from '../support/citus';
import { fixture } from '../support/paths';

const P = 'cit_';
const OK = fixture('citus', 'ok');

describeCitus('tenants distributed over a Citus cluster', () => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Account: ModelStatic<Model>;
  let Order: ModelStatic<Model>;
  let workers: CitusNode[];
  const opened: Sequelize[] = [];

  const open = () => {
    const s = citusSequelize();
    opened.push(s);
    return s;
  };
  /** The schema as each worker's own catalog sees it. */
  const onWorkers = (schema: string): Promise<boolean[]> =>
    onEachWorker(workers, async (worker) => {
      const [rows] = await worker.query('SELECT 1 FROM pg_namespace WHERE nspname = ?', { replacements: [schema] });
      return rows.length > 0;
    });
  const dropOwn = async () => {
    for (const key of await apartment.tenants()) await apartment.dropTenant(key).catch(() => undefined);
    const [spares] = await sequelize.query('SELECT nspname FROM pg_namespace WHERE left(nspname, ?) = ?', { replacements: [P.length, P] });
    for (const { nspname } of spares as Array<{ nspname: string }>) await sequelize.query(`DROP SCHEMA "${nspname}" CASCADE`);
  };

  before(async function () {
    this.timeout(120_000);
    sequelize = open();
    Account = sequelize.define('CitAccount', { name: DataTypes.STRING }, { tableName: 'cit_accounts', timestamps: false });
    Order = sequelize.define('CitOrder', { amount: DataTypes.BIGINT, account_id: DataTypes.INTEGER }, { tableName: 'cit_orders', timestamps: false });
    apartment = new Apartment(sequelize, { prefix: P, distribute: 'citus', sharedModels: ['CitAccount'], migrationsPath: OK });
    await dropOwn();
    await sequelize.query('DROP TABLE IF EXISTS public.cit_accounts CASCADE');
    await Account.sync();
    const [nodes] = await sequelize.query('SELECT nodename AS host, nodeport AS port FROM pg_dist_node WHERE shouldhaveshards AND isactive ORDER BY nodeport');
    workers = nodes as CitusNode[];
    expect(workers.length, 'worker nodes (the cluster needs 2)').to.be.at.least(2);
  });

  after(async function () {
    this.timeout(120_000);
    if (!apartment) return; // skipped: no CITUS_URL
    await dropOwn();
    await sequelize.query('DROP TABLE IF EXISTS public.cit_accounts CASCADE');
    for (const s of opened) await s.close().catch(() => undefined);
  });

  it('a tenant FK to a shared table needs a reference table: createTenant fails cleanly before, works after; reference() is idempotent', async function () {
    this.timeout(120_000);
    const error = await apartment.createTenant('early').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(MigrationError);
    expect((error as Error).message).to.match(/reference table/);
    expect(await apartment.exists('early')).to.equal(false);

    expect(await apartment.citus.reference(Account)).to.equal(true);
    expect(await apartment.citus.reference('cit_accounts')).to.equal(false);
    const [[row]] = (await sequelize.query("SELECT citus_table_type AS type FROM citus_tables WHERE table_name = 'public.cit_accounts'::regclass")) as any;
    expect(row.type).to.equal('reference');

    const result = await apartment.createTenant('early');
    expect(result.ok).to.equal(true);
    const account = await Account.create({ name: 'acme' });
    await apartment.run('early', () => Order.create({ account_id: (account as any).id, amount: 5 }));
    // The foreign key holds on the worker: no such account.
    const broken = await apartment.run('early', () => Order.create({ account_id: 999_999, amount: 1 })).catch((e: Error) => e);
    expect(broken).to.be.instanceOf(Error);
    expect((broken as Error).name).to.equal('SequelizeForeignKeyConstraintError');
  });

  it('createTenant makes distributed schemas, spread over both workers; placement() and placements() say where', async function () {
    this.timeout(180_000);
    const keys = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    for (const key of keys) await apartment.createTenant(key);
    const [distributed] = await sequelize.query('SELECT schemaid::regnamespace::text AS name FROM pg_dist_schema WHERE left(schemaid::regnamespace::text, ?) = ?', {
      replacements: [P.length, P],
    });
    expect((distributed as Array<{ name: string }>).map((r) => r.name)).to.include.members(keys.map((k) => P + k));
    const placements = await apartment.placements();
    const ports = new Set(keys.map((key) => placements.get(key)?.port));
    expect([...ports].sort()).to.deep.equal(workers.map((w) => w.port).sort());
    expect(await apartment.placement('p1')).to.deep.equal(placements.get('p1'));
    // The tenant's tables live on its node only.
    const onNodes = await onWorkers(P + 'p1');
    expect(onNodes.filter(Boolean).length).to.be.at.least(1);
  });

  it('a failed migration in createTenant leaves nothing on any node', async function () {
    this.timeout(120_000);
    const failing = new Apartment(open(), { prefix: P, distribute: 'citus', migrationsPath: fixture('citus', 'failing') });
    const error = await failing.createTenant('broken').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MigrationError);
    expect(await apartment.exists('broken')).to.equal(false);
    expect(await onWorkers(P + 'broken')).to.deep.equal(workers.map(() => false));
    const [rows] = await sequelize.query("SELECT 1 FROM pg_dist_schema WHERE schemaid::regnamespace::text = 'cit_broken'").catch(() => [[]]);
    expect(rows).to.deep.equal([]);
  });

  it('moveTenant under concurrent traffic: the tenant changes node, nothing is lost, nothing lands in another tenant', async function () {
    this.timeout(300_000);
    await apartment.createTenant('mover');
    await apartment.createTenant('stayer');
    await apartment.run('stayer', () => Order.create({ amount: 42 }));
    const from = (await apartment.placement('mover'))!;
    const to = workers.find((w) => w.port !== from.port)!;
    const written: number[] = [];
    const errors: unknown[] = [];
    let running = true;
    const loops = Array.from({ length: 4 }, async (_, loop) => {
      for (let i = 0; running; i++) {
        const amount = loop * 1_000_000 + i;
        try {
          await apartment.run('mover', async () => {
            await Order.create({ amount });
            written.push(amount);
            await Order.count();
          });
          const stayers = await apartment.run('stayer', () => Order.findAll({ raw: true }));
          if (stayers.length !== 1 || Number((stayers[0] as any).amount) !== 42) errors.push(new Error(`stayer saw ${JSON.stringify(stayers)}`));
        } catch (error) {
          errors.push(error);
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await apartment.moveTenant('mover', { host: to.host, port: to.port });
    const moveMs = Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(loops);
    console.log(`      moved in ${moveMs} ms while ${written.length} rows were written`);
    expect(errors).to.deep.equal([]);
    expect(await apartment.placement('mover')).to.deep.equal({ host: to.host, port: to.port });
    const rows = await apartment.run('mover', () => Order.findAll({ raw: true }));
    expect(rows.map((r: any) => Number(r.amount)).sort((a, b) => a - b)).to.deep.equal([...written].sort((a, b) => a - b));
    expect(written.length).to.be.greaterThan(0);
  });

  it('moveTenant refuses an unknown node, a bad target and a tenant with no tables, before moving anything', async function () {
    this.timeout(60_000);
    const unknown = await apartment.moveTenant('p1', { host: '127.0.0.1', port: 1 }).catch((e: unknown) => e);
    expect(unknown).to.be.instanceOf(ConfigurationError);
    expect((unknown as Error).message).to.match(/no active Citus node 127\.0\.0\.1:1/);
    const bad = await apartment.moveTenant('p1', { host: '', port: 5432 }).catch((e: unknown) => e);
    expect(bad).to.be.instanceOf(ConfigurationError);
    const mode = await apartment.moveTenant('p1', { ...workers[0]!, mode: 'teleport' as any }).catch((e: unknown) => e);
    expect(mode).to.be.instanceOf(ConfigurationError);
    expect(await apartment.moveTenant('nobody', workers[0]!).catch((e: unknown) => e)).to.be.instanceOf(TenantNotFoundError);
    const empty = new Apartment(open(), { prefix: P, distribute: 'citus', migrationsPath: false });
    await empty.createTenant('bare');
    expect(await empty.placement('bare')).to.equal(undefined);
    expect(await empty.moveTenant('bare', workers[0]!).catch((e: unknown) => e)).to.be.instanceOf(ConfigurationError);
  });

  it('a logical move is refused while the source commits asynchronously (synchronous_commit = off loses writes); block_writes still moves', async function () {
    this.timeout(120_000);
    const from = (await apartment.placement('p2'))!;
    const to = workers.find((w) => w.port !== from.port)!;
    const url = new URL(CITUS_URL as string);
    url.hostname = from.host;
    url.port = String(from.port);
    const source = new Sequelize(url.toString(), { logging: false });
    const set = async (sql: string) => {
      await source.query(sql);
      await source.query('SELECT pg_reload_conf()');
      await new Promise((resolve) => setTimeout(resolve, 300));
    };
    const [[{ before }]] = (await source.query("SELECT current_setting('synchronous_commit') AS before")) as any;
    try {
      await set('ALTER SYSTEM SET synchronous_commit = off');
      for (const mode of [undefined, 'auto', 'force_logical'] as const) {
        const error = await apartment.moveTenant('p2', { ...to, ...(mode ? { mode } : {}) }).catch((e: unknown) => e);
        expect(error, mode).to.be.instanceOf(ConfigurationError);
        expect((error as Error).message).to.contain(`synchronous_commit is off on ${from.host}:${from.port}`).and.contain("mode: 'block_writes'");
        expect(await apartment.placement('p2')).to.deep.equal(from);
      }
      expect(await apartment.moveTenant('p2', { ...to, mode: 'block_writes' })).to.deep.include({ from, to, moved: true });
    } finally {
      // Back to what the node had (RESET alone would fall back to postgresql.conf, which may differ).
      await set('ALTER SYSTEM RESET synchronous_commit');
      const [[{ now }]] = (await source.query("SELECT current_setting('synchronous_commit') AS now")) as any;
      if (now !== before) await set(`ALTER SYSTEM SET synchronous_commit = '${before}'`);
      await source.close();
    }
    expect(await apartment.placement('p2')).to.deep.equal(to);
  });

  it('two processes dropping (or creating) one tenant: one wins, the other gets the domain error, no deadlock', async function () {
    this.timeout(180_000);
    const other = new Apartment(open(), { prefix: P, distribute: 'citus', sharedModels: ['CitAccount'], migrationsPath: OK });
    for (let round = 0; round < 3; round++) {
      const created = await Promise.allSettled([apartment.createTenant('race'), other.createTenant('race')]);
      expect(created.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      expect((created.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).to.be.instanceOf(TenantExistsError);
      const dropped = await Promise.allSettled([apartment.dropTenant('race'), other.dropTenant('race')]);
      expect(dropped.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      expect((dropped.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).to.be.instanceOf(TenantNotFoundError);
      expect(await onWorkers(P + 'race')).to.deep.equal(workers.map(() => false));
    }
  });

  it('citus.distribute() turns it on for tenants created without it, idempotently; distributeAll() reports each', async function () {
    this.timeout(180_000);
    // Not through citusSequelize(): the harness would give this one `distribute: 'citus'` too.
    const plainSequelize = new Sequelize(CITUS_URL as string, { logging: false });
    opened.push(plainSequelize);
    // (Only the CREATE TABLE migration: plain PostgreSQL routing sends the prefixed CREATE INDEX Citus refuses.)
    const plain = new Apartment(plainSequelize, { prefix: P, sharedModels: ['CitAccount'], migrationsPath: fixture('citus', 'legacy') });
    await plain.createTenant('legacy');
    const isDistributed = async () =>
      ((await sequelize.query("SELECT 1 FROM pg_dist_schema WHERE schemaid = to_regnamespace('cit_legacy')"))[0] as unknown[]).length > 0;
    expect(await isDistributed()).to.equal(false);
    expect(await apartment.citus.distribute('legacy')).to.equal(true);
    expect(await isDistributed()).to.equal(true);
    expect(await apartment.citus.distribute('legacy')).to.equal(false);
    expect(await apartment.placement('legacy')).to.have.property('port');
    const all = await apartment.citus.distributeAll();
    expect(all.every((r) => r.distributed === false)).to.equal(true);
    expect(all.map((r) => r.tenant)).to.include('legacy');
    expect(await apartment.citus.distribute('nobody').catch((e: unknown) => e)).to.be.instanceOf(TenantNotFoundError);
  });

  it('INTEGER autoIncrement (int4): through the coordinator ids run 1, 2, 3 across a move; on a worker nextval is refused, BIGINT gets per-node ranges', async function () {
    this.timeout(120_000);
    await apartment.createTenant('seq');
    const ids = async () => ((await apartment.run('seq', () => Order.findAll({ order: [['id', 'ASC']], raw: true }))) as any[]).map((r) => Number(r.id));
    await apartment.run('seq', async () => {
      await Order.create({ amount: 1 });
      await Order.create({ amount: 2 });
    });
    const from = (await apartment.placement('seq'))!;
    const to = workers.find((w) => w.port !== from.port)!;
    expect(await apartment.moveTenant('seq', to)).to.deep.include({ tenant: 'seq', schema: `${P}seq`, from, to, moved: true });
    await apartment.run('seq', () => Order.create({ amount: 3 }));
    expect(await ids()).to.deep.equal([1, 2, 3]);

    // Written on the worker itself (not what this package does), int4 defaults fail and bigint ones jump to the node's range.
    await sequelize.query(`CREATE TABLE "${P}seq".big (id BIGSERIAL PRIMARY KEY, v int)`);
    const url = new URL(CITUS_URL as string);
    url.hostname = to.host;
    url.port = String(to.port);
    const worker = new Sequelize(url.toString(), { logging: false });
    try {
      const refused = await worker.query(`INSERT INTO "${P}seq".cit_orders (amount) VALUES (4)`).catch((e: Error) => e);
      expect(refused).to.be.instanceOf(Error);
      expect((refused as Error).message).to.equal('nextval(sequence) calls in worker nodes are not supported for column defaults of type int or smallint');
      const [[big]] = (await worker.query(`INSERT INTO "${P}seq".big (v) VALUES (1) RETURNING id`)) as any;
      expect(BigInt(big.id) >= 2n ** 48n, `bigint id on a worker: ${big.id}`).to.equal(true);
    } finally {
      await worker.close();
    }
    expect(await ids()).to.deep.equal([1, 2, 3]);
  });

  it('warm spares are distributed too, and a claimed spare keeps its placement', async function () {
    this.timeout(180_000);
    await apartment.prewarm(1);
    const [spares] = await sequelize.query("SELECT schemaid::regnamespace::text AS name FROM pg_dist_schema WHERE schemaid::regnamespace::text LIKE 'cit\\_\\_spare\\_%'");
    expect(spares).to.have.length(1);
    await apartment.createTenant('warm');
    expect(await apartment.placement('warm')).to.have.property('port');
    await apartment.run('warm', () => Order.create({ amount: 7 }));
    expect(await apartment.run('warm', () => Order.count())).to.equal(1);
  });
});
