import type { TenantRef } from '../tenant';
import { queryInterfaceOf, replaceMethod } from '../seam/sequelize';
import { isRoutedTable } from './tables';
import type { Router } from './router';

/**
 * QueryInterface methods that take a table, with the position of the table
 * and of the options argument (whose `schema`, when given, wins). `dml`: the
 * methods models use for DML; called with a qualified table they are marked
 * as qualified, so raw-SQL routing can skip them (queries.ts).
 */
export const TABLE_METHODS: Record<string, { table: number; options?: number; dml?: true }> = {
  createTable: { table: 0, options: 2 },
  dropTable: { table: 0, options: 1 },
  renameTable: { table: 0, options: 2 },
  describeTable: { table: 0, options: 1 },
  addColumn: { table: 0, options: 3 },
  removeColumn: { table: 0, options: 2 },
  changeColumn: { table: 0, options: 3 },
  renameColumn: { table: 0, options: 3 },
  addIndex: { table: 0 },
  removeIndex: { table: 0, options: 2 },
  showIndex: { table: 0, options: 1 },
  addConstraint: { table: 0 },
  removeConstraint: { table: 0, options: 2 },
  showConstraint: { table: 0, options: 2 },
  getForeignKeyReferencesForTable: { table: 0, options: 1 },
  bulkInsert: { table: 0, options: 2, dml: true },
  bulkUpdate: { table: 0, options: 3, dml: true },
  bulkDelete: { table: 0, options: 2, dml: true },
  upsert: { table: 0, options: 4, dml: true },
  rawSelect: { table: 0, options: 1, dml: true },
  select: { table: 1, options: 2, dml: true },
  insert: { table: 1, options: 3, dml: true },
  update: { table: 1, options: 4, dml: true },
  delete: { table: 1, options: 3, dml: true },
  increment: { table: 1, options: 5, dml: true },
  decrement: { table: 1, options: 5, dml: true },
  pgListEnums: { table: 0, options: 1 },
};

/** Suffix of Sequelize's default constraint names (abstract `getConstraintSnippet`). */
const CONSTRAINT_SUFFIX: Record<string, string> = { UNIQUE: 'uk', CHECK: 'ck', 'PRIMARY KEY': 'pk' };

/**
 * Tenant scoping of the QueryInterface (`sequelize.getQueryInterface()` and
 * the `queryInterface` of tenant migrations).
 *
 * Sequelize v6 renders an unqualified table name with `public` spelled out in
 * several places on PostgreSQL (describeTable, addColumn, removeColumn,
 * renameColumn, tableExists, showAllTables) and looks tables up
 * in the connection's configured database on MySQL (removeColumn,
 * removeConstraint, tableExists, foreign keys). Inside a tenant context a
 * plain table name is therefore replaced by `{ tableName, schema: tenant }`
 * before Sequelize sees it, so every statement and every catalog lookup names
 * the tenant. Outside a tenant context nothing changes. A table that already
 * names its schema, or a call with a `schema` option, is left as given.
 *
 * The dialect's schema-level types (PostgreSQL's ENUMs) are scoped as the
 * adapter's `typeScoping` says.
 *
 * The same wrappers mark model DML (a qualified table) for `queries.ts`.
 */
