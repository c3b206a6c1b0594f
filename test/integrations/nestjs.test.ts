import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { Apartment } from 'sequelize-apartment';
import { Child } from '../support/child';
import { describeDialects } from '../support/dialects';
import { extractPackage, pack } from '../support/pack';
import { ROOT, fixture } from '../support/paths';
import { request as send } from '../http/helpers';
import { expectNoApiAdvice, interleavedGets, interleavedPosts, noLeakOnKeepAlive, suspendedTenant, tenantProblems, widgetTenants } from './helpers';
import type { NestAppConfig, NestServerConfig } from './nest/server';

const run = promisify(execFile);
const SERVER = path.join(__dirname, 'nest', 'server.js');

/**
 * NestJS 10 and 12 cannot sit beside 11 in one node_modules (npm aliases do
 * not help: @nestjs/core, @nestjs/sequelize and this package all require
 * '@nestjs/common' by name), so each lives in a project of its own:
 * test/fixtures/nest10 and nest12, installed from their committed
 * package-locks with `npm ci` (again only when the lock changed), with this
 * repository packed and extracted into node_modules as an app would install
 * it, and the test app copied beside it. Returns the copied server script.
 * NestJS 12's packages are ES modules: the CommonJS integration and test
 * app load them with require(esm) (Node 20.19+, 22.12+, 24).
 */
async function fixtureServer(name: string): Promise<string> {
  const NEST = fixture(name);
  const modules = path.join(NEST, 'node_modules');
  const stamp = path.join(modules, '.package-lock.json');
  const lock = path.join(NEST, 'package-lock.json');
  if (!fs.existsSync(stamp) || fs.statSync(stamp).mtimeMs < fs.statSync(lock).mtimeMs) {
    await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: NEST, maxBuffer: 16 * 1024 * 1024 });
  }
  const target = path.join(modules, 'sequelize-apartment');
  fs.rmSync(target, { recursive: true, force: true });
  await extractPackage((await pack()).tarball, target);
  const { dependencies } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const dependency of Object.keys(dependencies)) {
    const link = path.join(modules, dependency);
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(ROOT, 'node_modules', dependency), link, 'dir');
  }
  const app = path.join(NEST, 'app');
  fs.mkdirSync(app, { recursive: true });
  fs.copyFileSync(SERVER, path.join(app, 'server.js'));
  return path.join(app, 'server.js');
}

const MAJORS: Array<{ major: number; server: () => Promise<string> }> = [
  { major: 10, server: () => fixtureServer('nest10') },
  { major: 11, server: async () => SERVER },
  { major: 12, server: () => fixtureServer('nest12') },
];

const ADAPTERS = ['express', 'fastify'] as const;

