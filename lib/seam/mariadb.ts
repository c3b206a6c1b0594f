/**
 * The mariadb driver (Sequelize's `mariadb` dialect): what the session's
 * quoting mode is, as the server reported it to the connection, and the
 * driver's own rendering of a value. Only this file reads them. A connection
 * is needed to read either, so they are checked when used (the adapter
 * refuses with UnsafeQueryError when the mode is unknown), not at
 * construction.
 */

/** SERVER_STATUS_NO_BACKSLASH_ESCAPES: the server reports the session's mode in every OK packet. */
const NO_BACKSLASH_ESCAPES = 1 << 9;

/**
 * Whether the session reads a backslash in a literal as an escape (false
 * under sql_mode NO_BACKSLASH_ESCAPES), from the status flags the server
 * sent with its last reply (`connection.info.status`); undefined when the
 * connection does not say.
 */
export function mariadbBackslashEscapes(connection: any): boolean | undefined {
  const status: unknown = connection?.info?.status;
  return typeof status === 'number' ? (status & NO_BACKSLASH_ESCAPES) === 0 : undefined;
}

/** The literal the driver writes for `value` into a statement's text (`connection.escape`: its escaping for the default sql_mode). */
export function mariadbEscape(connection: any, value: unknown): string {
  return String(connection.escape(value));
}
