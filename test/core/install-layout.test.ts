import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DataTypes, Sequelize } from 'sequelize';
import { Apartment, ConfigurationError, CrossTenantError } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { connect, URLS } from '../support/servers';
import { extractPackage, pack } from '../support/pack';
import { ROOT, fixture } from '../support/paths';

const run = promisify(execFile);
/** The app's Sequelize: another copy (and version) than the one this repository develops against. */
const APP_SEQUELIZE = path.join(ROOT, 'node_modules', 'sequelize-app-copy');
const PACKAGE_JSON = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

type Layout = 'symlink' | 'tarball';

/**
 * A throw-away app folder: node_modules/sequelize is the app's own copy, and
 * sequelize-apartment is either a symlink to this repository (what
 * `npm link`, `file:` dependencies and workspaces give) or the extracted
 * `npm pack` tarball with its dependencies beside it.
 */
async function appFolder(layout: Layout): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `apartment-layout-${layout}-`));
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules);
  fs.symlinkSync(APP_SEQUELIZE, path.join(modules, 'sequelize'), 'dir');
  fs.copyFileSync(fixture('linked-app', 'app.js'), path.join(dir, 'app.js'));
  if (layout === 'symlink') {
    fs.symlinkSync(ROOT, path.join(modules, 'sequelize-apartment'), 'dir');
  } else {
    await extractPackage((await pack()).tarball, path.join(modules, 'sequelize-apartment'));
    for (const dependency of Object.keys(PACKAGE_JSON.dependencies)) {
      fs.symlinkSync(path.join(ROOT, 'node_modules', dependency), path.join(modules, dependency), 'dir');
    }
  }
  return dir;
}

describeDialects('the package installed beside an app with its own Sequelize copy', (d) => {
  const folders: string[] = [];
  after(() => {
    for (const dir of folders.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const layout of ['symlink', 'tarball'] as const) {
    it(`as a ${layout}: association methods of an instance run in its tenant and refuse another tenant's context`, async function () {
      this.timeout(120_000);
      const keyPrefix = `core-l${layout[0]}${process.pid}-`;
      await d.dropAll(`tenant_${keyPrefix}`);
      const dir = await appFolder(layout);
      folders.push(dir);
      const { stdout } = await run(process.execPath, ['app.js'], {
        cwd: dir,
        env: { ...process.env, DB_URL: d.url, KEY_PREFIX: keyPrefix },
      }).catch((error) => {
        throw new Error(`the app failed:\n${error.stdout}\n${error.stderr}`);
      });
      const report = JSON.parse(stdout);
      const A = `${keyPrefix}acme`;
      const B = `${keyPrefix}globex`;

      // The layout really gives the package and the app two different copies.
      expect(report.appSequelize).to.equal((JSON.parse(fs.readFileSync(path.join(APP_SEQUELIZE, 'package.json'), 'utf8')) as { version: string }).version);
      expect(report.packageIsSymlink).to.equal(layout === 'symlink');
      if (layout === 'symlink') expect(report.packageSequelize).to.equal((Sequelize as unknown as { version: string }).version); // this repository's (the oldest admitted under test/support/oldest.js)

      expect(report.crossTenantGet).to.include({ error: 'CrossTenantError' });
      expect(report.crossTenantGet.message).to.contain(`belongs to tenant '${A}' but is used in tenant '${B}'`);
      expect(report.crossTenantBelongsTo).to.include({ error: 'CrossTenantError' });
      expect(report.outsideGet).to.deep.equal({ value: [A] });
      expect(report.outsideCreate).to.deep.equal({ value: A });
      expect(report.outsideCount).to.deep.equal({ value: 2 });
      expect(report.counts).to.deep.equal({ [A]: 2, [B]: 1 });
      expect(await d.schemaExists(`tenant_${A}`)).to.equal(false); // the app dropped its tenants
    });
  }

  it('two Sequelize copies in one process: the associations of each are routed (patched per copy, not once)', async () => {
    const prefix = 'core_copies_';
    await d.dropAll(prefix);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const other = require(APP_SEQUELIZE) as typeof import('sequelize');
    expect(other.Sequelize).to.not.equal(Sequelize);
    try {
      for (const [name, copy] of [['this repository\'s', Sequelize], ['the app\'s', other.Sequelize]] as const) {
        const sequelize = new copy(d.url, { logging: false });
        const Band = sequelize.define('Band', { name: DataTypes.STRING }, { tableName: 'bands' });
        const Member = sequelize.define('Member', { name: DataTypes.STRING }, { tableName: 'members' });
        Band.hasMany(Member);
        Member.belongsTo(Band);
        const apartment = new Apartment(sequelize as Sequelize, { prefix, migrationsPath: false });
        for (const key of ['a', 'b']) {
          if (!(await apartment.exists(key))) await apartment.createTenant(key);
          await apartment.run(key, () => sequelize.sync());
        }
        const band: any = await apartment.run('a', async () => {
          const created: any = await Band.create({ name: 'a-band' });
          await created.createMember({ name: 'a-member' });
          return created;
        });
        await apartment.run('b', () => Member.create({ name: 'b-member' }));
        const crossed = await apartment.run('b', () => band.getMembers()).catch((e: unknown) => e);
        expect(crossed, `${name} copy`).to.be.instanceOf(CrossTenantError);
        expect((await band.getMembers()).map((m: any) => m.name), `${name} copy, outside any context`).to.deep.equal(['a-member']);
        await sequelize.close();
      }
    } finally {
      await d.dropAll(prefix);
    }
  });
});

describe('an instance whose association classes cannot be reached', () => {
  it('new Apartment() throws ConfigurationError saying why, and installs nothing', async () => {
    // A Sequelize subclass that hides one association class from its constructor.
    class Opaque extends Sequelize {}
    Object.defineProperty(Opaque, 'BelongsToMany', { value: undefined });
    const sequelize: any = new Opaque(URLS.postgres, { logging: false });
    await sequelize.close();
    sequelize.define('Thing', { name: DataTypes.STRING });
    const query = sequelize.query;
    const attempt = () => new Apartment(sequelize, { migrationsPath: false });
    expect(attempt).to.throw(ConfigurationError, /has no BelongsToMany/);
    expect(sequelize.query).to.equal(query);
    expect(sequelize.options.hooks?.afterDefine ?? []).to.have.length(0);
    expect(attempt).to.throw(ConfigurationError, /has no BelongsToMany/); // not "already installed"
  });

  it('associations made by another copy than the instance\'s are refused the same way', async () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const other = require(APP_SEQUELIZE);
    const sequelize: any = connect('postgres');
    await sequelize.close();
    const A = sequelize.define('A', {});
    const B = sequelize.define('B', {});
    // What happens when an app mixes copies: an association class of the other copy made by hand.
    A.associations.Bs = new other.HasMany(A, B, {});
    expect(() => new Apartment(sequelize, { migrationsPath: false })).to.throw(ConfigurationError, /A\.Bs was not made by the association classes/);
  });
});
