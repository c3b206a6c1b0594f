import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/paths';
import { publicAnys } from './public-types';

/** Apartment members that the package itself uses but apps must not (marked @internal, stripped by `stripInternal`). */
const INTERNAL = ['adapter', 'router', 'context', 'names', 'migrator', 'seeder'];

describe('published type declarations (dist/lib/**/*.d.ts)', () => {
  let published: ReturnType<typeof publicAnys>;
  before(function () {
    this.timeout(180_000); // one TypeScript program over the declarations and their dependencies' types
    published = publicAnys(ROOT);
  });

  it('have no `any` in anything a public entry point exports or reaches', () => {
    const { anys, declarations } = published;
    expect(declarations).to.be.greaterThan(30);
    const found = anys.map((a) => `${a.where} (${a.file}:${a.line})`);
    expect(found, `\n  \`any\` in public declarations (type it, or use unknown / a minimal structural type):\n  ${found.join('\n  ')}\n`).to.deep.equal([]);
  });

  it("keep the Apartment's internals out: adapter, router, context, names, migrator, seeder", () => {
    const { classMembers } = published;
    const apartment = classMembers.get('sequelize-apartment: Apartment')!;
    expect(apartment).to.include.members(['createTenant', 'run', 'middleware', 'citus']);
    expect(apartment.filter((m) => INTERNAL.includes(m))).to.deep.equal([]);
    expect(classMembers.get('sequelize-apartment: CitusOperations')).to.not.include.members(['ops', 'Constructor']);
  });

  it('find an `any` where there is one (the check itself can fail)', function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-types-'));
    try {
      fs.mkdirSync(path.join(dir, 'dist', 'lib'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', exports: { '.': { types: './dist/lib/index.d.ts', default: './dist/lib/index.js' } } }));
      fs.writeFileSync(path.join(dir, 'dist', 'lib', 'index.d.ts'), "import type { Opts } from './opts';\nexport declare function f(options: Opts): void;\nexport declare class C { g(x: string): any }\n");
      fs.writeFileSync(path.join(dir, 'dist', 'lib', 'opts.d.ts'), 'export interface Opts { resolve?: (req: any) => string }\n');
      const found = publicAnys(dir).anys.map((a) => `${a.where} ${a.file}:${a.line}`);
      expect(found).to.have.length(2);
      expect(found.join('\n')).to.contain(path.join('dist', 'lib', 'opts.d.ts') + ':1').and.contain('C.g');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
