/**
 * `npm run demo`: the widget SaaS on an embedded PostgreSQL (or on
 * DATABASE_URL), with copy-paste curl lines to try it.
 *
 *   npm run demo                       data kept in ./.apartment-demo/
 *   npm run demo -- --memory           data in memory, gone on exit
 *   npm run demo -- --port 8080        default: PORT or 3000 (0 = any free port)
 *   DATABASE_URL=postgres://... npm run demo
 */
import type { AddressInfo } from 'node:net';
import * as http from 'node:http';
import * as path from 'node:path';
import { createApp } from './app';
import { openDatabase } from './database';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}

export async function main(args = process.argv.slice(2)): Promise<void> {
  const memory = args.includes('--memory');
  const port = Number(option(args, '--port') ?? process.env.PORT ?? 3000);
  const dataDir = path.resolve(option(args, '--data') ?? '.apartment-demo');
  const url = process.env.DATABASE_URL || undefined;

  const database = await openDatabase({ url, dataDir: url || memory ? undefined : dataDir });
  const { app, apartment, models } = await createApp({ sequelize: database.sequelize });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A key that does not exist yet, so the lines below work on every run.
  const taken = new Set((await models.Account.findAll()).map((a) => a.key));
  let key = 'acme';
  for (let n = 2; taken.has(key); n++) key = `acme-${n}`;

  const tenants = await apartment.tenants();
  console.log(`Widget SaaS on ${database.description}${tenants.length ? ` (tenants: ${tenants.join(', ')})` : ''}`);
  console.log(`Listening on ${base}`);
  console.log('');
  console.log('Try it: sign up (a user and their tenant), then use the token it answers:');
  console.log(`curl -s -X POST ${base}/signup -H 'content-type: application/json' -d '{"email":"admin@${key}.example.com","tenant":"${key}"}'`);
  console.log('TOKEN=<the "token" from that answer>');
  console.log(`curl -s -X POST ${base}/widgets -H 'x-tenant: ${key}' -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"sprocket","quantity":3,"tags":["blue"]}'`);
  console.log(`curl -s ${base}/widgets -H 'x-tenant: ${key}' -H "authorization: Bearer $TOKEN"`);
  console.log('');
  console.log(`Also: GET ${base}/tenants (your tenants), the subdomain form http://${key}.localhost:${(server.address() as AddressInfo).port}/widgets, Ctrl-C to stop.`);

  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
