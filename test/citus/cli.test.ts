import { expect } from 'chai';
import { Sequelize } from 'sequelize';
import { CITUS_URL, describeCitus } from '../support/citus';
import { P, Project, expectCode } from '../cli/project';

interface Node {
  host: string;
  port: number;
}

describeCitus('apartment CLI: tenant:placement, tenant:move, citus:reference, citus:distribute', () => {
  const prefix = `${P}cit`;
  let project: Project;
  let admin: Sequelize;
  let workers: Node[];
  const cli = (...args: string[]) => project.run(args);
  const node = (n: Node) => `${n.host}:${n.port}`;

  const cleanup = async () => {
    const [rows] = await admin.query('SELECT nspname FROM pg_namespace WHERE left(nspname, ?) = ?', { replacements: [prefix.length, prefix] });
    for (const { nspname } of rows as Array<{ nspname: string }>) await admin.query(`DROP SCHEMA "${nspname}" CASCADE`);
    for (const table of ['plans', 'owners']) await admin.query(`DROP TABLE IF EXISTS public."${prefix}${table}" CASCADE`);
  };

  before(async function () {
    this.timeout(120_000);
    admin = new Sequelize(CITUS_URL as string, { logging: false });
    await cleanup();
    const [nodes] = await admin.query('SELECT nodename AS host, nodeport AS port FROM pg_dist_node WHERE shouldhaveshards AND isactive ORDER BY nodeport');
    workers = nodes as Node[];
    expect(workers.length, 'worker nodes (the cluster needs 2)').to.be.at.least(2);
    project = new Project().rc({ url: CITUS_URL, 'tenant-prefix': prefix, 'tenant-distribute': 'citus' }).copy('tenant-migrations');
    for (const key of ['a', 'b', 'c', 'd']) expectCode(await cli('tenant:create', key), 0);
  });
  after(async function () {
    this.timeout(120_000);
    if (!admin) return;
    project?.remove();
    await cleanup();
    await admin.close();
  });

  it('tenant:placement <key> and --all (--json and text): every tenant on a worker, both workers used', async function () {
    this.timeout(60_000);
    const all = await cli('tenant:placement', '--all', '--json');
    expectCode(all, 0);
    const tenants = all.json().tenants as Array<{ tenant: string; schema: string; host: string; port: number }>;
    expect(tenants.map((t) => t.tenant)).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(tenants.map((t) => t.schema)).to.deep.equal(['a', 'b', 'c', 'd'].map((k) => prefix + k));
    for (const t of tenants) expect(workers.map(node)).to.include(node(t));
    expect(new Set(tenants.map((t) => t.port)).size, 'tenants on both workers').to.equal(2);

    const one = await cli('tenant:placement', 'a', '--json');
    expectCode(one, 0);
    expect(one.json()).to.deep.equal({ command: 'tenant:placement', ok: true, tenants: [tenants[0]] });
    const text = await cli('tenant:placement', '--all');
    expectCode(text, 0);
    expect(text.stdout).to.match(/TENANT\s+SCHEMA\s+NODE/).and.contain(`${prefix}a`).and.contain(node(tenants[0]!)).and.contain('4 tenant(s) on');

    const ghost = await cli('tenant:placement', 'ghost', '--json');
    expectCode(ghost, 1);
    expect(ghost.json().error).to.include({ name: 'TenantNotFoundError', tenant: 'ghost' });
    expect(ghost.json().error.message).to.contain('apartment tenant:list');
    const neither = await cli('tenant:placement');
    expectCode(neither, 1);
    expect(neither.stderr).to.contain('--all');
    expectCode(await cli('tenant:placement', 'a', '--all'), 1);
  });

  it('tenant:move <key> --to host:port moves it with its rows; again is a no-op; bad targets are refused before anything moves', async function () {
    this.timeout(120_000);
    const before = (await cli('tenant:placement', 'a', '--json')).json().tenants[0] as Node;
    const target = workers.find((w) => w.port !== before.port)!;
    await admin.query(`INSERT INTO "${prefix}a".gadgets (name) VALUES ('moved'), ('along')`);

    const moved = await cli('tenant:move', 'a', '--to', node(target), '--mode', 'block_writes', '--json');
    expectCode(moved, 0);
    const report = moved.json();
    expect(report).to.deep.include({ command: 'tenant:move', ok: true, tenant: 'a', schema: `${prefix}a`, mode: 'block_writes', moved: true });
    expect(report.from).to.deep.equal({ host: before.host, port: before.port });
    expect(report.to).to.deep.equal(target);
    expect(report.durationMs).to.be.a('number');
    expect((await cli('tenant:placement', 'a', '--json')).json().tenants[0]).to.deep.include(target);
    const [rows] = await admin.query(`SELECT name FROM "${prefix}a".gadgets ORDER BY id`);
    expect(rows).to.deep.equal([{ name: 'moved' }, { name: 'along' }]);

    const again = await cli('tenant:move', 'a', '--to', node(target));
    expectCode(again, 0);
    expect(again.stdout).to.contain('already; nothing moved');
    expect((await cli('tenant:move', 'a', '--to', node(target), '--json')).json()).to.deep.include({ ok: true, moved: false, from: target });

    const auto = await cli('tenant:move', 'a', '--to', node(before));
    expectCode(auto, 0);
    expect(auto.stdout).to.match(/Moved tenant a .* \(auto, /);

    for (const [args, said] of [
      [['--to', 'nowhere'], 'Expected `--to` to be host:port'],
      [['--to', '127.0.0.1:70000'], 'Expected `--to` to be host:port'],
      [['--to', '127.0.0.1:1'], 'no active Citus node 127.0.0.1:1'],
      [['--to', node(target), '--mode', 'teleport'], 'Expected `--mode`'],
    ] as const) {
      const run = await cli('tenant:move', 'a', ...args, '--json');
      expectCode(run, 1);
      expect(run.json().error.name).to.equal('ConfigurationError');
      expect(run.json().error.message).to.contain(said);
    }
    expect((await cli('tenant:placement', 'a', '--json')).json().tenants[0]).to.deep.include(before);
    const ghost = await cli('tenant:move', 'ghost', '--to', node(target), '--json');
    expectCode(ghost, 1);
    expect(ghost.json().error.name).to.equal('TenantNotFoundError');
  });

  it('citus:reference <table...> makes shared tables reference tables, idempotently; a missing table is refused', async function () {
    this.timeout(60_000);
    await admin.query(`CREATE TABLE public."${prefix}plans" (id serial PRIMARY KEY, name text)`);
    const first = await cli('citus:reference', `${prefix}plans`, '--json');
    expectCode(first, 0);
    expect(first.json()).to.deep.equal({ command: 'citus:reference', ok: true, tables: [{ table: `${prefix}plans`, created: true }] });
    const [[type]] = (await admin.query(`SELECT citus_table_type AS type FROM citus_tables WHERE table_name = 'public."${prefix}plans"'::regclass`)) as any;
    expect(type).to.deep.equal({ type: 'reference' });
    const again = await cli('citus:reference', `${prefix}plans`);
    expectCode(again, 0);
    expect(again.stdout).to.contain('was a reference table already');
    const missing = await cli('citus:reference', `${prefix}nope`, '--json');
    expectCode(missing, 1);
    expect(missing.json().error.name).to.equal('ConfigurationError');
    expect(missing.json().error.message).to.contain(`There is no table "public"."${prefix}nope"`);
  });

  it('citus:distribute distributes tenants created without it, reports each (--json), and is idempotent; a refused tenant fails alone', async function () {
    this.timeout(180_000);
    // Tenants made before `distribute` was turned on: the same project without it.
    const plain = new Project().rc({ url: CITUS_URL, 'tenant-prefix': prefix }).copy('tenant-migrations');
    try {
      for (const key of ['old1', 'old2', 'old3']) expectCode(await plain.run(['tenant:create', key]), 0);
    } finally {
      plain.remove();
    }
    // old3 has a foreign key to a shared table that is not a reference table: Citus refuses it.
    await admin.query(`CREATE TABLE public."${prefix}owners" (id serial PRIMARY KEY)`);
    await admin.query(`ALTER TABLE "${prefix}old3".gadgets ADD COLUMN owner_id int REFERENCES public."${prefix}owners" (id)`);
    const distributed = async () =>
      ((await admin.query('SELECT schemaid::regnamespace::text AS name FROM pg_dist_schema WHERE left(schemaid::regnamespace::text, ?) = ? ORDER BY 1', {
        replacements: [prefix.length, prefix],
      }))[0] as Array<{ name: string }>).map((r) => r.name);
    expect(await distributed()).to.deep.equal(['a', 'b', 'c', 'd'].map((k) => prefix + k));

    const run = await cli('citus:distribute', '--json');
    expectCode(run, 1);
    const report = run.json();
    expect(report).to.deep.include({ command: 'citus:distribute', ok: false, distributed: 2, already: 4, failed: 1 });
    const byTenant = Object.fromEntries((report.results as any[]).map((r) => [r.tenant, r]));
    expect(byTenant.old1).to.deep.equal({ tenant: 'old1', schema: `${prefix}old1`, ok: true, distributed: true });
    expect(byTenant.a).to.deep.include({ ok: true, distributed: false });
    expect(byTenant.old3.ok).to.equal(false);
    expect(byTenant.old3.error.name).to.equal('ConfigurationError');
    expect(byTenant.old3.error.message).to.contain("Citus could not distribute tenant 'old3'").and.contain('pass its name to apartment citus:reference,').and.contain('apartment citus:distribute --tenant old3');
    expect(await distributed()).to.include.members([`${prefix}old1`, `${prefix}old2`]).and.not.include(`${prefix}old3`);
    expect((await cli('tenant:placement', 'old1', '--json')).json().tenants[0].port).to.be.oneOf(workers.map((w) => w.port));

    // Fixed as the message says: the referenced table becomes a reference table, then the one tenant.
    expectCode(await cli('citus:reference', `${prefix}owners`), 0);
    const one = await cli('citus:distribute', '--tenant', 'old3', '--json');
    expectCode(one, 0);
    expect(one.json()).to.deep.include({ ok: true, distributed: 1, already: 0, failed: 0 });

    const again = await cli('citus:distribute');
    expectCode(again, 0);
    expect(again.stdout).to.contain('0 distributed, 7 already distributed');
  });
});
