import { TenantNameError, ConfigurationError, describeValue } from './errors';

/** A tenant: its key (`'acme'`, `42`) or any object with an `id` (Apartmentex's "tenant struct or id"). */
export type Tenant = string | number | { id: string | number };

/** A validated tenant: its key and its schema (PostgreSQL) or database (MySQL) name. */
export interface TenantRef {
  /** The key, e.g. `'acme'`. */
  readonly key: string;
  /** The full schema/database name, e.g. `'tenant_acme'`. */
  readonly name: string;
}

/** Keys: lower-case ASCII letters, digits, `_` and `-`, starting with a letter or digit. */
export const KEY_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
const PREFIX_PATTERN = /^(?:[a-z_][a-z0-9_-]*)?$/;

/** Turns a `Tenant` into its key string, or throws `TenantNameError`. Sends no SQL. */
export function tenantKey(tenant: unknown): string {
  let value = tenant;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'id' in value) {
    value = (value as { id: unknown }).id;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TenantNameError(
        `Expected a tenant number to be a non-negative integer, got ${describeValue(value)}. Use a string key like 'acme' or a whole number like 42.`,
      );
    }
    return String(value);
  }
  if (typeof value !== 'string') {
    throw new TenantNameError(
      `Expected a tenant to be a string, a number or an object with an \`id\`, got ${describeValue(tenant)}. Pass a key like 'acme', 42 or { id: 'acme' }.`,
    );
  }
  if (!KEY_PATTERN.test(value)) {
    throw new TenantNameError(
      `Invalid tenant key ${describeValue(value)}: a key must match ${KEY_PATTERN} (lower-case letters, digits, '_' and '-', starting with a letter or digit). Normalise it before use, e.g. 'Acme Corp' -> 'acme-corp'.`,
      { tenant: value },
    );
  }
  return value;
}

/** Checks a prefix option once, at construction. */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new ConfigurationError(
      `Expected \`prefix\` to be a string of lower-case letters, digits, '_' and '-' that does not start with a digit or '-', got ${describeValue(prefix)}. The default is 'tenant_'.`,
    );
  }
  return prefix;
}

const SCHEMA_PATTERN = /^[A-Za-z0-9_$][A-Za-z0-9_$-]*$/;

/**
 * Checks the `defaultSchema` option once, at construction (undefined: the
 * dialect's default). Like `prefix`: a name that needs no care in SQL, and
 * that PostgreSQL does not truncate.
 */
export function checkDefaultSchema(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !SCHEMA_PATTERN.test(value) || Buffer.byteLength(value) > 63) {
    throw new ConfigurationError(
      `Expected \`defaultSchema\` to be a schema (PostgreSQL) or database (MySQL) name of at most 63 letters, digits, '_', '$' and '-', not starting with '-', got ${describeValue(value)}. Leave it out for 'public' on PostgreSQL or the connection's database on MySQL.`,
    );
  }
  return value;
}

/**
 * Maps keys to names for one prefix and one server limit, and caches the
 * resulting refs so a hot path does not re-validate the same key.
 */
export class TenantNames {
  readonly #prefix: string;
  readonly #maxBytes: number;
  readonly #reserved: (name: string) => boolean;
  readonly #cache = new Map<string, TenantRef>();
  /** The last key looked up and its ref: an explicit `{ tenant }` is validated at every layer of one call (about seven times per findByPk). */
  #lastKey: string | undefined = undefined;
  #lastRef: TenantRef | undefined = undefined;

  constructor(prefix: string, maxBytes: number, reserved: (name: string) => boolean = () => false) {
    this.#prefix = checkPrefix(prefix);
    this.#maxBytes = maxBytes;
    this.#reserved = reserved;
  }

  get prefix(): string {
    return this.#prefix;
  }

  /** Validates `tenant` and returns its ref; throws `TenantNameError` before any SQL. */
  ref(tenant: unknown): TenantRef {
    if (typeof tenant === 'string') {
      if (tenant === this.#lastKey) return this.#lastRef!;
      const hit = this.#cache.get(tenant);
      if (hit) {
        this.#lastKey = tenant;
        this.#lastRef = hit;
        return hit;
      }
    }
    const key = tenantKey(tenant);
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const name = this.#prefix + key;
    const bytes = Buffer.byteLength(name);
    if (bytes > this.#maxBytes) {
      throw new TenantNameError(
        `Tenant key '${key.length > 40 ? `${key.slice(0, 37)}...` : key}' is too long: '${this.#prefix}' + key is ${bytes} bytes, the server allows ${this.#maxBytes}. Use a key of at most ${this.#maxBytes - Buffer.byteLength(this.#prefix)} characters.`,
        { tenant: key },
      );
    }
    if (this.#reserved(name)) {
      throw new TenantNameError(
        `Tenant key '${key}' would use the reserved name '${name}'. Choose another key, or set a \`prefix\` (default 'tenant_').`,
        { tenant: key },
      );
    }
    const ref: TenantRef = Object.freeze({ key, name });
    // Bounded: a process touching millions of keys should not grow without limit
    // (but a fleet of tens of thousands of tenants should not thrash it either).
    if (this.#cache.size >= 100_000) {
      this.#cache.clear();
      this.#lastKey = undefined;
    }
    this.#cache.set(key, ref);
    return ref;
  }

  /** The key for a schema/database name, or undefined if the name does not carry the prefix. */
  keyOf(name: string): string | undefined {
    if (!name.startsWith(this.#prefix)) return undefined;
    const key = name.slice(this.#prefix.length);
    return KEY_PATTERN.test(key) ? key : undefined;
  }
}
