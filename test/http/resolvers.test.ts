import { expect } from 'chai';
import { ExistenceCache } from '../../lib/http/existence-cache';
import { subdomainOf } from '../../lib/http/subdomain';

describe('http resolvers (no database)', () => {
  it('subdomainOf: first label, port and trailing dot ignored, bare and IP hosts give none', () => {
    const www = new Set(['www']);
    const cases: Array<[string | undefined, string | undefined]> = [
      ['acme.example.com', 'acme'],
      ['ACME.Example.COM:8080', 'acme'],
      ['acme.example.com.', 'acme'],
      ['acme.localhost', 'acme'],
      ['acme.localhost:3000', 'acme'],
      ['a.b.example.co.uk', 'a'],
      ['www.example.com', undefined],
      ['example.com', undefined],
      ['localhost', undefined],
      ['localhost:3000', undefined],
      ['127.0.0.1', undefined],
      ['127.0.0.1:3000', undefined],
      ['[::1]', undefined],
      ['[::1]:3000', undefined],
      ['', undefined],
      [undefined, undefined],
      // malformed: never a tenant, '' fails key validation (404)
      ['.example.com', ''],
      ['beta..acme.example.com', ''],
      ['acme.example.com/../beta', ''],
      ['acme@beta.example.com', ''],
      ['\u00e1cme.example.com', ''],
    ];
    for (const [host, label] of cases) expect(subdomainOf(host, www), String(host)).to.equal(label);
  });

  it('ExistenceCache is bounded and does not store an answer that raced with a create/drop', async () => {
    let release!: (v: boolean) => void;
    const lookups: string[] = [];
    const cache = new ExistenceCache(async (ref) => {
      lookups.push(ref.name);
      if (ref.name === 'slow') return new Promise<boolean>((r) => { release = r; });
      return true;
    }, 3);
    for (const name of ['a', 'b', 'c', 'd', 'e']) await cache.exists({ key: name, name }, 60_000);
    expect(cache.size).to.equal(3);
    await cache.exists({ key: 'e', name: 'e' }, 60_000);
    await cache.exists({ key: 'a', name: 'a' }, 60_000); // evicted, asked again
    expect(lookups).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'a']);

    const pending = cache.exists({ key: 'slow', name: 'slow' }, 60_000);
    cache.set({ key: 'slow', name: 'slow' }, false); // dropped while the lookup was in flight
    release(true);
    expect(await pending).to.equal(true);
    expect(await cache.exists({ key: 'slow', name: 'slow' }, 60_000)).to.equal(false);
  });
});
