import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { ROOT } from '../support/paths';

/** Every file of lib/ that `file` imports (type-only imports included), transitively, repository-relative. */
export function reachable(file: string): string[] {
  const seen = new Set<string>();
  const visit = (absolute: string) => {
    if (seen.has(absolute)) return;
    seen.add(absolute);
    for (const imported of ts.preProcessFile(fs.readFileSync(absolute, 'utf8'), true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue;
      const base = path.resolve(path.dirname(absolute), imported.fileName);
      const target = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
      if (target) visit(target);
    }
  };
  visit(path.join(ROOT, file));
  return [...seen].map((f) => path.relative(ROOT, f).split(path.sep).join('/')).sort();
}

describe('lib/http imports', () => {
  it('never reach the Apartment class (it imports http/ for middleware(); http/ asks for a TenantHost)', () => {
    const files = fs.readdirSync(path.join(ROOT, 'lib', 'http')).filter((f) => f.endsWith('.ts'));
    expect(files).to.include.members(['resolve.ts', 'middleware.ts', 'existence-cache.ts']);
    for (const file of files) {
      const found = reachable(`lib/http/${file}`);
      expect(found.includes('lib/apartment.ts'), `lib/http/${file} reaches lib/apartment.ts: take a TenantHost (lib/http/host.ts), not the Apartment class`).to.equal(false);
    }
  });

  it('finds the class when something does reach it (the check itself can fail)', () => {
    expect(reachable('lib/integrations/express.ts')).to.include('lib/apartment.ts');
  });
});
