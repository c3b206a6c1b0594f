import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { Sequelize } from 'sequelize';
import { Apartment, ConfigurationError } from 'sequelize-apartment';

describe('apartment.bind', () => {
  const apartment = new Apartment(new Sequelize('postgres://u@127.0.0.1:1/x', { logging: false }), { prefix: 'bind_' });

  it('a listener, timer or callback bound in a tenant runs in that tenant when called later, elsewhere', async () => {
    const emitter = new EventEmitter();
    const seen: Array<string | undefined> = [];
    apartment.run('acme', () => emitter.on('done', apartment.bind((n: number) => seen.push(`${apartment.current()}:${n}`))));
    const later = apartment.run('beta', () => apartment.bind(() => apartment.current()));
    const none = apartment.bind(() => apartment.current());
    apartment.run('gamma', () => emitter.emit('done', 1));
    emitter.emit('done', 2);
    expect(seen).to.deep.equal(['acme:1', 'acme:2']);
    expect(apartment.run('acme', later)).to.equal('beta');
    expect(apartment.run('acme', none)).to.equal(undefined);
    expect(await new Promise((resolve) => setTimeout(apartment.run('acme', () => apartment.bind(() => resolve(apartment.current()))), 1))).to.equal('acme');
  });

  it('refuses what is not a function', () => {
    expect(() => apartment.bind(42 as any)).to.throw(ConfigurationError);
  });
});
