import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractPackage, pack } from './support/pack';

describe('the published package (npm pack)', () => {
  let dir: string;
  let files: string[];
  before(async function () {
    this.timeout(120_000);
    const packed = await pack();
    files = packed.files;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-packed-'));
    await extractPackage(packed.tarball, dir);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('every source map can show its TypeScript source: the maps carry it (sourcesContent)', () => {
    const maps = files.filter((f) => f.endsWith('.js.map'));
    expect(maps, 'the package ships source maps').to.not.be.empty;
    expect(maps).to.include('dist/lib/apartment.js.map');
    const unreadable: string[] = [];
    for (const file of maps) {
      const map = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      (map.sources as string[]).forEach((source, i) => {
        const inline = typeof map.sourcesContent?.[i] === 'string' && map.sourcesContent[i].length > 0;
        const shipped = fs.existsSync(path.resolve(path.dirname(path.join(dir, file)), map.sourceRoot ?? '', source));
        if (!inline && !shipped) unreadable.push(`${file} -> ${source}`);
      });
    }
    expect(unreadable, 'maps whose source is neither inlined nor in the package').to.deep.equal([]);
  });

  it('ships the compiled library, its types, the migration templates and the README, and no tests, examples or TypeScript sources', () => {
    expect(files).to.include.members(['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/cli/index.js', 'README.md', 'package.json']);
    // The templates are what `apartment migration:generate [--ts]` copies, .ts one included.
    expect(files.filter((f) => f.startsWith('migration-templates/'))).to.include.members(['migration-templates/migration.js', 'migration-templates/migration.ts']);
    const sources = files.filter((f) => !f.startsWith('migration-templates/') && f.endsWith('.ts') && !f.endsWith('.d.ts'));
    expect(files.filter((f) => /^(dist\/)?(test|examples|bench)\//.test(f)).concat(sources)).to.deep.equal([]);
  });
});
