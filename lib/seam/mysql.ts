/**
 * The MySQL/MariaDB drivers' own query call on a connection Sequelize holds
 * (a transaction's): mysql2's callback `query`, or the mariadb driver's
 * promise `query` (told apart by the mariadb connection's `queryStream`).
 * The tenant archive reads and writes rows through it, past Sequelize's
 * per-row result handling and per-statement SQL inspection. Only this file
 * calls it.
 */

/** What a statement sent with `driverQuery` takes. */
export interface DriverQueryOptions {
  /** Values for the statement's `?` placeholders. */
  readonly values?: readonly unknown[];
  /** Rows as arrays of column values in select order, not objects. */
  readonly rowsAsArray?: boolean;
}

/**
 * Runs `sql` on the driver connection `connection`: the rows of a SELECT,
 * or the driver's result of any other statement. Values are decoded by the
 * driver itself (mysql2: its own text decoding, not the connection's
 * `typeCast` that Sequelize installs), dates and times as the server's text
 * (exact to the microsecond when sent back as a value).
 */
export function driverQuery(connection: any, sql: string, options: DriverQueryOptions = {}): Promise<any> {
  const values = options.values ?? [];
  if (typeof connection?.queryStream === 'function') return connection.query({ sql, rowsAsArray: options.rowsAsArray === true, dateStrings: true }, values);
  return new Promise((resolve, reject) => {
    connection.query({ sql, values, rowsAsArray: options.rowsAsArray === true, typeCast: true, dateStrings: true }, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * `LOAD DATA LOCAL INFILE` on the driver connection, the file's bytes read
 * from the stream `source()` returns when the server asks for the file
 * (mysql2's `infileStreamFactory`): the driver's result (`affectedRows`,
 * `warningStatus`). Undefined where the driver is not mysql2 (the mariadb
 * driver sends local files only from connections opened with
 * `permitLocalInfile`).
 */
export function driverLoadData(connection: any, sql: string, source: () => NodeJS.ReadableStream): Promise<any> | undefined {
  if (typeof connection?.queryStream === 'function' || typeof connection?.query !== 'function') return undefined;
  return new Promise((resolve, reject) => {
    connection.query({ sql, infileStreamFactory: source }, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * Whether a driver error says the server or the connection does not take
 * local files (MariaDB/MySQL `local_infile` off, the client flag off):
 * 1148 ER_NOT_ALLOWED_COMMAND, 3948 ER_CLIENT_LOCAL_FILES_DISABLED, 4166
 * ER_LOAD_INFILE_CAPABILITY_DISABLED, 2068 CR_LOAD_DATA_LOCAL_INFILE_REJECTED.
 */
export function localInfileRefused(error: unknown): boolean {
  const errno = (error as { errno?: unknown })?.errno;
  return errno === 1148 || errno === 3948 || errno === 4166 || errno === 2068;
}
