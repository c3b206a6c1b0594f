import { Sequelize, type Options } from 'sequelize';

/** `mysql` is Sequelize's mysql dialect with mysql2, `mariadb` its mariadb dialect with the mariadb driver. */
export type DialectName = 'postgres' | 'mysql' | 'mariadb';

export const URLS: Record<DialectName, string> = {
  postgres: process.env.PG_URL || 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/test',
  // The same MariaDB server as MYSQL_URL unless told otherwise, so setting MYSQL_URL alone never
  // sends the mariadb suites to another server.
  mariadb: process.env.MARIADB_URL || (process.env.MYSQL_URL ? process.env.MYSQL_URL.replace(/^mysql:/, 'mariadb:') : 'mariadb://root@127.0.0.1:3306/test'),
};

/** The variable that sets a dialect's server URL. */
export const URL_VARIABLES: Record<DialectName, string> = { postgres: 'PG_URL', mysql: 'MYSQL_URL', mariadb: 'MARIADB_URL' };

const availability = new Map<DialectName, Promise<string | undefined>>();

/** Resolves to undefined when the server answers, or to the reason it does not. */
export function unavailable(dialect: DialectName): Promise<string | undefined> {
  let pending = availability.get(dialect);
  if (!pending) {
    pending = (async () => {
      const sequelize = new Sequelize(URLS[dialect], { logging: false, pool: { max: 1 } });
      try {
        await sequelize.authenticate();
        return undefined;
      } catch (error) {
        return (error as Error).message;
      } finally {
        await sequelize.close().catch(() => undefined);
      }
    })();
    availability.set(dialect, pending);
  }
  return pending;
}

/** A new Sequelize instance on the dialect's test server; close it when done. */
export function connect(dialect: DialectName, options: Options = {}): Sequelize {
  return new Sequelize(URLS[dialect], { logging: false, ...options });
}
