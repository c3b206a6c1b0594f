import 'reflect-metadata';
import { expect } from 'chai';
import { Controller, Get, Inject, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SequelizeModule, getConnectionToken } from '@nestjs/sequelize';
import { Apartment, ConfigurationError } from 'sequelize-apartment';
import { ApartmentModule, ApartmentService, CurrentTenant } from 'sequelize-apartment/nestjs';
import { describeDialects } from '../support/dialects';
import { request as send } from '../http/helpers';

@Controller()
class WhoController {
  constructor(@Inject(ApartmentService) private readonly tenants: ApartmentService) {}

  @Get('whoami')
  whoami(@CurrentTenant() seen?: string) {
    return { tenant: this.tenants.current() ?? null, seen: seen ?? null };
  }
}

/** How ApartmentModule is set up and refuses bad setups (NestJS 11, in this process; one dialect: nothing here is dialect-specific). */
describeDialects(
  'nestjs module setup',
  (d) => {
    const open: INestApplication[] = [];
    before(async () => {
      await d.dropAll('nestc_');
      const apartment = new Apartment(d.sequelize(), { prefix: 'nestc_', migrationsPath: false });
      await apartment.createTenant('acme');
    });
    afterEach(async () => {
      for (const app of open.splice(0)) await app.close();
    });
    after(() => d.dropAll('nestc_'));

    async function start(imports: any[]): Promise<INestApplication> {
      @Module({ imports, controllers: [WhoController] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      open.push(app);
      await app.listen(0, '127.0.0.1');
      return app;
    }
    const url = (app: INestApplication) => `http://127.0.0.1:${app.getHttpServer().address().port}`;

    it("takes the Apartment over the named @nestjs/sequelize connection ('connection')", async () => {
      const app = await start([
        SequelizeModule.forRoot({ name: 'tenants', uri: d.url, logging: false } as any),
        ApartmentModule.forRoot({ connection: 'tenants', resolve: 'header', apartmentOptions: { prefix: 'nestc_' } }),
      ]);
      expect(app.get(Apartment).sequelize).to.equal(app.get(getConnectionToken('tenants')));
      expect(app.get(ApartmentService).apartment).to.equal(app.get(Apartment));
      expect((await send(`${url(app)}/whoami`, { headers: { 'x-tenant': 'acme' } })).json).to.deep.equal({ tenant: 'acme', seen: 'acme' });
    });

    it("uses the app's own Apartment ('apartment'), no @nestjs/sequelize connection needed", async () => {
      const apartment = new Apartment(d.sequelize(), { prefix: 'nestc_' });
      const app = await start([ApartmentModule.forRootAsync({ useFactory: () => ({ apartment, resolve: 'header' }) })]);
      expect(app.get(Apartment)).to.equal(apartment);
      expect((await send(`${url(app)}/whoami`, { headers: { 'x-tenant': 'acme' } })).json).to.deep.equal({ tenant: 'acme', seen: 'acme' });
      expect((await send(`${url(app)}/whoami`, { headers: { 'x-tenant': 'nope' } })).status).to.equal(404);
    });

    for (const [title, imports, message] of [
      ['no connection and no apartment', [ApartmentModule.forRoot({ resolve: 'header' })], /found no @nestjs\/sequelize connection\. Import SequelizeModule\.forRoot/],
      ['an unknown resolver', [ApartmentModule.forRootAsync({ useFactory: () => ({ apartment: new Apartment(d.sequelize()), resolve: 'cookie' as any }) })], /Expected `resolve` to be/],
      ['an `apartment` that is not one', [ApartmentModule.forRoot({ apartment: {} as any })], /`apartment` option of ApartmentModule to be an Apartment instance/],
    ] as const) {
      it(`refuses ${title} with ConfigurationError when the app starts`, async () => {
        let error: unknown;
        try {
          await start(imports as any);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(ConfigurationError);
        expect((error as Error).message).to.match(message);
      });
    }

    it('refuses forRootAsync without useFactory at once', () => {
      expect(() => ApartmentModule.forRootAsync({} as any)).to.throw(ConfigurationError, /useFactory/);
    });
  },
  ['postgres'],
);
