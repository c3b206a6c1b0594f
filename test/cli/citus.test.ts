import { expect } from 'chai';
import { cliMessage } from '../../lib/cli/output';
import { parseNode } from '../../lib/cli/citus';
import { describeDialects } from '../support/dialects';
import { P, Project, expectCode } from './project';

/** Each scale-out command with arguments that would be fine on a cluster, and the command its error names. */
const COMMANDS: Array<[string[], string]> = [
  [['tenant:placement', 'acme'], 'apartment tenant:placement'],
  [['tenant:placement', '--all'], 'apartment tenant:placement'],
  [['tenant:move', 'acme', '--to', '127.0.0.1:5432'], 'apartment tenant:move'],
  [['citus:reference', 'accounts'], 'apartment citus:reference'],
  [['citus:distribute'], 'apartment citus:distribute'],
  [['citus:distribute', '--tenant', 'acme'], 'apartment citus:distribute'],
];

describe('apartment CLI: the Citus commands without a cluster', () => {
  it('--to is host:port ([v6]:port too), refused otherwise before connecting', () => {
    expect(parseNode('10.0.0.3:5432')).to.deep.equal({ host: '10.0.0.3', port: 5432 });
    expect(parseNode('worker-2.internal:6432')).to.deep.equal({ host: 'worker-2.internal', port: 6432 });
    expect(parseNode('[::1]:5432')).to.deep.equal({ host: '::1', port: 5432 });
    for (const bad of ['10.0.0.3', ':5432', '10.0.0.3:0', '10.0.0.3:65536', 'a:b', '::1:5432', '']) {
      expect(() => parseNode(bad), bad).to.throw(/Expected `--to` to be host:port of a Citus node/);
    }
  });

  it("the core's advice names the CLI commands", () => {
    expect(cliMessage("apartment.placement() needs a Citus cluster: create the Apartment with `distribute: 'citus'` on a Sequelize instance")).to.equal(
      "apartment tenant:placement needs a Citus cluster: pass --distribute citus (or set `tenant-distribute: 'citus'` in .sequelizerc; with --apartment, create that Apartment with `distribute: 'citus'`) on a Sequelize instance",
    );
    expect(cliMessage("then call apartment.moveTenant('acme', { host, port, mode }) again; apartment.citus.distribute('acme'); apartment.citus.reference()")).to.equal(
      'then call apartment tenant:move acme --to <host:port> --mode <mode> again; apartment citus:distribute --tenant acme; apartment citus:reference',
    );
  });
});

describeDialects('apartment CLI: Citus commands without distribute: citus fail with ConfigurationError', (d) => {
  let project: Project;

  before(async () => {
    project = new Project().rc({ url: d.url, 'tenant-prefix': `${P}nc` }).copy('tenant-migrations');
  });
  after(() => project?.remove());

  it('each command: exit code 1, ConfigurationError naming itself and --distribute citus (text and --json)', async function () {
    this.timeout(120_000);
    for (const [args, command] of COMMANDS) {
      const run = await project.run([...args, '--json']);
      expectCode(run, 1);
      const { error } = run.json();
      expect(error.name, args.join(' ')).to.equal('ConfigurationError');
      expect(error.message, args.join(' ')).to.contain(`${command} needs a Citus cluster: pass --distribute citus`).and.not.contain('apartment.');
      const text = await project.run(args);
      expectCode(text, 1);
      expect(text.stderr).to.contain(`apartment ${args[0]}: error: ${command} needs a Citus cluster`);
    }
  });

  it('--distribute (and .sequelizerc tenant-distribute) accepts citus only, and not next to --apartment', async () => {
    const bad = await project.run(['tenant:list', '--distribute', 'cockroach', '--json']);
    expectCode(bad, 1);
    expect(bad.json().error).to.deep.include({ name: 'ConfigurationError', message: "Expected `--distribute` to be 'citus' (or left out), got `\"cockroach\"` (string)." });
    const rc = new Project().rc({ url: d.url, 'tenant-distribute': 'yes' });
    try {
      expect((await rc.run(['tenant:list', '--json'])).json().error.message).to.contain('Expected `tenant-distribute` in .sequelizerc to be');
    } finally {
      rc.remove();
    }
    const clash = await project.run(['tenant:list', '--apartment', './db.js', '--distribute', 'citus', '--json']);
    expectCode(clash, 1);
    expect(clash.json().error.message).to.contain('--distribute cannot be combined with the app');
  });
});

describeDialects('apartment CLI: --distribute citus on MySQL/MariaDB', (d) => {
  it('is refused: Citus needs the postgres dialect', async () => {
    const project = new Project().rc({ url: d.url, 'tenant-prefix': `${P}nc` });
    try {
      const run = await project.run(['tenant:placement', '--all', '--distribute', 'citus', '--json']);
      expectCode(run, 1);
      expect(run.json().error.name).to.equal('ConfigurationError');
      expect(run.json().error.message).to.contain("needs the 'postgres' dialect");
    } finally {
      project.remove();
    }
  });
}, ['mysql', 'mariadb']);

describeDialects('apartment CLI: --distribute citus on PostgreSQL without the extension', (d) => {
  it('every Citus command says CREATE EXTENSION citus, or drop --distribute', async function () {
    this.timeout(120_000);
    const project = new Project().rc({ url: d.url, 'tenant-prefix': `${P}nc`, 'tenant-distribute': 'citus' }).copy('tenant-migrations');
    try {
      for (const [args] of [...COMMANDS, [['tenant:create', 'acme']]]) {
        const run = await project.run([...args, '--json']);
        expectCode(run, 1);
        const { error } = run.json();
        expect(error.name, args.join(' ')).to.equal('ConfigurationError');
        expect(error.message, args.join(' ')).to.contain('Run CREATE EXTENSION citus on the coordinator, or drop --distribute citus');
      }
    } finally {
      project.remove();
    }
  });
}, ['postgres']);
