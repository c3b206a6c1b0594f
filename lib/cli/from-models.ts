import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { ConfigurationError } from '../errors';

/** Where the models come from: the app's Sequelize, and which of its models are shared. */
export interface ModelSource {
  readonly sequelize: Sequelize;
  /** Models that live in the default schema/database: not part of a tenant migration. */
  readonly sharedModels: ReadonlySet<string>;
  /** Where shared tables live (the Apartment's default schema/database), for references to them. */
  readonly sharedSchema?: string;
}

/**
 * The source of one tenant migration that creates the tables of the app's
 * tenant models as `sync()` would: columns with their types, defaults,
 * allowNull, primary keys, unique keys, foreign keys (onDelete/onUpdate),
 * then the models' indexes; tables in dependency order, dropped in reverse by
 * `down`. Through tables of belongsToMany are models too, so they are in it.
 * @throws ConfigurationError for a foreign-key cycle or a value it cannot write as code
 */
export function migrationFromModels(source: ModelSource): string {
  return printMigration(planFromModels(source));
}

/** A value written into the migration: plain data, or JavaScript source written as it is. */
type Expr = null | string | number | boolean | Source | readonly Expr[] | { readonly [key: string]: Expr };

/** JavaScript source (`Sequelize.STRING(64)`, `SHARED_SCHEMA`), written as it is. */
class Source {
  constructor(readonly text: string) {}
}

/**
 * One `await queryInterface.<method>(...args)` of the migration. createTable's
 * columns are written one per line, its options one key per line down to the
 * unique keys.
 */
interface Step {
  readonly method: 'createTable' | 'addIndex' | 'dropTable';
  readonly args: readonly Expr[];
}

/** What the generated migration says, before it is written as source. */
interface MigrationPlan {
  readonly sharedTables: readonly string[];
  readonly sharedSchema: string | undefined;
  readonly up: readonly Step[];
  readonly down: readonly Step[];
}

function planFromModels(source: ModelSource): MigrationPlan {
  const { sequelize, sharedModels } = source;
  const all = Object.values(sequelize.models) as Array<ModelStatic<Model>>;
  const tenant = all.filter((m) => !sharedModels.has(m.name));
  if (tenant.length === 0) {
    throw new ConfigurationError(`No tenant models to write a migration for (${all.length ? `every model is shared: ${all.map((m) => m.name).join(', ')}` : 'no model is defined on the Sequelize instance'}). Define the models before exporting the instance.`);
  }
  const values = new Values(typeNames((sequelize.constructor as any).DataTypes ?? {}));
  const byTable = new Map(all.map((m) => [tableOf(m), m]));
  const ordered = dependencyOrder(tenant, byTable);
  const up: Step[] = [];
  for (const model of ordered) {
    const m = model as any;
    const table = tableOf(model);
    const columns: Record<string, Expr> = {};
    for (const [name, attribute] of Object.entries<any>(m.tableAttributes ?? m.rawAttributes)) {
      const column: Record<string, Expr> = { type: values.of(attribute.type) };
      for (const key of ['allowNull', 'primaryKey', 'autoIncrement', 'autoIncrementIdentity', 'comment'] as const) {
        if (attribute[key] !== undefined) column[key] = values.of(attribute[key]);
      }
      if (attribute.unique === true) column.unique = true;
      if (attribute.defaultValue !== undefined) column.defaultValue = values.of(attribute.defaultValue);
      if (attribute.references) {
        const target = referencedTable(attribute.references.model);
        const targetModel = byTable.get(target);
        const references: Record<string, Expr> = {
          model: targetModel && sharedModels.has(targetModel.name) ? { tableName: target, schema: new Source('SHARED_SCHEMA') } : target,
        };
        if (attribute.references.key) references.key = String(attribute.references.key);
        column.references = references;
        if (attribute.onDelete) column.onDelete = String(attribute.onDelete);
        if (attribute.onUpdate) column.onUpdate = String(attribute.onUpdate);
      }
      columns[attribute.field ?? name] = column;
    }
    // Composite keys (`unique: 'name'`); a `unique: true` column is written inline, as sync() does.
    const uniqueKeys = Object.entries<any>(m.uniqueKeys ?? {}).filter(([, k]) => k.fields?.length && k.customIndex !== false);
    const args: Expr[] = [table, columns];
    if (uniqueKeys.length) {
      const keys: Record<string, Expr> = {};
      for (const [name, k] of uniqueKeys) keys[name] = k.name ? { fields: values.of(k.fields), name: String(k.name) } : { fields: values.of(k.fields) };
      args.push({ uniqueKeys: keys });
    }
    up.push({ method: 'createTable', args });
    for (const index of (m._indexes ?? []) as Array<Record<string, unknown>>) {
      const { parser: _parser, ...rest } = index;
      up.push({ method: 'addIndex', args: [table, values.of(rest)] });
    }
  }
  return {
    sharedTables: all.filter((m) => sharedModels.has(m.name)).map(tableOf),
    sharedSchema: source.sharedSchema,
    up,
    down: [...ordered].reverse().map((model) => ({ method: 'dropTable', args: [tableOf(model)] })),
  };
}

