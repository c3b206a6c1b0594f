import { ConfigurationError, describeValue } from './errors';

/**
 * Checks one option's value and returns it as the constructor uses it, or
 * throws `ConfigurationError` (``Expected `x` to be ..., got ...``). A check
 * never touches Sequelize: the Apartment constructor runs every one of them
 * before it installs anything.
 */
export type OptionCheck<T> = (value: unknown, name: string) => T;

/**
 * One check per option: the table of known option keys. Typed over the
 * options interface, so an option added to the interface without a check
 * (or a check without an option) does not compile, and an option that is
 * in the table is known to the unknown-key check ("did you mean").
 */
export type OptionTable<O> = { readonly [K in keyof Required<O>]: OptionCheck<unknown> };

/** The checked values, by key (the check's return type). */
export type Checked<O, T extends OptionTable<O>> = { [K in keyof T]: ReturnType<T[K]> };

/**
 * Checks every option against `table`, unknown keys included, before
 * anything is installed; returns the checked values.
 * @throws ConfigurationError for a value that is not an object, an unknown key (naming the closest known one) or a bad value
 */
export function checkOptions<O, T extends OptionTable<O>>(table: T, given: unknown, what = 'Apartment options'): Checked<O, T> {
  const options: object = given ?? {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigurationError(`Expected ${what} to be an object, got ${describeValue(given)}.`);
  }
  const known = Object.keys(table);
  for (const key of Object.keys(options)) {
    if (Object.prototype.hasOwnProperty.call(table, key)) continue;
    const closest = closestKey(key, known);
    throw new ConfigurationError(
      `Unknown option \`${key}\` in the ${what}${closest ? `: did you mean \`${closest}\`?` : '.'} Known options: ${known.map((k) => `\`${k}\``).join(', ')}.`,
    );
  }
  const checked: Record<string, unknown> = {};
  for (const key of known) checked[key] = (table as Record<string, OptionCheck<unknown>>)[key]!((options as Record<string, unknown>)[key], key);
  return checked as Checked<O, T>;
}

/** The known key nearest to a misspelled one (edit distance, case-insensitive), or undefined when none is close. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Close enough to be a typo: a third of the longer name, at least 2 edits.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(Math.max(key.length, best.length) / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

// ---- Checks the option table is made of ----

/** A boolean, `fallback` when left out. */
export function boolean(fallback: boolean): OptionCheck<boolean> {
  return (value, name) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw new ConfigurationError(`Expected \`${name}\` to be a boolean, got ${describeValue(value)}.`);
    return value;
  };
}

/** One of `values`, `fallback` when left out. */
export function oneOf<V extends string, F extends V | undefined>(values: readonly V[], fallback: F): OptionCheck<V | F> {
  return (value, name) => {
    if (value === undefined) return fallback;
    if (!values.includes(value as V)) {
      throw new ConfigurationError(`Expected \`${name}\` to be ${values.map((v) => `'${v}'`).join(' or ')}${fallback === undefined ? ' (or left out)' : ''}, got ${describeValue(value)}.`);
    }
    return value as V;
  };
}

/** A folder path (not resolved here) or `false`, `fallback` when left out. */
export function folder(fallback: string, { nullIsDefault = false } = {}): OptionCheck<string | false> {
  return (value, name) => {
    if (value === undefined || (value === null && nullIsDefault)) return fallback;
    if (value !== false && (typeof value !== 'string' || value === '')) {
      throw new ConfigurationError(`Expected \`${name}\` to be a folder path or \`false\`, got ${describeValue(value)}.`);
    }
    return value;
  };
}

/** An array of strings, `[]` when left out. */
export function names(what: string): OptionCheck<string[]> {
  return (value, name) => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
      throw new ConfigurationError(`Expected \`${name}\` to be an array of ${what}, got ${describeValue(value)}.`);
    }
    return value as string[];
  };
}
