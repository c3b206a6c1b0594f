import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { cliMessage } from '../../lib/cli/output';
import { ROOT } from '../support/paths';
import { describeDialects } from '../support/dialects';
import { P, Project, expectCode } from './project';

/** API calls an error message recommends, e.g. `dropTenant('acme')` or `apartment.tenants()`. */
const API_CALL = /\b(?:apartment\.)?[a-z][A-Za-z]*\((?:'[^']*'|\d+)?\)/g;

describe('apartment CLI: error messages name CLI commands', () => {
  it('every API remedy the core writes into an error message has a CLI command', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts')) files.push(full);
      }
    };
    walk(path.join(ROOT, 'lib'));
    // Code-only advice: a shell user never runs into these (no request, no model call in the CLI).
    const codeOnly = new Set(['apartment.run', 'apartment.middleware']);
    const checked: string[] = [];
    for (const file of files) {
      if (path.relative(ROOT, file).startsWith(path.join('lib', 'cli'))) continue;
      for (const [template] of fs.readFileSync(file, 'utf8').matchAll(/`[^`]*`/g)) {
        if (!/[A-Z][^`]*\b(with|Use|Run|or)\b/.test(template)) continue; // messages, not SQL or names
        const message = template.slice(1, -1).replace(/\$\{[^}]*\}/g, 'acme');
        for (const call of cliMessage(message).match(API_CALL) ?? []) {
          const name = call.replace(/\(.*$/, '');
          if (codeOnly.has(name) || !/(Tenant|tenants|migrat|prewarm)/.test(name)) continue;
          expect.fail(`${path.relative(ROOT, file)}: the CLI would show \`${call}\` in "${message}"; map it to a command in lib/cli/output.ts REMEDIES`);
        }
        checked.push(message);
      }
    }
    expect(checked.length).to.be.greaterThan(10);
  });

  it('maps each remedy to its command', () => {
    expect(cliMessage("drop it first with dropTenant('acme').")).to.equal('drop it first with apartment tenant:drop acme.');
    expect(cliMessage("Create it with createTenant('acme'), or list tenants with apartment.tenants().")).to.equal(
      'Create it with apartment tenant:create acme, or list tenants with apartment tenant:list.',
    );
    expect(cliMessage("migrateTenant('acme') / migrationStatus('acme') / migrateAll() / prewarm(3)")).to.equal(
      'apartment db:migrate --tenant acme / apartment db:migrate:status --tenant acme / apartment db:migrate / apartment tenant:prewarm --count 3',
    );
  });
});

describeDialects('apartment CLI: what a user sees when something goes wrong', (d) => {
  let project: Project;
  const cli = (...args: string[]) => project.run(args);
  const shown = (run: { stdout: string; stderr: string }) => `${run.stdout}\n${run.stderr}`;

  before(async () => {
    await d.dropAll(`${P}e`);
    project = new Project().rc({ url: d.url, 'tenant-prefix': `${P}e` }).copy('tenant-migrations');
    expectCode(await cli('tenant:create', 'acme'), 0);
  });
  after(async () => {
    project?.remove();
    await d.dropAll(`${P}e`);
  });

  it('tenant:create of an existing tenant: apartment tenant:drop, not dropTenant()', async () => {
    const run = await cli('tenant:create', 'acme');
    expectCode(run, 1);
    expect(run.stderr).to.contain('apartment tenant:drop acme').and.not.contain('dropTenant(');
    expect((await cli('tenant:create', 'acme', '--json')).json().error.message).to.contain('apartment tenant:drop acme');
  });

  it('tenant:drop of a missing tenant: apartment tenant:list, not apartment.tenants()', async () => {
    const run = await cli('tenant:drop', 'nope');
    expectCode(run, 1);
    expect(run.stderr).to.contain('apartment tenant:list').and.not.contain('tenants()');
  });

  for (const command of [['db:migrate'], ['db:migrate:undo'], ['db:migrate:status'], ['db:migrate', '--dry-run']]) {
    it(`${command.join(' ')} --tenant of a missing tenant: apartment tenant:create / tenant:list`, async () => {
      const run = await cli(...command, '--tenant', 'nope');
      expectCode(run, 1);
      expect(run.stderr).to.contain('apartment tenant:create nope').and.contain('apartment tenant:list');
      expect(run.stderr).not.to.match(/createTenant\(|tenants\(\)/);
    });
  }

  it('lists a failed migration as failed, with what completed before it, and no doubled full stops', async () => {
    project.write('tenant-migrations/20260101000004-create-gizmos.js', fs.readFileSync(path.join(ROOT, 'test/fixtures/cli/more/20260101000004-create-gizmos.js'), 'utf8'));
    // A message that already ends with a full stop, as driver messages often do.
    project.write(
      'tenant-migrations/20260101000005-throws.js',
      "module.exports = { async up() { throw new Error('the column is gone.'); }, async down() {} };\n",
    );
    const run = await cli('db:migrate');
    expectCode(run, 1);
    expect(run.stdout, run.stdout).to.match(/TENANT\s+STATUS\s+VERSIONS APPLIED\s+FAILED\s+TIME/);
    expect(run.stdout, run.stdout).to.match(/acme\s+failed\s+20260101000004-create-gizmos\.js\s+20260101000005-throws\.js/);
    expect(run.stdout).to.contain('the column is gone. ');
    expect(shown(run)).not.to.match(/\.\.(\s|$)/);
    const json = (await cli('db:migrate:status', '--tenant', 'acme', '--json')).json();
    expect(json.tenants[0].executed).to.include('20260101000004-create-gizmos.js');
    fs.rmSync(project.path('tenant-migrations/20260101000005-throws.js'));
  });

  it('a TypeScript migration this process cannot load: one full stop ("JavaScript. ...")', async () => {
    project.write('tenant-migrations/20260101000006-typed.ts', 'export async function up() {}\nexport async function down() {}\n');
    const run = await cli('db:migrate', '--json');
    expectCode(run, 1);
    const message = run.json().results[0].error.message as string;
    expect(message).to.contain('20260101000006-typed').and.contain('JavaScript.');
    expect(message).not.to.match(/\.\.(\s|$)/);
    fs.rmSync(project.path('tenant-migrations/20260101000006-typed.ts'));
  });
});
