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
 * How one server, in one mode, reads SQL text: where quoted strings, quoted
 * identifiers and comments start and end. Settings change it at run time
 * (PostgreSQL's `standard_conforming_strings`, MySQL's `NO_BACKSLASH_ESCAPES`
 * and `ANSI_QUOTES`), so text the package writes into a statement (an
 * inlined value, a comment) is placed by reading the statement under every
 * lexicon the session might be in, and only where they all agree.
 */
export interface Lexicon {
  /** Quote characters whose bodies treat a backslash as an escape (`'` in PostgreSQL's E'' strings is handled apart). */
  readonly backslashIn: string;
  /** PostgreSQL: `E'...'` strings use backslash escapes whatever the setting. */
  readonly eStrings: boolean;
  /** PostgreSQL nests block comments; MySQL ends one at the first `*\/`. */
  readonly nestedComments: boolean;
  /** PostgreSQL's `$tag$ ... $tag$` bodies. */
  readonly dollarQuotes: boolean;
  /** MySQL: `#` starts a line comment, `` ` `` quotes a name, and `--` is a comment only before a space or control character. */
  readonly mysql: boolean;
  /** What a bind placeholder looks like: `$1` (PostgreSQL) or `?` (MySQL drivers, in order). */
  readonly placeholder: 'dollar' | 'question';
}

/** PostgreSQL with `standard_conforming_strings = on` (the default since 9.1). */
export const POSTGRES: Lexicon = { backslashIn: '', eStrings: true, nestedComments: true, dollarQuotes: true, mysql: false, placeholder: 'dollar' };
/** PostgreSQL with `standard_conforming_strings = off`: a backslash escapes in every '' string. */
export const POSTGRES_LEGACY: Lexicon = { ...POSTGRES, backslashIn: "'" };
/** Both ways a PostgreSQL session may read a statement. */
export const POSTGRES_LEXICONS: readonly Lexicon[] = [POSTGRES, POSTGRES_LEGACY];
/** MySQL/MariaDB's default sql_mode: '' and "" are strings with backslash escapes. */
export const MYSQL: Lexicon = { backslashIn: `'"`, eStrings: false, nestedComments: false, dollarQuotes: false, mysql: true, placeholder: 'question' };
/** With `ANSI_QUOTES`: "" quotes a name, where a backslash is just a character. */
export const MYSQL_ANSI_QUOTES: Lexicon = { ...MYSQL, backslashIn: "'" };
/** With `NO_BACKSLASH_ESCAPES` (with or without ANSI_QUOTES): a backslash is just a character everywhere. */
export const MYSQL_NO_BACKSLASH_ESCAPES: Lexicon = { ...MYSQL, backslashIn: '' };
/** Every way a MySQL/MariaDB session may read a statement. */
export const MYSQL_LEXICONS: readonly Lexicon[] = [MYSQL, MYSQL_ANSI_QUOTES, MYSQL_NO_BACKSLASH_ESCAPES];

/** Where the text after `i` stands: in code, in a line comment, or inside something left open (a literal, a quoted name, a block comment). */
type Opaque = { end: number; open: boolean; line: boolean };

/**
 * The quoted string, quoted identifier, comment or dollar-quoted body that
 * starts at `i` (`end` just past it, `open` when the text ends before it
 * does), or undefined when none starts there: the one lexer every function
 * here shares, so they agree on what is code.
 */
function opaqueAt(sql: string, i: number, lx: Lexicon): Opaque | undefined {
  const c = sql[i];
  if (c === "'" || c === '"' || (c === '`' && lx.mysql)) {
    // Quotes are escaped by doubling them; some strings also by a backslash.
    const escapes =
      lx.backslashIn.includes(c) || (lx.eStrings && c === "'" && i > 0 && /[eE]/.test(sql[i - 1]!) && !/\w/.test(sql[i - 2] ?? ''));
    i++;
    while (i < sql.length) {
      if (escapes && sql[i] === '\\') i += 2;
      else if (sql[i] === c && sql[i + 1] === c) i += 2;
      else if (sql[i] === c) return { end: i + 1, open: false, line: false };
      else i++;
    }
    return { end: sql.length, open: true, line: false };
  }
  if ((c === '-' && sql[i + 1] === '-' && (!lx.mysql || i + 2 >= sql.length || sql.charCodeAt(i + 2) <= 32 || /\s/.test(sql[i + 2]!))) || (c === '#' && lx.mysql)) {
    const end = sql.indexOf('\n', i);
    return end === -1 ? { end: sql.length, open: false, line: true } : { end: end + 1, open: false, line: false };
  }
  if (c === '/' && sql[i + 1] === '*') {
    let depth = 1;
    i += 2;
    while (i < sql.length && depth > 0) {
      if (lx.nestedComments && sql[i] === '/' && sql[i + 1] === '*') (depth++, (i += 2));
      else if (sql[i] === '*' && sql[i + 1] === '/') (depth--, (i += 2));
      else i++;
    }
    return { end: i, open: depth > 0, line: false };
  }
  if (c === '$' && lx.dollarQuotes && !/[\w$]/.test(sql[i - 1] ?? '')) {
    const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end === -1 ? { end: sql.length, open: true, line: false } : { end: end + tag[0].length, open: false, line: false };
    }
  }
  return undefined;
}

