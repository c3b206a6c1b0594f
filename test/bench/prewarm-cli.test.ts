import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { MigrationSets } from '../../bench/migration-sets';
import { describeDialects } from '../support/dialects';
import { ROOT } from '../support/paths';

const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'index.js');
const PREFIX = 'bench_cli_';

describeDialects('apartment tenant:prewarm --count n', (d) => {
  const sets = new MigrationSets();
  before(() => d.dropAll(PREFIX));
  after(async () => {
    await d.dropAll(PREFIX);
    sets.cleanup();
  });

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, '--url', d.url, '--prefix', PREFIX, '--migrations-path', folder, '--json', ...args], { encoding: 'utf8' });
  let folder: string;

  it('tops the spares up to n (fully migrated, not listed as tenants), and refuses a bad count', async () => {
    folder = sets.generate('cli', 3);
    const first = cli('tenant:prewarm', '--count', '2');
    expect(first.status, first.stderr).to.equal(0);
    expect(JSON.parse(first.stdout)).to.deep.equal({ command: 'tenant:prewarm', ok: true, built: 2, ready: 2 });
    const again = cli('tenant:prewarm', '--count', '2');
    expect(JSON.parse(again.stdout)).to.deep.include({ built: 0, ready: 2 });
    const list = cli('tenant:list');
    expect(JSON.parse(list.stdout).tenants).to.deep.equal([]);
    const created = cli('tenant:create', 'acme');
    expect(created.status, created.stderr).to.equal(0);
    expect(await d.tables(`${PREFIX}acme`)).to.include.members(['SequelizeMeta', 'tags', 'widget_tags', 'widgets']);
    expect(JSON.parse(cli('tenant:prewarm', '--count', '2').stdout)).to.deep.include({ built: 1, ready: 2 });
    const bad = cli('tenant:prewarm', '--count', '-1');
    expect(bad.status).to.equal(1);
    expect(JSON.parse(bad.stdout).error.message).to.match(/--count/);
  });
});