export function installQueryInterfaceScoping(router: Router): void {
  const { context } = router;
  // Marking is only worth an options copy where the adapter skips qualified statements.
  // MySQL routes model DML whole (its route ignores the mark); isolation: 'role' routes it for the role alone.
  const mark = !router.adapter.routesQualifiedQueries || router.adapter.isolation === 'role';
  const queryInterface = queryInterfaceOf(router.sequelize);
  const types = router.adapter.typeScoping;

  const define = (name: string, value: Function): void => replaceMethod(queryInterface, name, value);

  for (const [name, spec] of Object.entries(TABLE_METHODS)) {
    const original = queryInterface[name];
    if (typeof original !== 'function') continue;
    const call = (self: unknown, args: any[], tenant: TenantRef | undefined): unknown => {
      const options = spec.options === undefined ? undefined : args[spec.options];
      const schemaGiven = typeof options === 'string' || (options && typeof options === 'object' && options.schema);
      // A model's routed table (tables.ts) always names a schema: neither qualified again nor asked for it.
      const routed = isRoutedTable(args[spec.table]);
      if (tenant && !schemaGiven) {
        const table = args[spec.table];
        if (routed) {
          // As qualify() would: left as it is.
        } else if ((table === null || table === undefined) && types?.listMethods.includes(name)) {
          args[spec.table] = { tableName: undefined, schema: tenant.name, delimiter: '.' };
        } else {
          args[spec.table] = qualify(table, tenant);
        }
        if (name === 'addConstraint') args[1] = constraintOptions(table, args[1], tenant);
      }
      if (!mark || !spec.dml) return original.apply(self, args);
      const table = args[spec.table];
      if (!routed && (table === null || typeof table !== 'object' || !table.schema)) return original.apply(self, args);
      // Qualified model DML: the statement this call sends (synchronously, from Sequelize's own copy of
      // the options) is marked by the query wrapper (queries.ts), with no options copy here.
      const previous = router.qualifiedPending;
      router.qualifiedPending = true;
      try {
        return original.apply(self, args);
      } finally {
        router.qualifiedPending = previous;
      }
    };
    define(name, function scoped(this: any, ...args: any[]) {
      let explicit: TenantRef | undefined;
      try {
        explicit = spec.options === undefined ? undefined : router.explicit(args[spec.options]);
      } catch (error) {
        return Promise.reject(error);
      }
      const current = context.tenant();
      // An explicit `{ tenant }` is in context while the statement is generated (synchronously), not beyond.
      if (explicit && explicit !== current) return context.during(explicit, () => call(this, args, explicit));
      // The statement's generation and the query wrapper ask for the tenant again: held, they ask no AsyncLocalStorage.
      return context.hold(current, call, this, args, current);
    });
  }

  // Sequelize's MySQL tableExistsQuery mangles a qualified table and always
  // reads the configured database, and its PostgreSQL one asks
  // information_schema, whose plan grows with the number of tenants: ask the
  // adapter's direct catalog lookup. (Model.sync() of a routed model passes a qualified table.)
  const tableExists = queryInterface.tableExists;
  define('tableExists', function scopedTableExists(this: any, table: any, options?: any) {
    const tenant = context.tenant();
    if (tenant && typeof table === 'string' && !options?.schema) table = qualify(table, tenant);
    if (table === null || typeof table !== 'object' || !table.schema) return tableExists.call(this, table, options);
    return router.adapter.tableExists(table.schema, table.tableName, options ?? {});
  });

  // PostgreSQL lists the tables of `public` (or the `schema` option), MySQL of
  // the configured database.
  const showAllTables = queryInterface.showAllTables;
  define('showAllTables', function scopedShowAllTables(this: any, options?: any) {
    const tenant = context.tenant();
    if (!tenant) return showAllTables.call(this, options);
    return router.adapter.tables(tenant.name, options ?? {});
  });

  // Dropping a schema-level type (PostgreSQL's ENUM) by its bare name would fall through the search_path
  // to the default schema: the adapter names it in the tenant.
  const dropType = types && queryInterface[types.dropMethod];
  if (types && typeof dropType === 'function') {
    define(types.dropMethod, function scopedDropType(this: any, typeName: string, options?: any) {
      const tenant = context.tenant();
      if (!tenant || typeof typeName !== 'string' || typeName.includes('.')) return dropType.call(this, typeName, options);
      return this.sequelize.query(types.dropTypeSql(tenant, typeName), { ...options, raw: true });
    });
  }
}

/**
 * `{ tableName, schema }` for a plain table name in the tenant. Its
 * `toString()` is the bare name, because Sequelize builds default index and
 * foreign-key names by interpolating the table (`${tableName}_${fields}`).
 */
function qualify(table: unknown, tenant: TenantRef): unknown {
  if (typeof table === 'string') {
    if (table === '') return table;
    return { tableName: table, schema: tenant.name, delimiter: '.', toString: () => table };
  }
  if (table !== null && typeof table === 'object' && !(table as any).schema && typeof (table as any).tableName === 'string') {
    const tableName = (table as any).tableName as string;
    return { ...(table as object), tableName, schema: tenant.name, delimiter: '.', toString: () => tableName };
  }
  return table;
}

/**
 * `addConstraint` on a qualified table: keep Sequelize's default constraint
 * name (it would otherwise include the schema) and put a plain referenced
 * table in the tenant too.
 */
function constraintOptions(table: unknown, options: any, tenant: TenantRef): any {
  if (!options || typeof options !== 'object') return options;
  const bare = typeof table === 'string' ? table : (table as any)?.tableName;
  const next = { ...options };
  const type = typeof options.type === 'string' ? options.type.toUpperCase() : '';
  if (!next.name && typeof bare === 'string' && Array.isArray(options.fields)) {
    const fields = options.fields.map((field: any) => (typeof field === 'string' ? field : field?.name ?? field?.attribute));
    if (fields.every((field: unknown) => typeof field === 'string')) {
      const references = options.references?.table;
      const referenced = typeof references === 'string' ? references : references?.tableName;
      if (CONSTRAINT_SUFFIX[type]) next.name = `${bare}_${fields.join('_')}_${CONSTRAINT_SUFFIX[type]}`;
      else if (type === 'FOREIGN KEY' && typeof referenced === 'string') next.name = `${bare}_${fields.join('_')}_${referenced}_fk`;
    }
  }
  if (type === 'FOREIGN KEY' && options.references && typeof options.references === 'object') {
    next.references = { ...options.references, table: qualify(options.references.table, tenant) };
  }
  return next;
}
