// One request through the integration of a freshly installed app (test/install/fresh-apps.install.ts).
// Plain CommonJS, as an app would write it; run from the app's folder with SMOKE = { kind, url, prefix, redisPrefix }.
'use strict';
const http = require('node:http');
const { Sequelize } = require('sequelize');
const { Apartment } = require('sequelize-apartment');

const { kind, url, prefix, redisPrefix } = JSON.parse(process.env.SMOKE);

function get(port, path, headers) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    }).on('error', reject);
  });
}

async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function serve(apartment) {
  const whoami = () => ({ tenant: apartment.current() ?? null });
  switch (kind) {
    case 'express': {
      const express = require('express');
      const { apartmentMiddleware, apartmentErrorHandler } = require('sequelize-apartment/express');
      const app = express();
      app.use(apartmentMiddleware(apartment, { resolve: 'header' }));
      app.get('/whoami', (_req, res) => res.json(whoami()));
      app.use(apartmentErrorHandler());
      return listen(app);
    }
    case 'fastify': {
      const Fastify = require('fastify');
      const { apartmentPlugin } = require('sequelize-apartment/fastify');
      const app = Fastify();
      await app.register(apartmentPlugin, { apartment, resolve: 'header' });
      app.get('/whoami', async () => whoami());
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { port: app.server.address().port, close: () => app.close() };
    }
    case 'koa': {
      const Koa = require('koa');
      const { apartmentMiddleware } = require('sequelize-apartment/koa');
      const app = new Koa();
      app.use(apartmentMiddleware(apartment, { resolve: 'header' }));
      app.use((ctx) => (ctx.body = whoami()));
      return listen(app.callback());
    }
    case 'hono': {
      const { Hono } = require('hono');
      const { getRequestListener } = require('@hono/node-server');
      const { apartmentMiddleware } = require('sequelize-apartment/hono');
      const app = new Hono();
      app.use(apartmentMiddleware(apartment, { resolve: 'header' }));
      app.get('/whoami', (c) => c.json(whoami()));
      return listen(getRequestListener(app.fetch));
    }
    case 'nestjs': {
      require('reflect-metadata');
      const { Controller, Get, Module } = require('@nestjs/common');
      const { NestFactory } = require('@nestjs/core');
      const { ApartmentModule } = require('sequelize-apartment/nestjs');
      class WhoController {
        whoami() {
          return whoami();
        }
      }
      Get('whoami')(WhoController.prototype, 'whoami', Object.getOwnPropertyDescriptor(WhoController.prototype, 'whoami'));
      Controller()(WhoController);
      class AppModule {}
      Module({ imports: [ApartmentModule.forRoot({ apartment, resolve: 'header' })], controllers: [WhoController] })(AppModule);
      const app = await NestFactory.create(AppModule, { logger: false });
      await app.listen(0, '127.0.0.1');
      return { port: app.getHttpServer().address().port, close: () => app.close() };
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

async function bullmq(apartment) {
  const { Queue, Worker, QueueEvents } = require('bullmq');
  const { tenantQueue, tenantProcessor } = require('sequelize-apartment/bullmq');
  const connection = { host: '127.0.0.1', port: 6379 };
  const queue = tenantQueue(apartment, new Queue('smoke', { connection, prefix: redisPrefix }));
  const events = new QueueEvents('smoke', { connection, prefix: redisPrefix });
  const worker = new Worker('smoke', tenantProcessor(apartment, async () => whoamiOf(apartment)), { connection, prefix: redisPrefix });
  try {
    await events.waitUntilReady();
    const job = await apartment.run('acme', () => queue.add('x', {}));
    return await job.waitUntilFinished(events, 30000);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await events.close();
  }
}

function whoamiOf(apartment) {
  return { tenant: apartment.current() ?? null };
}

async function main() {
  const sequelize = new Sequelize(url, { logging: false });
  const apartment = new Apartment(sequelize, { prefix, migrationsPath: false });
  await apartment.createTenant('acme');
  try {
    if (kind === 'bullmq') {
      process.stdout.write(JSON.stringify({ job: await bullmq(apartment) }));
      return;
    }
    const server = await serve(apartment);
    try {
      const ok = await get(server.port, '/whoami', { 'x-tenant': 'acme' });
      const unknown = await get(server.port, '/whoami', { 'x-tenant': 'nosuch' });
      process.stdout.write(JSON.stringify({ ok: [ok.status, JSON.parse(ok.text)], unknown: unknown.status }));
    } finally {
      await server.close();
    }
  } finally {
    await apartment.dropTenant('acme');
    await sequelize.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
