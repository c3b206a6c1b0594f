import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { API_DIR, brokenLinks } from '../support/markdown';
import * as api from '../../lib';
import { ROOT } from '../support/paths';
import { errorNames, firstTable, methodFacts, optionsDrift, propertyDefaults, tableDrift } from './api-facts';

/**
 * docs/reference/api/ is generated (`npm run docs`: TypeDoc with its markdown
 * plugin, scripts/api-docs.mjs, typedoc.json) from the TSDoc of every subpath
 * export, and committed. It must be what the generator makes of today's
 * sources; docs/reference/apartment.md, written by hand, must agree with the
 * same TSDoc on what each method returns and throws.
 */

/** Every file under `dir`, repository-style relative paths, sorted. */
function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  return walk(dir).map((f) => path.relative(dir, f).split(path.sep).join('/')).sort();
}

/** How the committed folder differs from a fresh one: files missing, extra, or different. */
export function treeDifferences(committed: string, fresh: string): string[] {
  const a = new Set(files(committed));
  const b = new Set(files(fresh));
  const out: string[] = [];
  for (const f of b) if (!a.has(f)) out.push(`missing: ${f}`);
  for (const f of a) if (!b.has(f)) out.push(`no longer generated: ${f}`);
  for (const f of b) if (a.has(f) && fs.readFileSync(path.join(committed, f), 'utf8') !== fs.readFileSync(path.join(fresh, f), 'utf8')) out.push(`differs: ${f}`);
  return out;
}