/** The index just past the opaque token at `i`, or `i` (PostgreSQL, standard strings). */
function skipOpaque(sql: string, i: number): number {
  return opaqueAt(sql, i, POSTGRES)?.end ?? i;
}

/**
 * How `sql` ends under `lx`: in code, in a trailing line comment, or with
 * something left open (the statement is then broken, and text appended to
 * it could close what it opened).
 */
export function endState(sql: string, lx: Lexicon): 'code' | 'line' | 'open' {
  let i = 0;
  let state: 'code' | 'line' | 'open' = 'code';
  while (i < sql.length) {
    const token = opaqueAt(sql, i, lx);
    if (!token) {
      i++;
      state = 'code';
      continue;
    }
    i = token.end;
    state = token.open ? 'open' : token.line ? 'line' : 'code';
  }
  return state;
}

/**
 * `sql` with `comment` (a complete block comment) appended where it can only
 * be a comment: after a space when the statement ends in code under every
 * lexicon, after a newline when it may end in a line comment. Undefined when
 * under some lexicon the statement ends inside a literal, quoted name or
 * block comment: appended there, the comment could close what the statement
 * left open and turn a broken statement into a different valid one. On
 * MySQL/MariaDB the `;`s and blanks that end the statement go first (the
 * server drops them before reading, so they would read differently before
 * the comment).
 *
 * @example appendComment('SELECT 1 -- why', "/* tenant='acme' *\/", POSTGRES_LEXICONS) // "SELECT 1 -- why\n/* tenant='acme' *\/"
 * @example appendComment("SELECT 'x\\'/* y", '/* m *\/', MYSQL_LEXICONS) // undefined
 */
export function appendComment(sql: string, comment: string, lexicons: readonly Lexicon[]): string | undefined {
  // MySQL/MariaDB drop the `;`s and blanks that end a statement before reading it, so `--;` and `;;`
  // there read as a comment and as nothing, but as two minus signs and an empty statement once
  // something follows: the comment goes where they began.
  if (lexicons.some((lx) => lx.mysql)) sql = sql.replace(/[\s;]+$/, '');
  let line = false;
  // Lexicons differ only in how a backslash reads: without one, the first says it all.
  for (const lx of sql.includes('\\') ? lexicons : lexicons.slice(0, 1)) {
    const state = endState(sql, lx);
    if (state === 'open') return undefined;
    if (state === 'line') line = true;
  }
  return `${sql}${line ? '\n' : ' '}${comment}`;
}

/**
 * `sql` with its bind placeholders (PostgreSQL's `$1`, `$2`, …, or the `?` of
 * the MySQL drivers, in order) replaced by `literal(value)`, outside quoted
 * strings, quoted identifiers, dollar-quoted bodies and comments (and not
 * inside an identifier such as `a$1`). The statement is read under every
 * lexicon given (every mode its session may be in): undefined when they
 * disagree on where the placeholders are, when a placeholder has no
 * parameter or a parameter no placeholder (the server refuses that with bind
 * parameters, and so must the inlined text), or when `literal` cannot render
 * a value. The caller then keeps the bind parameters.
 *
 * @example inlineParameters('SELECT $1::int', [7], (v) => `'${v}'`) // "SELECT '7'::int"
 */
export function inlineParameters(
  sql: string,
  parameters: readonly unknown[],
  literal: (value: unknown) => string | undefined,
  lexicons: readonly Lexicon[] = [POSTGRES],
): string | undefined {
  // Lexicons differ only in how a backslash reads: without one, the first says it all.
  const [first, ...others] = sql.includes('\\') ? lexicons : lexicons.slice(0, 1);
  const out = inlineUnder(sql, parameters, literal, first!);
  for (const lx of others) if (out === undefined || inlineUnder(sql, parameters, literal, lx) !== out) return undefined;
  return out;
}

function inlineUnder(sql: string, parameters: readonly unknown[], literal: (value: unknown) => string | undefined, lx: Lexicon): string | undefined {
  let out = '';
  let last = 0;
  let i = 0;
  let next = 0;
  // Every parameter must be used, as the server requires of bind parameters ("bind message supplies 2 parameters").
  const used = new Array<boolean>(parameters.length).fill(false);
  let unused = parameters.length;
  while (i < sql.length) {
    const token = opaqueAt(sql, i, lx);
    if (token) {
      i = token.end;
      continue;
    }
    let n: number | undefined;
    let length = 1;
    if (lx.placeholder === 'question') {
      if (sql[i] === '?') n = ++next;
    } else if (sql[i] === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      // A placeholder, unless the $ is part of an identifier (a$1).
      const placeholder = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      if (placeholder) (n = Number(placeholder[1])), (length = placeholder[0].length);
    }
    if (n === undefined) {
      i++;
      continue;
    }
    if (n < 1 || n > parameters.length) return undefined;
    if (!used[n - 1]) (used[n - 1] = true), unused--;
    const text = literal(parameters[n - 1]);
    if (text === undefined) return undefined;
    out += sql.slice(last, i) + text;
    i += length;
    last = i;
  }
  if (unused > 0) return undefined;
  return out + sql.slice(last);
}
