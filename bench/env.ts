import * as os from 'node:os';
import { Sequelize, type Options } from 'sequelize';

// The same servers, URLs and reachability check as the tests.
import { connect, unavailable, URLS, type DialectName } from '../test/support/servers';

export { connect, unavailable, URLS, type DialectName };

/** A Sequelize instance bound to one schema (search_path) or database, like hand-written per-tenant code. */
export function connectTo(dialect: DialectName, schema: string, options: Options = {}): Sequelize {
  if (dialect === 'mysql') {
    const url = new URL(URLS.mysql);
    url.pathname = `/${schema}`;
    return new Sequelize(url.toString(), { logging: false, ...options });
  }
  // search_path for unqualified SQL; `schema` for the query interface, which otherwise qualifies with "public".
  return connect(dialect, {
    ...options,
    schema,
    dialectOptions: { ...(options.dialectOptions ?? {}), options: `-c search_path=${schema}` },
  } as Options);
}

export async function serverVersion(dialect: DialectName): Promise<string> {
  const sequelize = connect(dialect, { pool: { max: 1 } });
  try {
    const [rows] = await sequelize.query(dialect === 'postgres' ? 'SELECT version() AS v' : 'SELECT VERSION() AS v');
    return String((rows as Array<{ v: string }>)[0].v);
  } finally {
    await sequelize.close();
  }
}

function versionOf(pkg: string): string {
  try {
    return require(`${pkg}/package.json`).version;
  } catch {
    return 'not installed';
  }
}

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model ?? 'unknown',
    memoryGB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    // How busy the machine was (other processes skew every absolute time): 1- and 15-minute load averages as the run ended.
    loadAverage: [os.loadavg()[0], os.loadavg()[2]].map((l) => Math.round(l * 10) / 10),
  };
}

export function packageVersions(): Record<string, string> {
  return {
    'sequelize-apartment': require('../../package.json').version,
    sequelize: versionOf('sequelize'),
    umzug: versionOf('umzug'),
    pg: versionOf('pg'),
    mysql2: versionOf('mysql2'),
    express: versionOf('express'),
  };
}
