import type { Sequelize } from 'sequelize';
import { ConfigurationError } from '../errors';
import { INSTANCE, STATICS } from '../routing/models';
import { TABLE_METHODS } from '../routing/query-interface';
import { pgPrepareValue } from './pg';
import { isPool } from './pool';
import { ASSOCIATION_METHODS, associationPrototypes, driverModule, hasTypeRefresh, manager, modelClass, queryClass, queryGeneratorOf, queryInterfaceOf, sequelizeVersion } from './sequelize';

/** What the Apartment about to be installed uses (some pieces are only needed then). */
export interface SeamNeeds {
  /** Tenant-affine connections: sequelize-pool's private lists. */
  affinity: boolean;
  /** `isolation: 'role'`: node-postgres' `prepareValue` and `escapeLiteral` (bind values inlined). */
  roles: boolean;
}

/**
 * QueryInterface methods that model operations send their statement through.
 * An explicit `{ tenant }` is in context only while such a method runs
 * synchronously (`TenantContext.during`), and qualified model DML is marked
 * in the same synchronous stretch (query-interface.ts): each must build its
 * SQL and hand it to `sequelize.query` before its first `await`.
 */
const SYNCHRONOUS: Record<string, (model: unknown, instance: unknown) => unknown[]> = {
  select: (model) => [model, 'probe', {}],
  insert: (_model, instance) => [instance, 'probe', {}, {}],
  update: (_model, instance) => [instance, 'probe', {}, {}, {}],
  delete: (_model, instance) => [instance, 'probe', {}, {}],
  bulkInsert: () => ['probe', [{}], {}, {}],
  bulkUpdate: () => ['probe', {}, {}, {}, {}],
  bulkDelete: (model) => ['probe', {}, {}, model],
  upsert: (model) => ['probe', {}, {}, {}, { model }],
  rawSelect: (model) => ['probe', {}, 'id', model],
  increment: (model) => [model, 'probe', {}, {}, {}, {}],
  decrement: (model) => [model, 'probe', {}, {}, {}, {}],
};

/**
 * Checks, before anything is installed, that the Sequelize copy the instance
 * comes from has every shape the package relies on: the classes, methods and
 * private fields it reads or replaces, and that QueryInterface builds its
 * SQL synchronously where the explicit `{ tenant }` form relies on it.
 * Reads only: a probe call runs on a stand-in for the QueryInterface whose
 * query generator and `query` record the call and send nothing.
 * @throws ConfigurationError naming the Sequelize version and every missing piece
 */
export function checkSeam(sequelize: Sequelize, needs: SeamNeeds): void {
  const missing = missingPieces(sequelize, needs);
  if (missing.length === 0) return;
  throw new ConfigurationError(
    `sequelize-apartment cannot be installed on this Sequelize (${sequelizeVersion(sequelize)}): it relies on Sequelize v6 internals that this copy does not have as expected: ${missing.join('; ')}. Nothing was installed. Use a Sequelize version in the range package.json's peerDependencies names (the versions CI runs), or report the version at https://github.com/ (sequelize-apartment issues).`,
  );
}

