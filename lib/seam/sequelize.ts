import type { Sequelize, Transaction } from 'sequelize';
import { ConfigurationError } from '../errors';

/**
 * Sequelize v6's internals, each behind a named function: the only code that
 * reads or replaces them. `checkSeam` (checks.ts) proves at construction that
 * every one of them is there.
 */

/** The version of the Sequelize copy the instance comes from (`Sequelize.version`), for error messages. */
export function sequelizeVersion(sequelize: Sequelize): string {
  const version = (sequelize as any)?.constructor?.version;
  return typeof version === 'string' ? version : 'unknown';
}

/** The association classes routed, and the methods each has in v6. */
export const ASSOCIATION_METHODS = {
  HasMany: ['get', 'count', 'has', 'set', 'add', 'remove', 'create'],
  BelongsTo: ['get', 'set', 'create'],
  HasOne: ['get', 'set', 'create'],
  BelongsToMany: ['get', 'count', 'has', 'set', 'add', 'remove', 'create'],
} as const;

/**
 * The association classes' prototypes of the Sequelize copy the instance
 * comes from (`sequelize.constructor.HasMany`, ...), never this package's own
 * `require('sequelize')`, which may be another copy.
 */
export function associationPrototypes(sequelize: Sequelize): Array<{ name: keyof typeof ASSOCIATION_METHODS; proto: any }> {
  const constructor = (sequelize as any).constructor;
  return (Object.keys(ASSOCIATION_METHODS) as Array<keyof typeof ASSOCIATION_METHODS>).map((name) => ({ name, proto: constructor?.[name]?.prototype }));
}

/** The Model base class of the instance's copy (its statics and prototype are what models inherit). */
export function modelClass(sequelize: Sequelize): any {
  return (sequelize as any).constructor?.Model;
}

/** The instance's QueryInterface (and so its query generator). */
export function queryInterfaceOf(sequelize: Sequelize): any {
  return sequelize.getQueryInterface();
}

/** The instance's query generator: quoting, and the SQL builders dialect adapters adjust. */
export function queryGeneratorOf(sequelize: Sequelize): any {
  return (sequelize.getQueryInterface() as any).queryGenerator;
}

/** The dialect's `Query` class, which runs every statement (`run`) and builds instances from rows (`handleSelectQuery`). */
export function queryClass(sequelize: Sequelize): any {
  return (sequelize as any).dialect.Query;
}

/** Makes `Query` the class the instance runs statements with (a subclass of `queryClass`). */
export function setQueryClass(sequelize: Sequelize, Query: unknown): void {
  (sequelize as any).dialect.Query = Query;
}

/** Replaces a method on one object (the instance's `query`, a QueryInterface method, a model's static): an own property. */
export function replaceMethod(target: object, name: string, value: Function): void {
  Object.defineProperty(target, name, { configurable: true, writable: true, value });
}

/** The transaction of Sequelize's CLS namespace (`Sequelize.useCLS`), if any. */
export function clsTransaction(sequelize: Sequelize): unknown {
  return (sequelize as any).constructor._cls?.get('transaction');
}

/** The connection manager (pool, driver connections). */
export function manager(sequelize: Sequelize): any {
  return (sequelize as any).connectionManager;
}

/** The pool size Sequelize was configured with (`pool.max`, its default 5). */
export function poolMax(sequelize: Sequelize): number {
  return Number(manager(sequelize)?.config?.pool?.max ?? 5) || 5;
}

/** A new driver connection outside the pool (close it with `closeConnection`). */
export function openConnection(sequelize: Sequelize): Promise<any> {
  const m = manager(sequelize);
  return m.connect(m.config);
}

export function closeConnection(sequelize: Sequelize, connection: unknown): Promise<void> {
  return manager(sequelize).disconnect(connection);
}

/** A connection from Sequelize's pool (give it back with `releasePooledConnection`). */
export function pooledConnection(sequelize: Sequelize): Promise<any> {
  return manager(sequelize).getConnection({ type: 'SELECT' });
}

export function releasePooledConnection(sequelize: Sequelize, connection: unknown): void {
  manager(sequelize).releaseConnection(connection);
}

/** Takes a pooled connection out of the pool and closes it (one whose session state could not be restored). */
export function destroyPooledConnection(sequelize: Sequelize, connection: unknown): Promise<void> {
  return manager(sequelize).destroyConnection(connection);
}

/**
 * The driver module Sequelize loaded for the dialect (`pg`, `mysql2`,
 * `mariadb`): the connection manager's `lib`.
 */
export function driverModule(sequelize: Sequelize): any {
  return manager(sequelize)?.lib;
}

/**
 * PostgreSQL: runs Sequelize's type-OID refresh (after CREATE TYPE, on new
 * connections) through `around`, e.g. with routing off.
 */
export function wrapTypeRefresh(sequelize: Sequelize, around: <T>(fn: () => Promise<T>) => Promise<T>): void {
  const m = manager(sequelize);
  const refresh = m._refreshDynamicOIDs;
  m._refreshDynamicOIDs = function refreshUnrouted(this: unknown, ...args: unknown[]) {
    return around(() => refresh.apply(this, args));
  };
}

/** Whether the PostgreSQL connection manager has its type-OID refresh (checks.ts). */
export function hasTypeRefresh(sequelize: Sequelize): boolean {
  return typeof manager(sequelize)?._refreshDynamicOIDs === 'function';
}

/**
 * The driver connection a Sequelize transaction runs on (Sequelize v6 sets
 * `transaction.connection` when the transaction starts); the tenant archive
 * streams COPY on it. Checked where it is used, since it exists only once a
 * transaction has started: a Sequelize that moved it is refused clearly.
 * @throws ConfigurationError
 */
export function transactionConnection(transaction: Transaction): any {
  const connection = (transaction as any)?.connection;
  if (!connection || typeof connection.query !== 'function') {
    throw new ConfigurationError(
      "This Sequelize version does not expose a transaction's driver connection (`transaction.connection`), which exportTenant/importTenant need for COPY. Use a Sequelize version in the range package.json's peerDependencies names, or report the version at sequelize-apartment's issues.",
    );
  }
  return connection;
}
