/** A column as the catalog has it, in words the dialect's own DDL uses. */
export interface ColumnShape {
  readonly type: string;
  readonly nullable: boolean;
  /** The default expression, with the schema/database's own name taken out; null without one. */
  readonly default: string | null;
}

/** A table: its columns, indexes and constraints (primary, unique, foreign keys, checks), each by name. */
export interface TableShape {
  readonly columns: Map<string, ColumnShape>;
  /** Index name -> definition, schema-free (`UNIQUE (a, b)` / PostgreSQL's `CREATE INDEX ... USING btree (a)`). */
  readonly indexes: Map<string, string>;
  /** Constraint name -> definition, schema-free (`FOREIGN KEY (a) REFERENCES parts(id) ON DELETE CASCADE`). */
  readonly constraints: Map<string, string>;
}

/** A schema/database's tables by name. */
export type SchemaShape = Map<string, TableShape>;

/** Reads the catalog of many schemas/databases in a few statements (never one per schema). */
export type CatalogQuery = (sql: string, replacements: unknown[]) => Promise<any[]>;

/** Schemas per batch of drift, and per statement on PostgreSQL, where the list goes into an `IN (...)` (MySQL/MariaDB splits a batch further: mysql-catalog.ts). */
export const CATALOG_CHUNK = 2000;

export function tableOf(shapes: Map<string, SchemaShape>, schema: string, table: string): TableShape {
  let tables = shapes.get(schema);
  if (!tables) shapes.set(schema, (tables = new Map()));
  let shape = tables.get(table);
  if (!shape) tables.set(table, (shape = { columns: new Map(), indexes: new Map(), constraints: new Map() }));
  return shape;
}

/**
 * `text` with the schema's own name taken out where it qualifies a name
 * (`tenant_a.parts`, `"Tenant A".parts`, also inside literals such as
 * `nextval('tenant_a.parts_id_seq')`), so two tenants' definitions compare equal.
 */
export function unqualified(text: string, schema: string): string {
  const escaped = schema.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(?<![\\w"\`$])(?:"${escaped}"|\`${escaped}\`|${escaped})\\.`, 'g'), '');
}

/** Runs `read` over the schemas in chunks of `size`, one after the other. */
export async function inChunks(schemas: readonly string[], read: (chunk: string[]) => Promise<void>, size = CATALOG_CHUNK): Promise<void> {
  for (let start = 0; start < schemas.length; start += size) await read(schemas.slice(start, start + size));
}