describeDialects('nestjs module', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;
  let Widget: ModelStatic<Model>;

  before(async () => {
    await d.dropAll('nest_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { prefix: 'nest_', migrationsPath: false });
    Widget = await widgetTenants(apartment, sequelize);
  });
  after(() => d.dropAll('nest_'));

  for (const { major, server } of MAJORS) {
    describe(`NestJS ${major}`, () => {
      let child: Child;
      /** Base URL of each app, by name. */
      const urls = new Map<string, { url: string; port: number }>();
      const apps: Record<string, NestAppConfig> = {};
      for (const adapter of ADAPTERS) {
        // ttl: 0: the server is another process, which sees a suspension (made here) at its next request.
        apps[`${adapter}`] = { adapter, options: { resolve: 'header', ttl: 0 } };
        apps[`${adapter} optional`] = { adapter, options: { resolve: 'header', optional: true } };
      }
      apps['express forRootAsync'] = { adapter: 'express', async: true, options: { resolve: 'header' } };
      apps['fastify no filter'] = { adapter: 'fastify', options: { resolve: 'header', exceptionFilter: false } };

      before(async function () {
        this.timeout(600_000);
        if (major >= 12 && !(process.features as { require_module?: boolean }).require_module) {
          // NestJS 12 is ES modules only; a CommonJS app needs require(esm), which this Node lacks.
          console.warn(`\n  !!! NestJS ${major} needs require(esm) (Node 20.19+, 22.12+, 24): not run on Node ${process.version}.\n`);
          this.skip();
        }
        const config: NestServerConfig = { url: d.url, prefix: 'nest_', apps: Object.values(apps) };
        child = new Child(await server(), { env: { NEST_SERVER: JSON.stringify(config) } });
        const { ports, nest } = await child.message<{ ports: number[]; nest: string }>((m) => Array.isArray(m?.ports));
        expect(Number(nest.split('.')[0]), `the server runs NestJS ${major}`).to.equal(major);
        Object.keys(apps).forEach((name, i) => urls.set(name, { url: `http://127.0.0.1:${ports[i]}`, port: ports[i] }));
      });
      after(async () => {
        await child?.close();
      });

      for (const adapter of ADAPTERS) {
        describe(`${adapter} adapter`, () => {
          it('hundreds of interleaved requests of two tenants, with random delays, each answered in its own tenant (@CurrentTenant() too)', async () => {
            await interleavedGets(urls.get(adapter)!.url, 400);
          });

          it('POST with a JSON body: the tenant is still in context after the body is parsed, the row lands in it', async () => {
            await interleavedPosts(urls.get(adapter)!.url, apartment, Widget, 200);
          });

          it("no tenant 400, unknown 404, malformed 404, repeated header 400, in Nest's error shape", async () => {
            const { url, port } = urls.get(adapter)!;
            const { none, unknown, malformed } = await tenantProblems(url, port);
            expect(none.json).to.deep.equal({ statusCode: 400, error: 'NoTenantError', message: 'This request names no tenant.' });
            expect(unknown.json).to.deep.equal({ statusCode: 404, error: 'TenantNotFoundError', message: "Unknown tenant 'nope'.", tenant: 'nope' });
            expect(malformed.json).to.deep.equal({ statusCode: 404, error: 'TenantNameError', message: 'Unknown tenant.' });
            expectNoApiAdvice(none.text, unknown.text, malformed.text);
          });

          it('the context does not leak into the next request on the same keep-alive connection', async () => {
            await noLeakOnKeepAlive(urls.get(`${adapter} optional`)!.url);
          });

          it("a suspended tenant: a write to a read-only one 423, a closed one 503 (not a 500), before the controller runs, in Nest's error shape", async () => {
            const { readOnly, closed } = await suspendedTenant(urls.get(adapter)!.url, apartment, Widget);
            expect(readOnly.json).to.include({ statusCode: 423, error: 'TenantSuspendedError', tenant: 'beta' });
            expect(closed.json).to.deep.equal({ statusCode: 503, error: 'TenantSuspendedError', message: "Tenant 'beta' is temporarily unavailable.", tenant: 'beta' });
            expectNoApiAdvice(readOnly.text, closed.text);
          });
        });
      }

      it('forRootAsync: options from a factory, the same behaviour', async () => {
        const { url, port } = urls.get('express forRootAsync')!;
        await interleavedGets(url, 100);
        await tenantProblems(url, port);
      });

      it('exceptionFilter: false leaves tenant problems to Nest (500 without a filter of the app)', async () => {
        const res = await send(`${urls.get('fastify no filter')!.url}/whoami`, { headers: { 'x-tenant': 'nope' } });
        expect(res.status).to.equal(500);
        expect(res.json).to.deep.equal({ statusCode: 500, message: 'Internal server error' });
      });

      it('no REQUEST-scoped providers: the controller, its providers and ApartmentService are the same objects for every request and tenant', async () => {
        for (const adapter of ADAPTERS) {
          const { url } = urls.get(adapter)!;
          const seen = await Promise.all(['acme', 'beta', 'acme', 'beta'].map((t) => send(`${url}/instances`, { headers: { 'x-tenant': t } })));
          for (const res of seen) expect(res.json).to.deep.equal(seen[0].json);
        }
      });

      it('ApartmentService.createTenant: the new tenant is served at once, by both adapters', async () => {
        const key = `n${major}${d.name.slice(0, 2)}`;
        const created = await send(`${urls.get('express')!.url}/tenants`, { method: 'POST', headers: { 'x-tenant': 'acme' }, body: { key } });
        expect(created.status, created.text).to.equal(201);
        expect(created.json).to.deep.equal({ created: key, tenants: true });
        expect(await d.schemaExists(`nest_${key}`)).to.equal(true);
        for (const adapter of ADAPTERS) {
          const res = await send(`${urls.get(adapter)!.url}/widgets`, { headers: { 'x-tenant': key } });
          expect(res.json, adapter).to.deep.equal({ tenant: key, seen: key, names: [`${key}-gear`] });
        }
      });
    });
  }
});
