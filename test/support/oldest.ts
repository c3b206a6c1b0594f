/**
 * The oldest versions package.json's peerDependencies admit, loaded in place
 * of the current ones (issue 22 point 4, issue 27 point 2): `require('sequelize')`,
 * `require('pg')`, `require('mysql2')` and `require('mariadb')` (and their
 * subpaths) resolve to the npm aliases `sequelize-oldest`, `pg-oldest`,
 * `mysql2-oldest` and `mariadb-oldest` (devDependencies: the real packages
 * from the registry), for the package's own code, the tests, and Sequelize
 * itself loading its driver. Loaded with `mocha --require` before
 * test/support/setup.js; child processes inherit it through NODE_OPTIONS.
 * `.ci/run` runs the routing, migration, integration and isolation suites
 * with it; test/peer-range.test.ts checks which versions a run loaded.
 */
import Module = require('node:module');

import { OLDEST_ALIASES, OLDEST_ENV } from './oldest-aliases';

const internal = Module as unknown as {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
};
const resolve = internal._resolveFilename;
internal._resolveFilename = function resolveOldest(request: string, ...rest: [unknown, boolean, unknown?]): string {
  const slash = request.indexOf('/');
  const name = slash === -1 ? request : request.slice(0, slash);
  const alias = OLDEST_ALIASES[name];
  if (alias === undefined) return resolve.call(this, request, ...rest);
  try {
    return resolve.call(this, alias + request.slice(name.length), ...rest);
  } catch (error) {
    // Outside this repository (a child process's throw-away app with its own copy): that copy.
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    return resolve.call(this, request, ...rest);
  }
};

process.env[OLDEST_ENV] = '1';
if (!(process.env.NODE_OPTIONS ?? '').includes(__filename)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${__filename}`.trim();
}
