import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/paths';

/** The integrations published as subpaths (package.json `exports` and `typesVersions`). */
const SUBPATHS: Record<string, string> = {
  express: "import { apartmentMiddleware } from 'sequelize-apartment/express';\nexport const a: (req: any, res: any, next: (e?: unknown) => void) => void = apartmentMiddleware(apartment, { resolve: 'header' });",
  fastify:
    "import { apartmentPlugin } from 'sequelize-apartment/fastify';\nimport Fastify from 'fastify';\nconst app = Fastify();\napp.register(apartmentPlugin, { apartment, resolve: 'subdomain' });\napp.get('/', async (request) => { const t: string | undefined = request.tenant; return { t }; });",
  koa: "import { apartmentMiddleware } from 'sequelize-apartment/koa';\nimport Koa from 'koa';\nnew Koa().use(apartmentMiddleware(apartment, { resolve: (ctx) => ctx.get('x-org') }));",
  nestjs:
    "import { ApartmentModule, ApartmentService, CurrentTenant } from 'sequelize-apartment/nestjs';\nimport type { DynamicModule } from '@nestjs/common';\nexport const m: DynamicModule = ApartmentModule.forRoot({ resolve: 'header', apartmentOptions: { prefix: 'org_' } });\nexport const p: ParameterDecorator = CurrentTenant();\nexport const current = (s: ApartmentService): string | undefined => s.current();",
  hono:
    "import { apartmentMiddleware } from 'sequelize-apartment/hono';\nimport { Hono } from 'hono';\nconst app = new Hono();\napp.use(apartmentMiddleware(apartment, { resolve: (c) => c.req.header('x-org') }));\napp.get('/', (c) => { const t: string | undefined = c.get('tenant'); return c.json({ t }); });",
  bullmq:
    "import { tenantProcessor, tenantQueue } from 'sequelize-apartment/bullmq';\nimport { Queue, Worker } from 'bullmq';\nconst q: Queue = tenantQueue(apartment, new Queue('q'));\nnew Worker('q', tenantProcessor(apartment, async (job) => job.data.x as number));\nexport { q };",
  testing:
    "import { expectIsolated, isolationReport, settle, testTenant, type TestTenant } from 'sequelize-apartment/testing';\nexport const t: Promise<TestTenant> = testTenant(apartment, { seed: true });\nexport const r = isolationReport(apartment, ({ tenant }) => tenant).then((report) => report.findings.length);\nexport const e: Promise<number> = expectIsolated(apartment, () => 1);\nexport const s: Promise<void> = settle(apartment);",
};

/**
 * A consumer project outside the repository, with the package in its
 * node_modules (a symlink to this checkout, built): TypeScript must resolve
 * every subpath's types under `moduleResolution: node` (typesVersions) and
 * `node16` (exports), and Node must load every subpath.
 */
describe('subpath exports, as a TypeScript consumer sees them', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-consumer-'));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'sequelize-apartment'), 'dir');
    for (const dep of ['sequelize', 'fastify', 'koa', 'hono', '@types', '@nestjs', 'bullmq', 'rxjs', 'reflect-metadata', 'sequelize-typescript']) {
      fs.mkdirSync(path.dirname(path.join(dir, 'node_modules', dep)), { recursive: true });
      fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(dir, 'node_modules', dep), 'dir');
    }
    const head = "import { Sequelize } from 'sequelize';\nimport { Apartment } from 'sequelize-apartment';\nconst apartment = new Apartment(new Sequelize('postgres://u@127.0.0.1:1/x'));\n";
    for (const [name, body] of Object.entries(SUBPATHS)) fs.writeFileSync(path.join(dir, `${name}.ts`), `${head}${body}\nexport {};\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [resolution, module] of [['node', 'commonjs'], ['node16', 'node16']]) {
    it(`tsc resolves every subpath's types with moduleResolution: ${resolution}`, function () {
      this.timeout(120_000);
      const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const args = ['--noEmit', '--strict', '--esModuleInterop', '--skipLibCheck', '--target', 'ES2022', '--module', module, '--moduleResolution', resolution, ...Object.keys(SUBPATHS).map((n) => `${n}.ts`)];
      let output = '';
      try {
        execFileSync(process.execPath, [tsc, ...args], { cwd: dir, encoding: 'utf8' });
      } catch (error: any) {
        output = `${error.stdout}${error.stderr}`;
      }
      expect(output).to.equal('');
    });
  }

  it('node loads every subpath from the consumer', () => {
    const script = `console.log(JSON.stringify(${JSON.stringify(Object.keys(SUBPATHS))}.map((n) => Object.keys(require('sequelize-apartment/' + n)).sort())))`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' }));
    expect(out).to.deep.equal([
      ['apartmentErrorHandler', 'apartmentMiddleware'],
      ['apartmentPlugin', 'default'],
      ['apartmentErrorHandler', 'apartmentMiddleware', 'default'],
      ['APARTMENT_MODULE_OPTIONS', 'ApartmentExceptionFilter', 'ApartmentMiddleware', 'ApartmentModule', 'ApartmentService', 'CurrentTenant'],
      ['apartmentMiddleware', 'default'],
      ['TENANT_DATA_KEY', 'jobTenant', 'tenantProcessor', 'tenantQueue'],
      ['expectIsolated', 'isolationReport', 'settle', 'sweepTestTenants', 'testTenant'],
    ]);
  });
});
