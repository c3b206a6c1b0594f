import { Sequelize, type Options } from 'sequelize';

export type DialectName = 'postgres' | 'mysql';

export const URLS: Record<DialectName, string> = {
  postgres: process.env.PG_URL || 'postgres://postgres@127.0.0.1:5432/test',
  mysql: process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/test',
};

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
