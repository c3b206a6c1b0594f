import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { pack } from '../support/pack';
import { ROOT } from '../support/paths';
import { URLS } from '../support/servers';

const run = promisify(execFile);

/**
 * Installs that never fail for a supported app (issue 22): the packed
 * tarball, installed with plain `npm install` (no flags) into a fresh app
 * per supported framework major, beside what such an app already has. No
 * ERESOLVE, no peer warning, and one request (or job) through the
 * integration. Installs from the npm registry, so it is not in the mocha
 * spec: `.ci/run` runs it (`npx mocha dist/test/install/fresh-apps.install.js`).
 */
interface App {
  name: string;
  kind: 'express' | 'fastify' | 'koa' | 'hono' | 'nestjs' | 'bullmq';
  dependencies: Record<string, string>;
  dialect?: 'postgres' | 'mariadb';
}

const DB = { sequelize: '^6', pg: '^8', 'pg-hstore': '^2' };
const NEST = (major: number) => ({
  '@nestjs/common': `^${major}`,
  '@nestjs/core': `^${major}`,
  '@nestjs/platform-express': `^${major}`,
  '@nestjs/sequelize': major === 10 ? '^10' : major === 11 ? '^11' : '^12',
  'sequelize-typescript': '^2',
  'reflect-metadata': '^0.2',
  rxjs: '^7',
});

const APPS: App[] = [
  { name: 'express4', kind: 'express', dependencies: { express: '^4' } },
  { name: 'express5', kind: 'express', dependencies: { express: '^5' } },
  { name: 'fastify4', kind: 'fastify', dependencies: { fastify: '^4' } },
  { name: 'fastify5', kind: 'fastify', dependencies: { fastify: '^5' } },
  { name: 'koa2', kind: 'koa', dependencies: { koa: '^2' } },
  { name: 'koa3', kind: 'koa', dependencies: { koa: '^3' } },
  { name: 'hono4', kind: 'hono', dependencies: { hono: '^4', '@hono/node-server': '^2' } },
  { name: 'nest10', kind: 'nestjs', dependencies: NEST(10) },
  { name: 'nest11', kind: 'nestjs', dependencies: NEST(11) },
  { name: 'nest12', kind: 'nestjs', dependencies: NEST(12) },
  { name: 'bullmq5', kind: 'bullmq', dependencies: { bullmq: '^5' } },
  { name: 'bullmq6', kind: 'bullmq', dependencies: { bullmq: '^6', ioredis: '^5' } },
  { name: 'mariadb3.5', kind: 'express', dialect: 'mariadb', dependencies: { express: '^5', mariadb: '~3.5.0' } },
];

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: width }, async () => {
    for (let item = queue.shift(); item; item = queue.shift()) await fn(item);
  }));
}

describe('fresh apps install the packed package with plain `npm install`', function () {
  this.timeout(1_200_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-install-'));
  const installs = new Map<string, { stdout: string; stderr: string; error?: Error }>();

  before(async () => {
    const { tarball } = await pack();
    const started = Date.now();
    // Four at a time, sharing npm's cache: the registry is asked once per package version.
    await inBatches(APPS, 4, async (app) => {
      const folder = path.join(dir, app.name);
      fs.mkdirSync(folder);
      const dependencies = { ...DB, ...app.dependencies, 'sequelize-apartment': `file:${tarball}` };
      fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: `app-${app.name.replace('.', '-')}`, private: true, dependencies }, null, 2));
      try {
        const { stdout, stderr } = await run('npm', ['install'], { cwd: folder, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
        installs.set(app.name, { stdout, stderr });
      } catch (error: any) {
        installs.set(app.name, { stdout: error.stdout ?? '', stderr: error.stderr ?? '', error });
      }
    });
    console.log(`    (${APPS.length} installs in ${Math.round((Date.now() - started) / 1000)} s)`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const app of APPS) {
    describe(`${app.name} (${Object.entries(app.dependencies).map(([n, v]) => `${n}@${v}`).join(', ')})`, () => {
      it('installs without ERESOLVE and without a peer warning', () => {
        const result = installs.get(app.name)!;
        expect(result.error, result.stderr).to.equal(undefined);
        expect(result.stderr).to.not.match(/ERESOLVE|peer dep|Could not resolve dependency|Conflicting peer/i);
      });

      if (app.kind === 'express' || app.kind === 'hono' || app.kind === 'koa') {
        it('gets no Fastify glue (fastify-plugin) and no other framework', () => {
          const modules = path.join(dir, app.name, 'node_modules');
          for (const other of ['fastify-plugin', 'fastify', '@nestjs/core', 'bullmq'].filter((n) => !(n in app.dependencies))) {
            expect(fs.existsSync(path.join(modules, other)), other).to.equal(false);
          }
        });
      }

      it('serves one request (or job) through the integration, in its tenant', async () => {
        const url = app.dialect === 'mariadb' ? URLS.mariadb : URLS.postgres;
        const smoke = { kind: app.kind, url, prefix: `inst_${app.name.replace('.', '')}_`, redisPrefix: `apartment-install-${process.pid}-${app.name}` };
        fs.copyFileSync(path.join(ROOT, 'test', 'install', 'smoke.js'), path.join(dir, app.name, 'smoke.js'));
        const { stdout } = await run(process.execPath, ['smoke.js'], { cwd: path.join(dir, app.name), env: { ...process.env, SMOKE: JSON.stringify(smoke) } });
        const answer = JSON.parse(stdout);
        if (app.kind === 'bullmq') expect(answer).to.deep.equal({ job: { tenant: 'acme' } });
        else expect(answer).to.deep.equal({ ok: [200, { tenant: 'acme' }], unknown: 404 });
      });
    });
  }
});