describe('docs/reference/api (generated API reference)', () => {
  const committed = path.join(ROOT, API_DIR);
  let fresh: string;
  let seconds: number;

  before(function () {
    this.timeout(180_000); // TypeDoc builds a TypeScript program over lib/: about 5 s of CPU
    fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-api-'));
    const started = Date.now();
    const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'api-docs.mjs'), fresh], { cwd: ROOT, encoding: 'utf8' });
    seconds = (Date.now() - started) / 1000;
    if (run.status !== 0) throw new Error(`scripts/api-docs.mjs failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  });
  after(() => fs.rmSync(fresh, { recursive: true, force: true }));

  it('is what `npm run docs` generates from today\'s TSDoc', () => {
    const found = treeDifferences(committed, fresh);
    expect(found, `\n  ${API_DIR} is stale: run \`npm run docs\` and commit ${API_DIR} (TypeDoc took ${seconds.toFixed(1)} s)\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
  });

  it('documents every subpath export, without source links, dates or absolute paths', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const index = fs.readFileSync(path.join(fresh, 'README.md'), 'utf8');
    for (const subpath of Object.keys(pkg.exports).filter((s) => s !== './package.json')) {
      const name = path.posix.join('sequelize-apartment', subpath);
      expect(index, `${API_DIR}/README.md lists no module ${name}: give its entry file a \`@module ${name}\` comment and add it to typedoc.json's entryPoints`).to.contain(`[${name}](`);
    }
    const all = files(fresh).map((f) => fs.readFileSync(path.join(fresh, f), 'utf8')).join('\n');
    expect(all).to.not.match(/Defined in:|github\.com\/[^)]*\/blob\/[0-9a-f]{7,}|\b20\d\d-\d\d-\d\d\b/);
    expect(all).to.not.contain(ROOT);
  });

  it('links only to pages and headings that exist', () => {
    const found = files(committed).filter((f) => f.endsWith('.md')).flatMap((f) => brokenLinks(`${API_DIR}/${f}`, fs.readFileSync(path.join(committed, f), 'utf8')));
    expect(found, `\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
  });

  it('says what moveTenant returns and what migrateTenant throws', () => {
    const apartment = fs.readFileSync(path.join(fresh, 'sequelize-apartment', 'classes', 'Apartment.md'), 'utf8');
    const section = (method: string) => apartment.slice(apartment.indexOf(`### ${method}()`), apartment.indexOf('\n***', apartment.indexOf(`### ${method}()`)));
    expect(section('moveTenant')).to.contain('`Promise`\\<[`MoveResult`](../interfaces/MoveResult.md)\\>');
    expect(errorNames(section('migrateTenant').split('#### Throws')[1] ?? '')).to.include.members(['ConfigurationError', 'TenantNameError', 'TenantNotFoundError']);
  });

  it('finds a stale copy (the check itself can fail)', () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-api-stale-'));
    try {
      fs.cpSync(fresh, copy, { recursive: true });
      const page = path.join(copy, 'README.md');
      fs.appendFileSync(page, 'hand-edited\n');
      fs.writeFileSync(path.join(copy, 'old.md'), 'x');
      fs.rmSync(path.join(copy, 'sequelize-apartment', 'classes', 'Apartment.md'));
      expect(treeDifferences(copy, fresh).sort()).to.deep.equal(['differs: README.md', 'missing: sequelize-apartment/classes/Apartment.md', 'no longer generated: old.md']);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('docs/reference/apartment.md against the TSDoc of Apartment', () => {
  const page = 'docs/reference/apartment.md';
  const methods = methodFacts(path.join(ROOT, 'lib', 'apartment.ts'), 'Apartment');

  it("each method's return type and the errors it throws are what its declaration and @throws say", () => {
    const found = tableDrift(fs.readFileSync(path.join(ROOT, page), 'utf8'), methods, page).map((d) => d.problem);
    expect(found, `\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
    expect(methods.get('moveTenant')?.returns).to.deep.equal(['Promise<MoveResult>']);
    expect(methods.get('migrateTenant')?.throws).to.deep.equal(['ConfigurationError', 'TenantNameError', 'TenantNotFoundError']);
  });

  it('finds drift (the check itself can fail)', () => {
    const table = [
      '| method | returns | throws |',
      '|---|---|---|',
      '| `moveTenant(tenant, options)` | `Promise<void>` | `ConfigurationError`, `TenantNotFoundError` |',
      '| `migrateTenant(tenant)` | `Promise<MigrationResult>` | `TenantNameError` |',
      '| `teleport(tenant)` | | |',
      "| `resumeTenant(tenant)`, `tenantState(tenant)` | `Promise<void>` / `Promise<'active' \\| 'closed'>` | `TenantNameError`, `TenantNotFoundError` |",
    ].join('\n');
    const found = tableDrift(table, methods, 'page.md').map((d) => d.problem);
    expect(found).to.have.length(4);
    expect(found[3]).to.contain("tenantState() is documented to return Promise<'active' | 'closed'>; it is declared to return Promise<SuspendState>");
    expect(found[0]).to.contain('moveTenant() is documented to return Promise<void>; it is declared to return Promise<MoveResult>');
    expect(found[1]).to.contain('migrateTenant() is documented to throw [TenantNameError]');
    expect(found[2]).to.contain('teleport()');
  });
});

describe('docs/reference/options.md against the TSDoc of ApartmentOptions', () => {
  const page = 'docs/reference/options.md';
  const defaults = propertyDefaults(path.join(ROOT, 'lib', 'apartment.ts'), 'ApartmentOptions');

  it('has a row for every option and no other, with the default its @default says', () => {
    expect(defaults.size).to.be.greaterThan(5);
    const found = optionsDrift(fs.readFileSync(path.join(ROOT, page), 'utf8'), defaults, page, 'ApartmentOptions');
    expect(found, `\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
  });

  it('finds drift (the check itself can fail)', () => {
    const table = ['| option | default | meaning |', '|---|---|---|', "| `prefix` | `'t_'` | x |", '| `migrationPath` | | x |'].join('\n');
    const found = optionsDrift(table, defaults, 'page.md', 'ApartmentOptions');
    expect(found).to.include("page.md: `prefix` defaults to 't_' on the page, to 'tenant_' in its TSDoc");
    expect(found).to.include('page.md: `migrationPath` is not an option of ApartmentOptions');
    expect(found).to.include('page.md: ApartmentOptions.migrationsPath has no row');
  });
});

describe('docs/reference/errors.md against the exported errors', () => {
  const page = 'docs/reference/errors.md';
  /** Every ApartmentError subclass lib/index.ts exports, with the status it carries by default. */
  const exported = Object.entries(api)
    .filter(([, value]) => typeof value === 'function' && value.prototype instanceof api.ApartmentError)
    .map(([name, value]) => {
      const options = { instanceTenant: 'a', mode: 'closed', reason: 'canary' } as never;
      return { name, status: new (value as new (message: string, options: never) => api.ApartmentError)('x', options).status };
    });

  it('has a row for every error the package exports, and no other, with its status', () => {
    expect(exported.length).to.be.greaterThan(8);
    const rows = new Map(firstTable(fs.readFileSync(path.join(ROOT, page), 'utf8')).map((cells) => [cells[0]!.replace(/`/g, ''), cells[cells.length - 1]!]));
    const found: string[] = [];
    for (const { name, status } of exported) {
      const cell = rows.get(name);
      if (cell === undefined) found.push(`${page}: no row for ${name}`);
      else if (!cell.startsWith(String(status))) found.push(`${page}: ${name}'s status is ${status}, the page says ${cell}`);
    }
    for (const name of rows.keys()) if (!exported.some((e) => e.name === name)) found.push(`${page}: ${name} is not an error lib/index.ts exports`);
    expect(found, `\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
  });
});
