import * as Sequelize from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { connectTo, type DialectName } from './env';

/**
 * What users write by hand today: per tenant, a Sequelize instance bound to
 * the tenant's schema (search_path) or database, and umzug with
 * SequelizeStorage over the same sequelize-cli migration files.
 */
export function handUmzug(sequelize: Sequelize.Sequelize, folder: string): Umzug<Sequelize.QueryInterface> {
  return new Umzug({
    migrations: {
      glob: ['*.js', { cwd: folder }],
      resolve: ({ name, path, context }) => {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const migration = require(path as string);
        return {
          name,
          up: () => migration.up(context, Sequelize),
          down: () => migration.down(context, Sequelize),
        };
      },
    },
    context: sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize }),
    logger: undefined,
  });
}

/** Opens the tenant's own Sequelize instance (pool of one), runs `fn` with its umzug, closes it. */
export async function withTenantUmzug<T>(
  dialect: DialectName,
  schema: string,
  folder: string,
  fn: (umzug: Umzug<Sequelize.QueryInterface>) => Promise<T>,
): Promise<T> {
  const sequelize = connectTo(dialect, schema, { pool: { max: 1 } });
  try {
    return await fn(handUmzug(sequelize, folder));
  } finally {
    await sequelize.close();
  }
}

/** Full runs time the hand-written loop on every 5th tenant; quick runs on all of them. */
const SAMPLE_EVERY_FULL = 5;

/**
 * The tenants a sequential hand-written loop is timed on. The loop's time is
 * linear in the tenant count, so `scale` turns the sample's time into the
 * time for all `keys`; `note` says so in the results.
 */
export function loopSample(keys: readonly string[], quick: boolean): { sample: string[]; scale(ms: number): number; note: string } {
  const every = quick ? 1 : SAMPLE_EVERY_FULL;
  const sample = keys.filter((_, i) => i % every === 0);
  return {
    sample,
    scale: (ms) => (ms * keys.length) / sample.length,
    note: `B timed on ${sample.length} tenants (every ${every}th) and scaled to ${keys.length}`,
  };
}
