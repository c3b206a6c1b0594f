import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { missingPieces } from '../lib/seam/checks';
import { OLDEST_ALIASES, OLDEST_ENV } from './support/oldest-aliases';
import { connect, type DialectName } from './support/servers';
import { ROOT } from './support/paths';

/**
 * Issue 22 point 4 / issue 27 point 2: the versions a run loads are the ones
 * it claims. Every run loads the devDependencies (the newest of each range);
 * the run with test/support/oldest.js (`.ci/run`'s oldest-peers run) loads
 * the lowest version each peer range admits. Both check that the npm aliases
 * hold exactly those lowest versions, and that docs/operations/tested-against.md
 * names both versions of each.
 */
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const oldest = process.env[OLDEST_ENV] === '1';

/** The lowest version a `^x.y.z` range admits (the ranges are single caret ranges). */
function lowest(range: string): string {
  const m = /^\^(\d+\.\d+\.\d+)$/.exec(range);
  if (!m) throw new Error(`Expected a peer range of the form ^x.y.z, got ${range}: teach test/peer-range.test.ts its lowest version`);
  return m[1];
}
function satisfiesCaret(version: string, range: string): boolean {
  const [a, b] = [version, lowest(range)].map((v) => v.split('.').map(Number));
  return a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] >= b[2]));
}
/** The version of the package `require(name)` loads (read beside its entry point: not every version exports ./package.json). */
function versionOf(name: string): string {
  for (let dir = path.dirname(require.resolve(name)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version: string };
    if (manifest.name === name) return manifest.version;
  }
  throw new Error(`No package.json named ${name} above ${require.resolve(name)}`);
}
const DIALECT_OF: Record<string, DialectName | undefined> = { sequelize: undefined, pg: 'postgres', mysql2: 'mysql', mariadb: 'mariadb' };

describe(`peer versions loaded (${oldest ? 'oldest admitted' : 'devDependencies, the newest'})`, () => {
  for (const [name, alias] of Object.entries(OLDEST_ALIASES)) {
    const range = pkg.peerDependencies[name];

    it(`${name}: the alias ${alias} holds the lowest version ${range} admits`, () => {
      expect(pkg.devDependencies[alias]).to.equal(`npm:${name}@${lowest(range)}`);
      expect((JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', alias, 'package.json'), 'utf8')) as { version: string }).version).to.equal(lowest(range));
    });

    it(`${name}: require('${name}') is ${oldest ? `the oldest admitted, ${lowest(range)}` : `the devDependency, ${pkg.devDependencies[name]}`}`, () => {
      const expected = oldest ? lowest(range) : pkg.devDependencies[name];
      expect(versionOf(name)).to.equal(expected);
      expect(satisfiesCaret(expected, range), `${expected} in ${range}`).to.equal(true);
      const dialect = DIALECT_OF[name];
      if (dialect === undefined) {
        // The package's own code gets the same copy.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const fromLib = require(require.resolve('sequelize', { paths: [path.join(ROOT, 'dist', 'lib')] })) as { version: string };
        expect(fromLib.version).to.equal(expected);
      } else {
        // Sequelize loads this driver for the dialect (its connection manager's `lib`).
        const sequelize = connect(dialect);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        expect((sequelize as any).connectionManager.lib).to.equal(require(name));
        expect((sequelize.constructor as unknown as { version: string }).version).to.equal(oldest ? lowest(pkg.peerDependencies.sequelize) : pkg.devDependencies.sequelize);
        void sequelize.close();
      }
    });

    for (const page of ['docs/operations/tested-against.md', 'README.md']) {
      it(`${name}: ${page} names ${range}, ${lowest(range)} and ${pkg.devDependencies[name]}`, () => {
        const row = fs.readFileSync(path.join(ROOT, page), 'utf8').split('\n').find((l) => l.startsWith(`| ${name} `));
        expect(row, `a row '| ${name} |' in its table of tested versions`).to.be.a('string');
        expect(row).to.contain(`${lowest(range)}, ${pkg.devDependencies[name]}`).and.contain(`\`${range}\``);
      });
    }
  }

  // The seam's construction checks (lib/seam/checks.ts) find every piece on these versions, with every need on.
  for (const dialect of ['postgres', 'mysql', 'mariadb'] as const) {
    it(`the seam finds every internal it relies on (${dialect})`, async () => {
      const sequelize = connect(dialect);
      try {
        expect(missingPieces(sequelize, { affinity: true, roles: true })).to.deep.equal([]);
      } finally {
        await sequelize.close();
      }
    });
  }
});
