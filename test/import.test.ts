import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { ROOT } from './support/paths';

/** What a fresh process has loaded, as parts of module paths, after running `script`. */
function loadedAfter(script: string): string[] {
  const probe = `
    ${script}
    const heavy = /[\\\\/]node_modules[\\\\/](umzug|commander|cli-progress)[\\\\/]|[\\\\/]dist[\\\\/]lib[\\\\/](migrations|cli)[\\\\/]/;
    const loaded = new Set(Object.keys(require.cache).map((f) => (f.match(heavy) || [])[0]).filter(Boolean).map((m) => m.replace(/\\\\/g, '/')));
    console.log(JSON.stringify([...loaded].sort()));
  `;
  const out = execFileSync(process.execPath, ['-e', probe], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe("require('sequelize-apartment') (import cost)", () => {
  it('loads neither the migration runner nor umzug, commander or cli-progress', () => {
    const loaded = loadedAfter(`
      const { Sequelize, DataTypes } = require('sequelize');
      const { Apartment } = require('sequelize-apartment');
      const sequelize = new Sequelize('postgres://u@127.0.0.1:1/x', { logging: false });
      const apartment = new Apartment(sequelize);
      sequelize.define('Widget', { name: DataTypes.STRING });
      apartment.middleware({ resolve: 'header' });
    `);
    expect(loaded).to.deep.equal([]);
  });

  it('loads the migration runner (and umzug) once a migration call needs it', () => {
    const loaded = loadedAfter(`
      const { Sequelize } = require('sequelize');
      const { Apartment } = require('sequelize-apartment');
      const apartment = new Apartment(new Sequelize('postgres://u@127.0.0.1:1/x', { logging: false }), { migrationsPath: 'no-such-folder' });
      apartment.migrationStatusAll().catch(() => undefined);
    `);
    expect(loaded).to.include('/node_modules/umzug/').and.include('/dist/lib/migrations/');
    expect(loaded).to.not.include('/node_modules/commander/');
  });
});
