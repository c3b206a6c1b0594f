/**
 * The NestJS test app, run in a child process (`fork`) by nestjs.test.ts:
 * from this repository (NestJS 11, the devDependencies) and copied into
 * test/fixtures/nest10 (NestJS 10, installed from its package-lock). It
 * imports packages only, so it runs the same from either place.
 *
 * Serves the routes of test/integrations/helpers.ts (GET/POST /widgets,
 * /whoami) on each app of `NEST_SERVER` (Express or Fastify adapter,
 * forRoot or forRootAsync), plus /instances (provider identities) and
 * POST /tenants (createTenant through ApartmentService). Sends
 * `{ ports, nest }` once listening; exits on 'close'.
 */
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Inject, Injectable, Module, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { InjectModel, SequelizeModule } from '@nestjs/sequelize';
import { setTimeout as sleep } from 'node:timers/promises';
import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { ApartmentModule, ApartmentService, CurrentTenant, type ApartmentModuleOptions } from 'sequelize-apartment/nestjs';

export interface NestAppConfig {
  adapter: 'express' | 'fastify';
  /** forRoot, or forRootAsync with a factory that waits a tick. */
  async?: boolean;
  options: Omit<ApartmentModuleOptions, 'apartment'>;
}

export interface NestServerConfig {
  url: string;
  prefix: string;
  apps: NestAppConfig[];
}

let instances = 0;
const ids = new WeakMap<object, number>();
/** A number per object, the same for the same object: providers built once answer the same ids every request. */
function idOf(object: object): number {
  if (!ids.has(object)) ids.set(object, ++instances);
  return ids.get(object)!;
}

function appModule(config: NestServerConfig, app: NestAppConfig) {
  // A model class per app: sequelize-typescript binds a class to one Sequelize instance.
  @Table({ tableName: 'widgets' })
  class Widget extends Model {
    @Column(DataType.STRING)
    name?: string; // read with get('name'): a class field shadows the attribute under ES2022 class fields
  }

  @Injectable()
  class Counter {}

  @Controller()
  class WidgetsController {
    constructor(
      @InjectModel(Widget) private readonly widgets: typeof Widget,
      @Inject(ApartmentService) private readonly tenants: ApartmentService,
      @Inject(Counter) private readonly counter: Counter,
    ) {}

    @Get('widgets')
    async list(@CurrentTenant() seen: string | undefined, @Query('delay') delay?: string) {
      await sleep(Number(delay) || 0);
      const widgets = await this.widgets.findAll();
      return { tenant: this.tenants.current() ?? null, seen: seen ?? null, names: widgets.map((w) => w.get('name')).filter((n) => String(n).endsWith('-gear')) };
    }

    @Post('widgets')
    async create(@CurrentTenant() seen: string | undefined, @Body() body: { name: string; delay?: number }) {
      const before = this.tenants.current() ?? null; // right after the body was parsed
      await sleep(Number(body.delay) || 0);
      const created = await this.widgets.create({ name: body.name });
      return { tenant: before, seen: seen ?? null, name: created.get('name'), owner: this.tenants.tenantOf(created) ?? null };
    }

    @Get('whoami')
    whoami() {
      return { tenant: this.tenants.current() ?? null };
    }

    @Get('instances')
    ids() {
      return { controller: idOf(this), counter: idOf(this.counter), service: idOf(this.tenants) };
    }

    @Post('tenants')
    @HttpCode(201)
    async createTenant(@Body() body: { key: string }) {
      await this.tenants.createTenant(body.key);
      await this.tenants.run(body.key, async () => {
        await this.widgets.sync();
        await this.widgets.create({ name: `${body.key}-gear` });
      });
      return { created: body.key, tenants: (await this.tenants.tenants()).includes(body.key) };
    }
  }

  const options = { ...app.options, apartmentOptions: { prefix: config.prefix, migrationsPath: false as const, ...app.options.apartmentOptions } };
  @Module({
    imports: [
      SequelizeModule.forRoot({ uri: config.url, logging: false, models: [Widget], pool: { max: 5 } } as any),
      SequelizeModule.forFeature([Widget]),
      app.async
        ? ApartmentModule.forRootAsync({ useFactory: async () => (await sleep(1), options) })
        : ApartmentModule.forRoot(options),
    ],
    controllers: [WidgetsController],
    providers: [Counter],
  })
  class AppModule {}
  return AppModule;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.NEST_SERVER ?? '{}') as NestServerConfig;
  const apps: Array<Awaited<ReturnType<typeof NestFactory.create>>> = [];
  for (const app of config.apps) {
    const module = appModule(config, app);
    const nest = app.adapter === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter() as any, { logger: ['error'] })
      : await NestFactory.create(module, { logger: ['error'] });
    await nest.listen(0, '127.0.0.1');
    apps.push(nest);
  }
  const ports = apps.map((nest) => (nest.getHttpServer().address() as { port: number }).port);
  process.on('message', async (message) => {
    if (message !== 'close') return;
    for (const nest of apps) await nest.close();
    process.exit(0);
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  process.send!({ ports, nest: require('@nestjs/core/package.json').version });
}

main().catch((error) => {
  process.send?.({ error: (error as Error).stack ?? String(error) });
  process.exit(1);
});
