/**
 * Splits SQL text into its statements at top-level semicolons, leaving
 * semicolons inside quoted strings, quoted identifiers, dollar-quoted bodies
 * and comments alone. Empty statements are dropped; each statement keeps its
 * text as written (without the semicolon).
 *
 * @example splitStatements('ALTER TABLE a ...; ALTER TABLE a ...;') // ['ALTER TABLE a ...', 'ALTER TABLE a ...']
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const text = sql.slice(start, end).trim();
    if (text !== '') statements.push(text);
  };
  while (i < sql.length) {
    const next = skipOpaque(sql, i);
    if (next !== i) i = next;
    else if (sql[i] === ';') (push(i), (start = ++i));
    else i++;
  }
  push(sql.length);
  return statements;
}

/**
 * The index just past the quoted string, quoted identifier, comment or
 * dollar-quoted body that starts at `i`, or `i` when none starts there: the
 * one lexer both functions here share, so they agree on what is code.
 */
function skipOpaque(sql: string, i: number): number {
  const c = sql[i];
  if (c === "'" || c === '"') {
    // Quotes are escaped by doubling them; E'' strings may also use a backslash.
    const escapes = c === "'" && i > 0 && /[eE]/.test(sql[i - 1]!) && !/\w/.test(sql[i - 2] ?? '');
    i++;
    while (i < sql.length) {
      if (escapes && sql[i] === '\\') i += 2;
      else if (sql[i] === c && sql[i + 1] === c) i += 2;
      else if (sql[i] === c) break;
      else i++;
    }
    return i + 1;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return end === -1 ? sql.length : end + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    // PostgreSQL block comments nest.
    let depth = 1;
    i += 2;
    while (i < sql.length && depth > 0) {
      if (sql[i] === '/' && sql[i + 1] === '*') (depth++, (i += 2));
      else if (sql[i] === '*' && sql[i + 1] === '/') (depth--, (i += 2));
      else i++;
    }
    return i;
  }
  if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
    const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end === -1 ? sql.length : end + tag[0].length;
    }
  }
  return i;
}

/**
 * `sql` with its PostgreSQL bind parameters (`$1`, `$2`, …) replaced by
 * `literal(parameters[n - 1])`, outside quoted strings, quoted identifiers,
 * dollar-quoted bodies and comments (and not inside an identifier such as
 * `a$1`). Undefined when a placeholder has no parameter or `literal` cannot
 * render a value: the statement is then sent with bind parameters as it was.
 *
 * @example inlineParameters('SELECT $1::int', [7], (v) => `'${v}'`) // "SELECT '7'::int"
 */
export function inlineParameters(sql: string, parameters: readonly unknown[], literal: (value: unknown) => string | undefined): string | undefined {
  let out = '';
  let last = 0;
  let i = 0;
  while (i < sql.length) {
    const next = skipOpaque(sql, i);
    if (next !== i) {
      i = next;
      continue;
    }
    // A placeholder, unless the $ is part of an identifier (a$1).
    const placeholder = sql[i] === '$' && !/[\w$]/.test(sql[i - 1] ?? '') ? /^\$(\d+)/.exec(sql.slice(i, i + 12)) : null;
    if (placeholder) {
      const n = Number(placeholder[1]);
      if (n < 1 || n > parameters.length) return undefined;
      const text = literal(parameters[n - 1]);
      if (text === undefined) return undefined;
      out += sql.slice(last, i) + text;
      i += placeholder[0].length;
      last = i;
    } else {
      i++;
    }
  }
  return out + sql.slice(last);
}
