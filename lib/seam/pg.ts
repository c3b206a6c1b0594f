import * as path from 'node:path';
import { ConfigurationError } from '../errors';

/**
 * node-postgres internals: the client's `query` (wrapped once per connection
 * to send a prefix in the statement's own message) and its `prepareValue`
 * helper (how it turns a bind value into text), found next to the client's
 * class. Only this file touches them.
 */

/** SQL put in front of a statement, and how many results it adds (removed again before Sequelize sees them). */
export interface Prefix {
  readonly text: string;
  readonly statements: number;
}

/** Statements to send in front of the next statement on this connection (consumed by the wrapped `query`). */
const PREFIX = Symbol('apartment.prefix');
const WRAPPED = Symbol('apartment.wrapped');

/** Sends `prefix` in front of the next statement Sequelize runs on `connection` (wrapping its `query` once). */
export function prefixNext(connection: any, prefix: Prefix): void {
  if (!connection[WRAPPED]) wrapConnection(connection);
  connection[PREFIX] = prefix;
}

/** Runs a statement on the pg client directly, outside Sequelize (routing bookkeeping only); drops a pending prefix. */
export function clientQuery(connection: any, text: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    connection[PREFIX] = undefined;
    connection.query(text, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)));
  });
}

/** Runs a query with bind values on a pg client of its own (`openConnection`): rows. */
export function clientRows(connection: any, text: string, values: unknown[]): Promise<unknown[]> {
  return new Promise((resolve, reject) =>
    connection.query(text, values, (error: unknown, result: any) => (error ? reject(error) : resolve(result.rows as unknown[]))),
  );
}

/**
 * Wraps the pg client's `query` once: when a prefix is pending, it is sent in
 * the same message as the statement and its result is removed again, so
 * Sequelize sees exactly the result it would have seen without it.
 */
function wrapConnection(connection: any): void {
  const original = connection.query;
  connection[WRAPPED] = true;
  connection.query = function query(this: any, text: unknown, values?: unknown, callback?: unknown) {
    const prefix: Prefix | undefined = this[PREFIX];
    if (prefix === undefined || typeof text !== 'string') return original.apply(this, arguments);
    this[PREFIX] = undefined;
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    const done = callback as (error: unknown, result?: unknown) => void;
    const skip = prefix.statements;
    return original.call(this, prefix.text + text, (error: unknown, result: unknown) => {
      if (error) return done(error);
      if (Array.isArray(result)) return done(null, result.length === skip + 1 ? result[skip] : result.slice(skip));
      return done(null, result);
    });
  };
}

/** node-postgres' own `prepareValue` for a client class; undefined when unknown. */
const PREPARE = new WeakMap<object, ((value: unknown) => unknown) | null>();
export function pgPrepareValue(Client: unknown): ((value: unknown) => unknown) | undefined {
  if (typeof Client !== 'function') return undefined;
  let prepare = PREPARE.get(Client);
  if (prepare === undefined) {
    prepare = null;
    for (const loaded of Object.values(require.cache)) {
      if (!loaded || loaded.exports !== Client) continue;
      const utils = require.cache[path.join(path.dirname(loaded.filename), 'utils.js')]?.exports;
      if (typeof utils?.prepareValue === 'function') prepare = utils.prepareValue as (value: unknown) => unknown;
      break;
    }
    PREPARE.set(Client, prepare);
  }
  return prepare ?? undefined;
}

/** The text node-postgres would send for a bind value, as an escaped literal (`'NULL'` for null); undefined when it cannot say (binary values, helpers not found). */
export function pgLiteral(connection: any): ((value: unknown) => string | undefined) | undefined {
  const prepare = pgPrepareValue(connection?.constructor);
  if (!prepare || typeof connection.escapeLiteral !== 'function') return undefined;
  return (value) => {
    const text = prepare(value);
    if (text === null) return 'NULL';
    return typeof text === 'string' ? connection.escapeLiteral(text) : undefined;
  };
}

type CopyStreams = typeof import('pg-copy-streams');
let copyStreams: CopyStreams | undefined;

/** `pg-copy-streams`, an optional peer dependency, loaded on first use. */
export function pgCopyStreams(): CopyStreams {
  if (!copyStreams) {
    try {
      copyStreams = require('pg-copy-streams') as CopyStreams;
    } catch (cause) {
      throw new ConfigurationError(
        'exportTenant/importTenant/cloneTenant on PostgreSQL stream rows with COPY through the `pg-copy-streams` package, which is not installed. Run `npm install pg-copy-streams` in the app.',
        { cause },
      );
    }
  }
  return copyStreams;
}
