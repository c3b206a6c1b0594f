import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Sequelize } from 'sequelize';

export interface Database {
  sequelize: Sequelize;
  /** What the app is connected to, for the start-up message. */
  description: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL or MySQL/MariaDB URL. Without one, an embedded PostgreSQL (PGlite) is started. */
  url?: string;
  /** Embedded only: keep the data in this folder (created if missing). Without it, data lives in memory. */
  dataDir?: string;
}

/**
 * Connects to `url`, or starts PGlite (PostgreSQL compiled to WebAssembly)
 * behind pglite-socket's wire-protocol server and connects the ordinary `pg`
 * driver to it, so the app runs exactly as it would on a real server.
 */
export async function openDatabase({ url, dataDir }: DatabaseOptions = {}): Promise<Database> {
  if (url) {
    const sequelize = new Sequelize(url, { logging: false });
    await sequelize.authenticate();
    return { sequelize, description: url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@'), close: () => sequelize.close() };
  }

  // Loaded only here: apps and tests that bring their own server never load PGlite.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const { port } = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  const sequelize = new Sequelize({
    dialect: 'postgres',
    host: '127.0.0.1',
    port,
    username: 'postgres',
    database: 'postgres',
    logging: false,
    // PGlite is one backend: the socket server multiplexes every connection onto
    // it, so they would share session state. One connection keeps it honest.
    pool: { max: 1 },
  });
  await sequelize.authenticate();
  return {
    sequelize,
    description: `embedded PostgreSQL (PGlite) ${dataDir ? `with its data in ${dataDir}` : 'in memory'}`,
    async close() {
      await sequelize.close();
      await server.stop();
      await db.close();
    },
  };
}
