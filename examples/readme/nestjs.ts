import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { InjectModel, SequelizeModule } from '@nestjs/sequelize';
import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { ApartmentModule, ApartmentService, CurrentTenant } from 'sequelize-apartment/nestjs';

/** The README's NestJS setup, run on both adapters by test/examples/integrations.test.ts. */
export async function nestApp(uri: string, prefix: string, migrationsPath: string, adapter: 'express' | 'fastify' = 'express') {
  // #region model
  @Table({ tableName: 'notes' })
  class Note extends Model {
    @Column(DataType.TEXT)
    body?: string; // with ES2022 class fields, set "useDefineForClassFields": false to read note.body (sequelize-typescript's advice)
  }
  // #endregion model

  // #region controller
  @Controller('notes')
  class NotesController {
    constructor(@InjectModel(Note) private readonly notes: typeof Note) {}

    @Get()
    async list(@CurrentTenant() tenant: string) {
      return { tenant, notes: await this.notes.findAll() }; // this request's tenant only
    }

    @Post()
    add(@Body() body: { body: string }) {
      return this.notes.create(body); // in the tenant after the body is parsed
    }
  }
  // #endregion controller

  // #region module
  @Module({
    imports: [
      SequelizeModule.forRoot({ uri, models: [Note], logging: false }),
      SequelizeModule.forFeature([Note]),
      ApartmentModule.forRoot({ resolve: 'subdomain', apartmentOptions: { prefix, migrationsPath } }),
    ],
    controllers: [NotesController],
  })
  class AppModule {}
  // #endregion module

  const app = adapter === 'fastify' ? await NestFactory.create(AppModule, new FastifyAdapter() as any, { logger: false }) : await NestFactory.create(AppModule, { logger: false });
  return { app, service: app.get(ApartmentService) };
}