function printMigration(plan: MigrationPlan): string {
  const lines = [
    "'use strict';",
    '',
    "// Generated by `apartment migration:generate --from-models` from the app's models: the tables",
    '// sync() would create in a tenant. Review it, then commit it as the first tenant migration.',
  ];
  if (plan.sharedTables.length) {
    lines.push(`// Shared tables (${plan.sharedTables.join(', ')}) live in ${JSON.stringify(plan.sharedSchema)} and are not created here.`);
    lines.push(`const SHARED_SCHEMA = ${JSON.stringify(plan.sharedSchema)};`);
  }
  const steps = (list: readonly Step[]): string[] =>
    list.map((step) => `    await queryInterface.${step.method}(${step.args.map((arg, i) => print(arg, step.method === 'createTable' ? i : 0, 2)).join(', ')});`);
  lines.push('', 'module.exports = {', '  async up(queryInterface, Sequelize) {', ...steps(plan.up), '  },', '', '  async down(queryInterface) {', ...steps(plan.down), '  },', '};', '');
  return lines.join('\n');
}

/**
 * An expression as JavaScript source. Objects nested less than `expand` deep
 * are written one entry per line (a table's columns, its options); deeper
 * ones on one line.
 */
function print(expr: Expr, expand: number, depth: number): string {
  if (expr instanceof Source) return expr.text;
  if (expr === null || typeof expr !== 'object') return JSON.stringify(expr);
  if (Array.isArray(expr)) return `[${expr.map((x: Expr) => print(x, 0, depth)).join(', ')}]`;
  const entries = Object.entries(expr as { [key: string]: Expr });
  const key = (k: string): string => (expand > 0 || !/^[A-Za-z_$][\w$]*$/.test(k) ? JSON.stringify(k) : k);
  if (expand > 0) {
    const pad = '  '.repeat(depth + 1);
    return `{\n${entries.map(([k, x]) => `${pad}${key(k)}: ${print(x, expand - 1, depth + 1)},`).join('\n')}\n${'  '.repeat(depth)}}`;
  }
  return `{ ${entries.map(([k, x]) => `${key(k)}: ${print(x, 0, depth)}`).join(', ')} }`;
}

function tableOf(model: ModelStatic<Model>): string {
  return (model as any).tableName as string;
}

function referencedTable(model: unknown): string {
  return typeof model === 'string' ? model : String((model as { tableName?: string })?.tableName ?? model);
}

/** Tenant models, each after the tenant tables it references (definition order otherwise). */
function dependencyOrder(models: Array<ModelStatic<Model>>, byTable: Map<string, ModelStatic<Model>>): Array<ModelStatic<Model>> {
  const inSet = new Set(models);
  const deps = new Map(models.map((m) => [m, new Set<ModelStatic<Model>>()]));
  for (const m of models) {
    for (const attribute of Object.values<any>((m as any).rawAttributes)) {
      const target = attribute.references && byTable.get(referencedTable(attribute.references.model));
      if (target && target !== m && inSet.has(target)) deps.get(m)!.add(target);
    }
  }
  const ordered: Array<ModelStatic<Model>> = [];
  const done = new Set<ModelStatic<Model>>();
  while (ordered.length < models.length) {
    const next = models.find((m) => !done.has(m) && [...deps.get(m)!].every((d) => done.has(d)));
    if (!next) {
      const left = models.filter((m) => !done.has(m)).map(tableOf);
      throw new ConfigurationError(`The foreign keys of ${left.join(', ')} form a cycle, so no table can be created first. Write that part of the migration by hand (create the tables, then queryInterface.addConstraint).`);
    }
    ordered.push(next);
    done.add(next);
  }
  return ordered;
}

/** DataType key -> the name it is exported under (`'DOUBLE PRECISION'` -> `DOUBLE`). */
function typeNames(dataTypes: Record<string, any>): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, type] of Object.entries(dataTypes)) {
    if (/^[A-Z][A-Z0-9_]*$/.test(name) && typeof type?.key === 'string' && !names.has(type.key)) names.set(type.key, name);
  }
  return names;
}

/** Turns model values (data types, literals, functions, plain data) into expressions for the migration. */
class Values {
  constructor(readonly types: Map<string, string>) {}

  of(v: unknown): Expr {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (v instanceof Date) return new Source(`new Date(${JSON.stringify(v.toISOString())})`);
    if (Array.isArray(v)) return v.map((x) => this.of(x));
    const o = v as any;
    if (o && typeof o === 'object' && typeof o.key === 'string' && typeof o.toSql === 'function') return this.type(o);
    if (o && o.constructor?.name === 'Literal') return new Source(`Sequelize.literal(${JSON.stringify(String(o.val))})`);
    if (o && o.constructor?.name === 'Fn') return new Source(`Sequelize.fn(${[o.fn, ...(o.args ?? [])].map((a: unknown) => print(this.of(a), 0, 0)).join(', ')})`);
    if (o && typeof o === 'object' && Object.getPrototypeOf(o) === Object.prototype && Object.getOwnPropertySymbols(o).length === 0) {
      return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined).map(([k, x]) => [k, this.of(x)]));
    }
    throw new ConfigurationError(`Cannot write ${String(o?.constructor?.name ?? typeof v)} value ${String(v)} into a migration. Write that column or index by hand in the generated migration.`);
  }

  type(type: { key: string; options?: Record<string, unknown> }): Source {
    const name = this.types.get(type.key);
    if (!name) throw new ConfigurationError(`The data type ${type.key} is not one of Sequelize's DataTypes. Write that column by hand in the generated migration.`);
    const options = Object.fromEntries(Object.entries(type.options ?? {}).filter(([, x]) => x !== undefined));
    return new Source(Object.keys(options).length ? `Sequelize.${name}(${print(this.of(options), 0, 0)})` : `Sequelize.${name}`);
  }
}
