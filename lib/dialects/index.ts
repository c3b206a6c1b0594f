import type { AdapterContext, DialectAdapter } from './contract';
import { ConfigurationError } from '../errors';
import { MysqlAdapter } from './mysql';
import { PostgresAdapter } from './postgres';

/** The adapter for the Sequelize instance's dialect: the only place that branches on it. */
export function adapterFor(ctx: AdapterContext, defaultSchema?: string): DialectAdapter {
  const dialect = ctx.sequelize.getDialect();
  switch (dialect) {
    case 'postgres':
      return new PostgresAdapter(ctx, defaultSchema);
    case 'mysql':
    case 'mariadb':
      return new MysqlAdapter(ctx, defaultSchema);
    default:
      throw new ConfigurationError(
        `sequelize-apartment supports the 'postgres', 'mysql' and 'mariadb' dialects, got '${dialect}'. Create the Sequelize instance with one of them.`,
      );
  }
}

export type { DialectAdapter } from './contract';
