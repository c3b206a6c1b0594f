import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { ROOT } from '../support/paths';

/** Every framework an integration may import; none of them may be needed by the core entry point. */
const FRAMEWORKS = ['express', 'express4', 'fastify', 'fastify4', 'fastify-plugin', 'koa', 'koa2', 'bullmq', 'bullmq5', 'ioredis', 'hono', '@hono/node-server', '@nestjs/common', '@nestjs/core', '@nestjs/sequelize'];

describe('frameworks are optional peer dependencies', () => {
  it('the core entry point loads and builds a middleware when no framework can be resolved, and loads none of them', () => {
    const hook = `
      const Module = require('module');
      const blocked = ${JSON.stringify(FRAMEWORKS)};
      const original = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (blocked.some((name) => request === name || request.startsWith(name + '/'))) {
          const error = new Error("Cannot find module '" + request + "'");
          error.code = 'MODULE_NOT_FOUND';
          throw error;
        }
        return original.call(this, request, ...rest);
      };
      const refused = blocked.filter((name) => { try { require(name); return false; } catch (e) { return e.code === 'MODULE_NOT_FOUND'; } });
      const { Sequelize } = require('sequelize');
      const { Apartment } = require('sequelize-apartment');
      const apartment = new Apartment(new Sequelize('postgres://u@127.0.0.1:1/x', { logging: false }));
      const mw = apartment.middleware({ resolve: 'header' });
      const loaded = Object.keys(require.cache).filter((f) => /[\\\\/]node_modules[\\\\/](express4?|fastify4?|fastify-plugin|koa2?|bullmq5?|ioredis|hono|@hono|@nestjs)[\\\\/]/.test(f));
      console.log(JSON.stringify({ refused: refused.length, type: typeof mw, loaded }));
    `;
    const out = execFileSync(process.execPath, ['-e', hook], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).to.deep.equal({ refused: FRAMEWORKS.length, type: 'function', loaded: [] });
  });
});
