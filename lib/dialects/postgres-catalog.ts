import { inChunks, tableOf, unqualified, type CatalogQuery, type SchemaShape } from './catalog';

/**
 * The shape of many PostgreSQL schemas from pg_catalog: three statements per
 * 2,000 schemas (columns with types, defaults and nullability; indexes;
 * constraints), whatever the number of tables.
 */
export async function readPostgresCatalog(query: CatalogQuery, schemas: readonly string[]): Promise<Map<string, SchemaShape>> {
  const shapes = new Map<string, SchemaShape>();
  for (const schema of schemas) shapes.set(schema, new Map());
  await inChunks(schemas, async (chunk) => {
    const list = chunk.map(() => '?').join(', ');
    const columns = await query(
      `SELECT n.nspname AS s, c.relname AS t, a.attname AS col, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def
         FROM pg_catalog.pg_namespace n
         JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
         LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE n.nspname IN (${list})`,
      chunk,
    );
    for (const row of columns) {
      const table = tableOf(shapes, row.s, row.t);
      if (row.col !== null) table.columns.set(row.col, { type: row.type, nullable: !row.notnull, default: row.def === null ? null : unqualified(row.def, row.s) });
    }
    const indexes = await query(
      `SELECT n.nspname AS s, t.relname AS t, i.relname AS name, pg_catalog.pg_get_indexdef(x.indexrelid) AS def
         FROM pg_catalog.pg_index x
         JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
         JOIN pg_catalog.pg_class t ON t.oid = x.indrelid AND t.relkind IN ('r', 'p')
         JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname IN (${list})`,
      chunk,
    );
    for (const row of indexes) tableOf(shapes, row.s, row.t).indexes.set(row.name, unqualified(row.def, row.s));
    const constraints = await query(
      `SELECT n.nspname AS s, t.relname AS t, k.conname AS name, pg_catalog.pg_get_constraintdef(k.oid) AS def
         FROM pg_catalog.pg_constraint k
         JOIN pg_catalog.pg_class t ON t.oid = k.conrelid AND t.relkind IN ('r', 'p')
         JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname IN (${list}) AND k.contype IN ('p', 'u', 'f', 'c', 'x')`,
      chunk,
    );
    for (const row of constraints) tableOf(shapes, row.s, row.t).constraints.set(row.name, unqualified(row.def, row.s));
  });
  return shapes;
}
