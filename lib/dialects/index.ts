import type { AdapterContext, DialectAdapter } from './contract';
import { ConfigurationError, describeValue } from '../errors';

// Each adapter loads when an Apartment is made for its dialect, not at `require('sequelize-apartment')`.
/* eslint-disable @typescript-eslint/no-var-requires */
const load = {
  postgres: () => (require('./postgres') as typeof import('./postgres')).PostgresAdapter,
  citus: () => (require('./citus') as typeof import('./citus')).CitusAdapter,
  mysql: () => (require('./mysql') as typeof import('./mysql')).MysqlAdapter,
};

/** The adapter for the Sequelize instance's dialect: the only place that branches on it. */
export function adapterFor(ctx: AdapterContext, defaultSchema?: string, distribute?: 'citus'): DialectAdapter {
  const dialect = ctx.sequelize.getDialect();
  if (distribute !== undefined && distribute !== 'citus') {
    throw new ConfigurationError(`Expected \`distribute\` to be 'citus' (or left out), got ${describeValue(distribute)}.`);
  }
  if (distribute && dialect !== 'postgres') {
    throw new ConfigurationError(
      `\`distribute: 'citus'\` needs the 'postgres' dialect (Citus is a PostgreSQL extension), got '${dialect}'. Drop the option, or connect to a Citus coordinator with a postgres:// URL.`,
    );
  }
  switch (dialect) {
    case 'postgres':
      return distribute ? new (load.citus())(ctx, defaultSchema) : new (load.postgres())(ctx, defaultSchema);
    case 'mysql':
    case 'mariadb':
      return new (load.mysql())(ctx, defaultSchema);
    default:
      throw new ConfigurationError(
        `sequelize-apartment supports the 'postgres', 'mysql' and 'mariadb' dialects, got '${dialect}'. Create the Sequelize instance with one of them.`,
      );
  }
}

export type { DialectAdapter } from './contract';
