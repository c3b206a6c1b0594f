import { expect } from 'chai';
import type { Sequelize } from 'sequelize';
import { DataTypes } from 'sequelize';
import { Apartment } from 'sequelize-apartment';
import { describeDialects } from '../support/dialects';
import { EXPRESSES, listen, raw, request } from './helpers';

/**
 * Hostile requests (issue 5): malformed, oversized, repeated and odd Host and
 * tenant headers, over real sockets. Every answer is 400 or 404 (or Node's
 * own 4xx before the app runs), never 500, and never another tenant's data.
 */
describeDialects('middleware: hostile input', (d) => {
  let sequelize: Sequelize;
  let apartment: Apartment;

  before(async () => {
    await d.dropAll('http_h_');
    sequelize = d.sequelize();
    apartment = new Apartment(sequelize, { migrationsPath: false, prefix: 'http_h_' });
    const Secret = sequelize.define('Secret', { owner: DataTypes.STRING }, { tableName: 'secrets' });
    for (const key of ['acme', 'beta']) {
      await apartment.createTenant(key);
      await apartment.run(key, async () => {
        await Secret.sync();
        await Secret.create({ owner: key });
      });
    }
  });
  after(() => d.dropAll('http_h_'));

  for (const { version, express } of EXPRESSES) {
    for (const resolve of ['subdomain', 'header', 'path'] as const) {
      describe(`${version}, resolve: '${resolve}'`, () => {
        let server: Awaited<ReturnType<typeof listen>>;
        let ranIn: Array<string | undefined>;

        before(async () => {
          const app = express();
          app.use(apartment.middleware({ resolve }));
          app.use(async (req, res) => {
            ranIn.push(apartment.current());
            const [rows] = await sequelize.query('SELECT owner FROM secrets');
            res.json({ tenant: apartment.current(), owners: (rows as Array<{ owner: string }>).map((r) => r.owner) });
          });
          app.use((err: any, _req: any, res: any, _next: any) => {
            res.status(typeof err.status === 'number' ? err.status : 500).json({ name: err.name });
          });
          server = await listen(app);
        });
        after(() => server.close());
        beforeEach(() => { ranIn = []; });

        /** Sends a raw request; returns its status and checks it is a clean refusal or acme's own data. */
        async function send(lines: string[], allowAcme = false): Promise<number> {
          const { status, text } = await raw(server.port, Buffer.from(`${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`, 'latin1'));
          expect(status, `${JSON.stringify(lines)} -> ${text.slice(0, 300)}`).to.not.equal(500);
          if (status === 200) {
            expect(allowAcme, `${JSON.stringify(lines)} was accepted`).to.equal(true);
            expect(text).to.include('"owners":["acme"]');
          } else {
            expect(status, JSON.stringify(lines)).to.be.within(400, 499);
          }
          expect(text).to.not.include('"owners":["beta"]');
          return status;
        }

        const target = resolve === 'path' ? (key: string) => `GET /${key}/x HTTP/1.1` : () => 'GET /x HTTP/1.1';
        const carry = (key: string): string[] =>
          resolve === 'subdomain' ? [target(key), `Host: ${key}.example.com`]
            : resolve === 'header' ? [target(key), 'Host: example.com', `X-Tenant: ${key}`]
              : [target(key), 'Host: example.com'];

        it('serves a well-formed request for acme (control)', async () => {
          expect(await send(carry('acme'), true)).to.equal(200);
          expect(ranIn).to.deep.equal(['acme']);
        });

        it('rejects odd keys with 400/404, before the route runs', async () => {
          const keys = [
            'beta%00', 'acm%65', '%61cme', 'ac%2Fme', 'ACME\u00e9', '\u0430cme' /* Cyrillic a */, 'acme\u0301', "a'; DROP SCHEMA public; --",
            'a`b', 'a"b', '-acme', '_acme', 'x'.repeat(300), 'x'.repeat(8000), '..', 'beta..acme', 'pg_catalog', 'public', 'acme,beta', 'acme beta',
          ];
          for (const key of keys) {
            const bytes = Buffer.from(key, 'utf8').toString('latin1'); // send UTF-8 bytes as they are
            const lines = carry(bytes).map((l) => l.replace(/[\r\n]/g, ''));
            if (resolve === 'path' && /[ ]/.test(key)) continue; // a space ends the request target
            const status = await send(lines);
            expect(status, key).to.be.oneOf([400, 404]);
          }
          expect(ranIn).to.deep.equal([]);
        });

        it('repeated headers are refused, never resolved to one of the tenants', async () => {
          // With 'path' the tenant is in the path, so acme is the right answer there.
          await send([target('acme'), 'Host: acme.example.com', 'Host: beta.example.com', 'X-Tenant: acme', 'X-Tenant: beta'], resolve === 'path');
          await send([target('acme'), 'Host: beta.example.com', 'Host: acme.example.com', 'X-Tenant: beta', 'X-Tenant: acme'], resolve === 'path');
          if (resolve !== 'path') expect(ranIn).to.deep.equal([]);
        });

        it('malformed, IP and oversized Host headers: 4xx, never 500', async () => {
          const hosts = [
            '', ' ', '.', '..', '.example.com', 'acme..example.com', '[::1]', '[::1]:80', '127.0.0.1', '127.0.0.1:99999',
            'acme.example.com:', 'acme.example.com:abc', 'acme.example.com:80:80', '[acme].example.com', 'acme.example.com/../beta',
            'acme@beta.example.com', 'beta.example.com\u0000', `${'a'.repeat(10_000)}.example.com`, `${'a.'.repeat(4000)}example.com`,
          ];
          for (const host of hosts) {
            // A host that still names acme (`acme.example.com:`) may be served as acme; nothing else may be.
            const status = await send([target('acme'), `Host: ${host}`, ...(resolve === 'header' ? ['X-Tenant: acme'] : [])], true);
            if (resolve === 'subdomain' && !host.startsWith('acme.example.com:')) expect(status, JSON.stringify(host)).to.be.within(400, 499);
          }
          // Beyond Node's header size limit Node itself answers 431 before the app runs.
          const huge = await send([target('acme'), `Host: acme.${'a'.repeat(20_000)}.example.com`]);
          expect(huge).to.be.within(400, 499);
        });

        it('absolute-form and odd request targets are no way in', async () => {
          await send(['GET http://beta.example.com/x HTTP/1.1', 'Host: acme.example.com', ...(resolve === 'header' ? ['X-Tenant: acme'] : [])], true);
          await send(['GET //beta/x HTTP/1.1', 'Host: example.com']);
          await send(['GET /%2e%2e/beta/x HTTP/1.1', 'Host: example.com']);
        });

        it('after all that, normal requests still get their own tenant', async () => {
          const res = await request(`${server.url}${resolve === 'path' ? '/beta/x' : '/x'}`, {
            headers: resolve === 'subdomain' ? { host: 'beta.example.com' } : resolve === 'header' ? { 'x-tenant': 'beta' } : {},
          });
          expect(res.json).to.deep.equal({ tenant: 'beta', owners: ['beta'] });
        });
      });
    }
  }
});
