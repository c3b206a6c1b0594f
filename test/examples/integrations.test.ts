import 'reflect-metadata';
import { expect } from 'chai';
import { QueueEvents } from 'bullmq';
import * as path from 'node:path';
import { DataTypes, type Model, type ModelStatic } from 'sequelize';
import { Apartment } from 'sequelize-apartment';
import { bullmqExample } from '../../examples/readme/bullmq';
import { fastifyApp } from '../../examples/readme/fastify';
import { honoApp } from '../../examples/readme/hono';
import { koaApp } from '../../examples/readme/koa';
import { nestApp } from '../../examples/readme/nestjs';
import { describeDialects } from '../support/dialects';
import { ROOT } from '../support/paths';
import { getRequestListener } from '@hono/node-server';
import { listen, request } from '../http/helpers';

const MIGRATIONS = path.join(ROOT, 'examples/readme/tenant-migrations');

/**
 * What the README's integration sections promise, on their own examples:
 * notes per subdomain, a POST lands in its tenant, no tenant 400, unknown
 * 404, malformed 404.
 */
async function checkApp(url: string, name: string): Promise<void> {
  const get = (host: string) => request(`${url}/notes`, { headers: { host } });
  const posted = await request(`${url}/notes`, { method: 'POST', headers: { host: 'globex.example.com' }, body: { body: `from ${name}` }, bodyDelay: 2 });
  expect(posted.status, posted.text).to.be.oneOf([200, 201]);
  const acme = await get('acme.example.com');
  const globex = await get('globex.example.com');
  const bodies = (res: typeof acme) => (Array.isArray(res.json) ? res.json : res.json.notes).map((n: any) => n.body);
  expect(bodies(acme), name).to.include('hello from acme').and.not.include(`from ${name}`);
  expect(bodies(globex), name).to.include(`from ${name}`).and.not.include('hello from acme');
  expect([(await get('example.com')).status, (await get('initech.example.com')).status, (await get('Bad_Host!.example.com')).status], name).to.deep.equal([400, 404, 404]);
}

describeDialects('README integration examples', (d) => {
  let apartment: Apartment;
  let Note: ModelStatic<Model>;

  before(async () => {
    await d.dropAll('ex_int_');
    const sequelize = d.sequelize();
    Note = sequelize.define('Note', { body: DataTypes.TEXT }, { tableName: 'notes' });
    apartment = new Apartment(sequelize, { prefix: 'ex_int_', migrationsPath: MIGRATIONS });
    await apartment.createTenant('acme');
    await apartment.createTenant('globex');
    await apartment.run('acme', () => Note.create({ body: 'hello from acme' }));
  });
  after(() => d.dropAll('ex_int_'));

  it('Fastify (examples/readme/fastify.ts)', async () => {
    const app = await fastifyApp(apartment, Note);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await checkApp(`http://127.0.0.1:${(app.server.address() as any).port}`, 'fastify');
    } finally {
      await app.close();
    }
  });

  it('Koa (examples/readme/koa.ts)', async () => {
    const server = await listen(koaApp(apartment, Note).callback());
    try {
      await checkApp(server.url, 'koa');
    } finally {
      await server.close();
    }
  });

  it('Hono on @hono/node-server (examples/readme/hono.ts)', async () => {
    const server = await listen(getRequestListener(honoApp(apartment, Note).fetch));
    try {
      await checkApp(server.url, 'hono');
    } finally {
      await server.close();
    }
  });

  for (const adapter of ['express', 'fastify'] as const) {
    it(`NestJS, ${adapter} adapter (examples/readme/nestjs.ts)`, async () => {
      const { app, service } = await nestApp(d.url, 'ex_int_', MIGRATIONS, adapter);
      await app.listen(0, '127.0.0.1');
      try {
        expect((await service.tenants()).sort()).to.include.members(['acme', 'globex']);
        await checkApp(`http://127.0.0.1:${app.getHttpServer().address().port}`, `nest-${adapter}`);
        const listed = await request(`http://127.0.0.1:${app.getHttpServer().address().port}/notes`, { headers: { host: 'acme.example.com' } });
        expect(listed.json.tenant).to.equal('acme'); // @CurrentTenant()
      } finally {
        await app.close();
      }
    });
  }

  it('BullMQ (examples/readme/bullmq.ts): the welcome note lands in acme', async () => {
    const connection = { host: '127.0.0.1', port: 6379 };
    const prefix = `apartment-example-${process.pid}-${Date.now().toString(36)}-${d.name}`;
    const events = new QueueEvents('emails', { connection, prefix });
    await events.waitUntilReady();
    const { emails, worker, job } = await bullmqExample(apartment, Note, connection, prefix);
    try {
      await job.waitUntilFinished(events, 30_000);
      const count = (tenant: string) => apartment.run(tenant, () => Note.count({ where: { body: 'welcome ada@acme.test' } }));
      expect([await count('acme'), await count('globex')]).to.deep.equal([1, 0]);
    } finally {
      await worker.close();
      await events.close();
      await emails.obliterate({ force: true });
      await emails.close();
    }
  });
});
