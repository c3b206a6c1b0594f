import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from '../support/paths';

describe('express is an optional peer dependency', () => {
  it('the package loads, and builds a middleware, when express cannot be resolved', () => {
    // A child process where any require of express (4 or 5) throws MODULE_NOT_FOUND.
    const hook = `
      const Module = require('module');
      const original = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'express' || request.startsWith('express/') || request === 'express4') {
          const error = new Error("Cannot find module '" + request + "'");
          error.code = 'MODULE_NOT_FOUND';
          throw error;
        }
        return original.call(this, request, ...rest);
      };
      let blocked = false;
      try { require('express'); } catch (e) { blocked = e.code === 'MODULE_NOT_FOUND'; }
      const { Sequelize } = require('sequelize');
      const { Apartment } = require('sequelize-apartment');
      const apartment = new Apartment(new Sequelize('postgres://u@127.0.0.1:1/x', { logging: false }));
      const mw = apartment.middleware({ resolve: 'header' });
      const loaded = Object.keys(require.cache).filter((f) => /[\\\\/]node_modules[\\\\/]express4?[\\\\/]/.test(f));
      console.log(JSON.stringify({ blocked, type: typeof mw, arity: mw.length, loaded }));
    `;
    const out = execFileSync(process.execPath, ['-e', hook], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).to.deep.equal({ blocked: true, type: 'function', arity: 3, loaded: [] });
    expect(path.isAbsolute(ROOT)).to.equal(true);
  });
});
