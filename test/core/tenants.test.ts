import { expect } from 'chai';
import * as sinon from 'sinon';
import { DataTypes } from 'sequelize';
import {
  Apartment,
  ApartmentError,
  ConfigurationError,
  TenantExistsError,
  TenantNameError,
  TenantNotFoundError,
} from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';

const BAD_KEYS: Array<[string, unknown]> = [
  ['empty', ''],
  ['space', 'acme corp'],
  ['uppercase', 'Acme'],
  ['quote', "acme'; DROP SCHEMA public CASCADE; --"],
  ['double quote', 'acme"."widgets'],
  ['backtick', 'acme`; DROP DATABASE test; --'],
  ['semicolon', 'a;b'],
  ['dot', 'acme.widgets'],
  ['slash', 'acme/../x'],
  ['leading dash', '-acme'],
  ['leading underscore', '_acme'],
  ['unicode look-alike', 'аcme'], // Cyrillic а
  ['combining mark', 'acme\u0301'],
  ['emoji', 'acme🙂'],
  ['NUL byte', 'acme\u0000'],
  ['newline', 'acme\n'],
  ['too long', 'a'.repeat(300)],
  ['negative number', -1],
  ['fraction', 1.5],
  ['NaN', Number.NaN],
  ['object without id', { name: 'acme' }],
  ['null', null],
  ['undefined', undefined],
  ['array', ['acme']],
  ['boolean', true],
  ['object with bad id', { id: 'Bad Id' }],
];

