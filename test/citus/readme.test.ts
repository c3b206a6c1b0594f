import { expect } from 'chai';
import { move, scaleOut } from '../../examples/readme/citus';
import { citusSequelize, describeCitus } from '../support/citus';
import { fixture } from '../support/paths';

describeCitus("README 'Scale out with Citus' snippets", () => {
  const P = 'citreadme_';
  let sequelize: ReturnType<typeof citusSequelize>;

  const cleanup = async () => {
    const [rows] = await sequelize.query('SELECT nspname FROM pg_namespace WHERE left(nspname, ?) = ?', { replacements: [P.length, P] });
    for (const { nspname } of rows as Array<{ nspname: string }>) await sequelize.query(`DROP SCHEMA "${nspname}" CASCADE`);
    await sequelize.query('DROP TABLE IF EXISTS public.accounts CASCADE');
  };
  before(async () => {
    sequelize = citusSequelize();
    await cleanup();
  });
  after(async () => {
    if (!sequelize) return;
    await cleanup();
    await sequelize.close();
  });

  it('run as written: reference table, distributed tenant, placement, move', async function () {
    this.timeout(120_000);
    const { apartment, where, other } = await scaleOut(sequelize, { prefix: P, migrationsPath: fixture('citus', 'readme') });
    expect(where).to.have.property('port');
    expect(other).to.deep.equal(where);
    const [nodes] = await sequelize.query('SELECT nodename AS host, nodeport AS port FROM pg_dist_node WHERE shouldhaveshards AND nodeport <> ?', {
      replacements: [where!.port],
    });
    const target = (nodes as Array<{ host: string; port: number }>)[0]!;
    await move(apartment, target.host, target.port);
    expect(await apartment.placement('acme')).to.deep.equal(target);
  });
});