/** Every missing or changed piece, as a short phrase (empty: all there). */
export function missingPieces(sequelize: Sequelize, needs: SeamNeeds): string[] {
  const missing: string[] = [];
  const fn = (owner: any, name: string, where: string) => {
    if (typeof owner?.[name] !== 'function') missing.push(`${where}.${name}()`);
  };
  const s = sequelize as any;
  for (const name of ['query', 'getQueryInterface', 'getDialect', 'addHook', 'transaction', 'escape']) fn(s, name, 'sequelize');
  if (missing.length > 0) return missing; // not a Sequelize instance to speak of
  const dialect = sequelize.getDialect();
  const postgres = dialect === 'postgres';

  const Query = queryClass(sequelize);
  if (typeof Query !== 'function') missing.push('sequelize.dialect.Query (the class that runs statements)');
  // formatResults: the mariadb driver's rows are adapted before it (MysqlAdapter#driverResults).
  else for (const name of ['run', 'handleSelectQuery', ...(dialect === 'mariadb' ? ['formatResults'] : [])]) fn(Query.prototype, name, 'Query.prototype');

  for (const { name, proto } of associationPrototypes(sequelize)) {
    if (!proto) missing.push(`Sequelize.${name} (association class)`);
    else for (const method of ASSOCIATION_METHODS[name]) fn(proto, method, `${name}.prototype`);
  }

  const Model = modelClass(sequelize);
  if (typeof Model !== 'function') missing.push('Sequelize.Model');
  else {
    for (const name of [...Object.keys(STATICS), 'build', 'getTableName']) fn(Model, name, 'Model');
    for (const name of Object.keys(INSTANCE)) fn(Model.prototype, name, 'Model.prototype');
  }

  const queryInterface = queryInterfaceOf(sequelize);
  for (const name of [...Object.keys(TABLE_METHODS), 'tableExists', 'showAllTables']) {
    if (name === 'pgListEnums' && !postgres) continue;
    fn(queryInterface, name, 'QueryInterface');
  }
  if (postgres) fn(queryInterface, 'dropEnum', 'QueryInterface');
  const queryGenerator = queryGeneratorOf(sequelize);
  for (const name of ['quoteTable', 'quoteIdentifier', 'escape', 'selectQuery', 'insertQuery', 'updateQuery', 'deleteQuery', 'bulkInsertQuery', 'arithmeticQuery']) fn(queryGenerator, name, 'QueryGenerator');
  if (postgres) for (const name of ['removeIndexQuery', 'pgEnumDrop']) fn(queryGenerator, name, 'QueryGenerator');
  else {
    fn(queryGenerator, 'getForeignKeyQuery', 'QueryGenerator');
    fn(queryGenerator, 'getForeignKeysQuery', 'QueryGenerator');
    if (typeof queryGenerator?._dialect?.supports?.schemas !== 'boolean') missing.push('QueryGenerator._dialect.supports.schemas');
  }
  if (missing.length === 0) missing.push(...unsynchronous(queryInterface, Model));

  const connections = manager(sequelize);
  for (const name of ['connect', 'disconnect', 'getConnection', 'releaseConnection', 'destroyConnection']) fn(connections, name, 'connectionManager');
  if (typeof connections?.config !== 'object') missing.push('connectionManager.config');
  if (postgres && !hasTypeRefresh(sequelize)) missing.push('connectionManager._refreshDynamicOIDs() (PostgreSQL type refresh)');
  if (needs.affinity) {
    const pool = connections?.pool;
    if (!isPool(pool) && !(isPool(pool?.read) && isPool(pool?.write))) missing.push("connectionManager.pool as sequelize-pool's Pool (_availableObjects, _inUseObjects, maxSize, acquire, release, destroy); or turn `affinity` off");
  }
  if (needs.roles && postgres) {
    const Client = driverModule(sequelize)?.Client;
    if (typeof Client?.prototype?.escapeLiteral !== 'function' || typeof Client?.prototype?.query !== 'function') missing.push("pg's Client.prototype.query() and escapeLiteral()");
    else if (!pgPrepareValue(Client)) missing.push("pg's utils.prepareValue() beside its Client (lib/utils.js)");
  }
  return missing;
}

/**
 * The probe: each method of `SYNCHRONOUS` called on a stand-in whose query
 * generator returns a placeholder and whose `sequelize.query` records the
 * call and never settles, so nothing runs after it. A method that has not
 * called `query` by the time it returns would build its SQL after the
 * explicit tenant left the context.
 */
function unsynchronous(queryInterface: any, Model: any): string[] {
  const late: string[] = [];
  const sent = { yes: false };
  const sequelize = Object.create(queryInterface.sequelize, {
    query: {
      value: () => {
        sent.yes = true;
        return new Promise(() => undefined);
      },
    },
  });
  const realGenerator = queryInterface.queryGenerator;
  const queryGenerator = new Proxy(realGenerator, {
    get: (target, name) => (typeof target[name] === 'function' && /Query$/.test(String(name)) ? () => 'SELECT 1' : target[name]),
  });
  const probe = Object.create(queryInterface, { sequelize: { value: sequelize }, queryGenerator: { value: queryGenerator } });
  // A model and an instance as QueryInterface reads them (keys, attributes, options), with nothing to cascade.
  const model = {
    name: 'probe',
    tableName: 'probe',
    primaryKeys: {},
    uniqueKeys: {},
    _indexes: [],
    rawAttributes: {},
    options: {},
    associations: {},
  };
  const instance = Object.create(Model.prototype, { constructor: { value: model } });
  for (const [name, args] of Object.entries(SYNCHRONOUS)) {
    sent.yes = false;
    try {
      const result = probe[name](...args(model, instance));
      if (result && typeof result.catch === 'function') result.catch(() => undefined);
    } catch {
      // a synchronous throw: it sent nothing either
    }
    if (!sent.yes) late.push(`QueryInterface.${name}() sending its SQL synchronously (the explicit { tenant } option relies on it)`);
  }
  return late;
}