describeDialects('tenants: names, lifecycle, installation', (d) => {
  let sequelize: any;
  let apartment: Apartment;

  before(async () => {
    await d.dropAll('tenant_core-t');
    await d.dropAll('core_pfx_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { migrationsPath: false });
  });
  after(async () => {
    await d.dropAll('tenant_core-t');
    await d.dropAll('core_pfx_');
  });

  it('maps keys, numbers and { id } objects to prefix + key', () => {
    expect(apartment.schemaFor('core-t1')).to.equal('tenant_core-t1');
    expect(apartment.schemaFor(42)).to.equal('tenant_42');
    expect(apartment.schemaFor({ id: 'acme' })).to.equal('tenant_acme');
    expect(apartment.schemaFor({ id: 7 })).to.equal('tenant_7');
  });

  for (const [label, key] of BAD_KEYS) {
    it(`rejects a bad key (${label}) with TenantNameError before any SQL`, async () => {
      const query = sinon.spy(sequelize, 'query');
      try {
        for (const call of [
          () => apartment.schemaFor(key as any),
          () => apartment.createTenant(key as any),
          () => apartment.dropTenant(key as any),
          () => apartment.exists(key as any),
          () => apartment.run(key as any, () => 1),
        ]) {
          let error: unknown;
          try {
            await call();
          } catch (e) {
            error = e;
          }
          expect(error, `${label}: ${String(call)}`).to.be.instanceOf(TenantNameError);
          expect(error).to.be.instanceOf(ApartmentError);
          expect((error as Error).name).to.equal('TenantNameError');
          expect((error as Error).message).to.match(/key|tenant/i);
        }
        expect(query.callCount, 'no SQL may be sent').to.equal(0);
      } finally {
        query.restore();
      }
    });
  }

  it('rejects names longer than the server allows, and reserved names without a prefix', async () => {
    const max = d.name === 'postgres' ? 63 : 64;
    expect(apartment.schemaFor('a'.repeat(max - 'tenant_'.length))).to.have.length(max);
    expect(() => apartment.schemaFor('a'.repeat(max - 'tenant_'.length + 1))).to.throw(TenantNameError, /too long/);
    const bare = new Apartment(d.sequelize(), { migrationsPath: false, prefix: '' });
    for (const reserved of ['public', 'information_schema', 'pg_catalog', 'pg_anything', 'mysql', 'sys', 'performance_schema', d.defaultSchema]) {
      expect(() => bare.schemaFor(reserved), reserved).to.throw(TenantNameError, /reserved/);
    }
    expect(bare.schemaFor('acme')).to.equal('acme');
  });

  it('creates, lists, checks and drops tenants; the catalog agrees', async () => {
    const result = await apartment.createTenant('core-t1');
    expect(result).to.include({ ok: true, tenant: 'core-t1', schema: 'tenant_core-t1' });
    await apartment.createTenant('core-t2');
    expect(await d.schemaExists('tenant_core-t1')).to.equal(true);
    expect(await apartment.exists('core-t1')).to.equal(true);
    expect(await apartment.exists('core-t9')).to.equal(false);
    const keys = await apartment.tenants();
    expect(keys.filter((k) => k.startsWith('core-t'))).to.deep.equal(['core-t1', 'core-t2']);
    expect(keys).to.deep.equal([...keys].sort());
    await apartment.dropTenant('core-t1');
    expect(await d.schemaExists('tenant_core-t1')).to.equal(false);
    expect(await apartment.exists('core-t1')).to.equal(false);
  });

  it('createTenant on an existing tenant throws TenantExistsError; dropTenant on a missing one TenantNotFoundError', async () => {
    await apartment.createTenant('core-t3');
    const exists = await apartment.createTenant('core-t3').catch((e) => e);
    expect(exists).to.be.instanceOf(TenantExistsError);
    expect(exists.tenant).to.equal('core-t3');
    expect(exists.message).to.include("'core-t3'").and.include('dropTenant');
    const missing = await apartment.dropTenant('core-t-missing').catch((e) => e);
    expect(missing).to.be.instanceOf(TenantNotFoundError);
    expect(missing.tenant).to.equal('core-t-missing');
    expect(missing.cause).to.exist;
  });

  it('tenants() lists only keys with this prefix, prefix removed', async () => {
    const other = new Apartment(d.sequelize(), { migrationsPath: false, prefix: 'core_pfx_' });
    await other.createTenant('x1');
    expect(await other.tenants()).to.deep.equal(['x1']);
    expect(await apartment.tenants()).to.not.include('x1');
  });

  it('run() returns the callback result, nests, restores and survives await', async () => {
    expect(apartment.current()).to.equal(undefined);
    const result = await apartment.run('core-t2', async () => {
      expect(apartment.current()).to.equal('core-t2');
      await new Promise((resolve) => setTimeout(resolve, 5));
      const inner = await apartment.run('core-t3', async () => {
        await Promise.resolve();
        return apartment.current();
      });
      expect(apartment.current()).to.equal('core-t2');
      return inner;
    });
    expect(result).to.equal('core-t3');
    expect(apartment.current()).to.equal(undefined);
    expect(apartment.run('core-t2', () => 5)).to.equal(5);
  });

  it('installing twice on one Sequelize instance is an error; bad options are refused', () => {
    expect(() => new Apartment(sequelize)).to.throw(ConfigurationError, /already installed/);
    expect(() => new Apartment(d.sequelize(), { prefix: 'Bad Prefix' })).to.throw(ConfigurationError, /prefix/);
    expect(() => new Apartment(d.sequelize(), { strict: 'yes' as any })).to.throw(ConfigurationError, /strict/);
    expect(() => new Apartment(d.sequelize(), { sharedModels: 'Account' as any })).to.throw(ConfigurationError, /sharedModels/);
    expect(() => new Apartment({} as any)).to.throw(ConfigurationError, /Sequelize instance/);
  });

  it('routes models defined before and after the Apartment was created', async () => {
    const s = d.sequelize();
    const Before = s.define('Before', { v: DataTypes.STRING }, { tableName: 'before_t' });
    const ap = new Apartment(s);
    const After = s.define('After', { v: DataTypes.STRING }, { tableName: 'after_t' });
    await ap.run('core-t2', async () => {
      await Before.sync();
      await After.sync();
    });
    expect(await d.tables('tenant_core-t2')).to.include.members(['before_t', 'after_t']);
    expect(await d.tables(d.defaultSchema)).to.not.include.members(['before_t', 'after_t']);
  });
});
