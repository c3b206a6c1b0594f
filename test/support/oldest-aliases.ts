/** The packages test/support/oldest.ts swaps, each with the npm alias (a devDependency) that holds the lowest version its peer range admits. */
export const OLDEST_ALIASES: Readonly<Record<string, string>> = {
  sequelize: 'sequelize-oldest',
  pg: 'pg-oldest',
  mysql2: 'mysql2-oldest',
  mariadb: 'mariadb-oldest',
};

/** Set (to '1') in a run with test/support/oldest.ts installed, and in its child processes. */
export const OLDEST_ENV = 'APARTMENT_OLDEST_PEERS';
