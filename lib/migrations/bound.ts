import type { Sequelize, Transaction } from 'sequelize';

/**
 * The `queryInterface` a migration receives when it runs in a transaction.
 *
 * Migration files are written for sequelize-cli and never pass a
 * transaction (and Sequelize v6 has no CLS unless the app enables it), yet
 * every statement must run on the migration's transaction to be atomic. Every
 * QueryInterface method sends its SQL through `this.sequelize.query`, so the
 * interface is the app's own (same methods, same tenant scoping) with one
 * difference: its `sequelize` is a view of the instance whose `query` adds
 * `{ transaction }` when none is given, and whose `transaction()` opens a
 * savepoint inside it. That also covers `queryInterface.sequelize.query(rawSql)`.
 */
export function boundQueryInterface<Q extends { sequelize: Sequelize }>(queryInterface: Q, transaction: Transaction): Q {
  const sequelize = queryInterface.sequelize as any;
  const withTransaction = (options: any) =>
    options && options.transaction !== undefined ? options : { ...options, transaction };
  const bound = new Proxy(sequelize, {
    get(target, property) {
      if (property === 'query') return (sql: unknown, options?: unknown) => target.query(sql, withTransaction(options));
      if (property === 'transaction') {
        return (options?: unknown, fn?: unknown) => {
          if (typeof options === 'function') return target.transaction(withTransaction({}), options);
          return target.transaction(withTransaction(options), fn);
        };
      }
      return Reflect.get(target, property, target);
    },
  });
  return Object.create(queryInterface, { sequelize: { value: bound, enumerable: true } });
}
