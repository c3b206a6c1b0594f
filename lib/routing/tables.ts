import type { Model, ModelStatic } from 'sequelize';
import { queryGeneratorOf, replaceMethod } from '../seam/sequelize';
import type { Router } from './router';

/**
 * Sequelize asks `Model.getTableName()` for every table it renders: the main
 * table, each include, each through-table, foreign-key references and
 * `tableNames` bookkeeping. Tenant models answer with one table object whose
 * `schema` is read when the SQL is generated, so everything reached in one
 * query lands in the tenant in context. (`Model.schema()` fixes the schema of
 * one class only and leaves includes and through-tables behind, so it is not
 * used; a class made by `Model.schema(x)` keeps its own fixed schema.)
 *
 * Shared models answer with the default schema/database spelled out, so they
 * never depend on a connection's search_path or selected database.
 */
export function installTable(router: Router, model: ModelStatic<Model>): void {
  const queryGenerator = queryGeneratorOf(router.sequelize);
  const original = (model as any).getTableName;
  const tableName: string = (model as any).tableName;
  const shared = router.isShared(model);
  const table = {
    // Its schema is never empty (a tenant, strict mode's marker, or a non-empty default): query-interface.ts need not ask.
    [ROUTED_TABLE]: Boolean(router.adapter.defaultSchema),
    // Its quoted name and the schema it was quoted for (installTableQuoting): kept here so the object's shape never changes.
    [QUOTED_SCHEMA]: undefined as string | undefined,
    [QUOTED]: '',
    tableName,
    table: tableName,
    name: model.name,
    delimiter: '.',
    get schema(): string {
      return shared ? router.adapter.defaultSchema : router.tenantSchema();
    },
    // Sequelize stringifies the table for bookkeeping keys several times per query.
    toString(): string {
      return queryGenerator.quoteTable(this);
    },
  };
  replaceMethod(model, 'getTableName', function getTableName(this: any) {
    // A class pinned with Model.schema(x), or defined with `schema`, keeps it.
    if (this._schema) return original.call(this);
    return table;
  });
}

const ROUTED_TABLE = Symbol('apartment.routedTable');
const QUOTED = Symbol('apartment.quotedTable');
const QUOTED_SCHEMA = Symbol('apartment.quotedSchema');

/**
 * Sequelize quotes a model's table for every statement it renders (and for
 * each `toString()`); MySQL's quoting builds two regular expressions per
 * identifier. A routed table's quoted name only changes with its schema, so
 * it is quoted once per schema (the last one, per model) and kept on the
 * table. Runs after the dialect adapter adjusted `quoteTable`, whose result
 * it keeps.
 */
export function installTableQuoting(router: Router): void {
  const queryGenerator = queryGeneratorOf(router.sequelize);
  const quoteTable = queryGenerator.quoteTable;
  replaceMethod(queryGenerator, 'quoteTable', function routedQuoteTable(this: any, param: any, alias?: unknown) {
    if (alias !== undefined || !isRoutedTable(param)) return quoteTable.call(this, param, alias);
    const schema: string = param.schema;
    if (param[QUOTED_SCHEMA] !== schema) {
      param[QUOTED] = quoteTable.call(this, param);
      param[QUOTED_SCHEMA] = schema;
    }
    return param[QUOTED];
  });
}

/** Whether `table` is a model's routed table (`installTable`), whose `schema` is never empty. */
export function isRoutedTable(table: unknown): boolean {
  return table !== null && typeof table === 'object' && (table as any)[ROUTED_TABLE] === true;
}

/**
 * Associations defined before the Apartment was created captured plain
 * table names as foreign-key references; point them at the routed tables so
 * a tenant table's reference to a shared table names the default schema.
 */
export function relinkReferences(models: Array<ModelStatic<Model>>): void {
  const byTable = new Map<string, ModelStatic<Model>>();
  for (const model of models) byTable.set((model as any).tableName, model);
  for (const model of models) {
    const m = model as any;
    for (const attributes of [m.rawAttributes, m.tableAttributes, m.fieldRawAttributesMap]) {
      if (!attributes) continue;
      for (const attribute of Object.values<any>(attributes)) {
        const references = attribute?.references;
        if (!references) continue;
        const target = typeof references.model === 'string' ? references.model : references.model?.schema ? undefined : references.model?.tableName;
        const targetModel = target === undefined ? undefined : byTable.get(target);
        if (targetModel) references.model = (targetModel as any).getTableName();
      }
    }
  }
}
