import type { Sequelize } from 'sequelize';

/**
 * Every property (methods, getters, values) of every object the package could
 * patch, walked along each prototype chain, plus the hooks: two snapshots are
 * equal only when nothing was replaced, added or removed.
 */
export function snapshot(sequelize: Sequelize): Map<string, unknown> {
  const s = sequelize as any;
  const roots: Array<[string, unknown]> = [
    ['sequelize', s],
    ['Sequelize', s.constructor],
    ['dialect', s.dialect],
    ['Query', s.dialect.Query],
    ['Query.prototype', s.dialect.Query.prototype],
    ['queryInterface', s.getQueryInterface()],
    ['queryGenerator', s.getQueryInterface().queryGenerator],
    ['connectionManager', s.connectionManager],
    ['pool', s.connectionManager.pool],
    ['Model', s.constructor.Model],
    ['Model.prototype', s.constructor.Model.prototype],
  ];
  for (const name of ['HasMany', 'BelongsTo', 'HasOne', 'BelongsToMany']) roots.push([`${name}.prototype`, s.constructor[name]?.prototype]);
  for (const model of Object.values<any>(s.models)) {
    roots.push([`models.${model.name}`, model], [`models.${model.name}.prototype`, model.prototype]);
    for (const [name, attribute] of Object.entries<any>(model.rawAttributes)) roots.push([`models.${model.name}.${name}.references`, attribute.references]);
  }
  const seen = new Map<string, unknown>();
  for (const [label, root] of roots) {
    let depth = 0;
    for (let o = root as object | null; o && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o), depth++) {
      for (const key of Reflect.ownKeys(o)) {
        const d = Object.getOwnPropertyDescriptor(o, key)!;
        seen.set(`${label}^${depth}.${String(key)}`, 'value' in d ? d.value : [d.get, d.set]);
      }
    }
  }
  const hooks = (owner: any) => JSON.stringify(Object.entries(owner?.options?.hooks ?? {}).map(([name, list]) => [name, (list as unknown[]).length]));
  seen.set('hooks', hooks(s));
  for (const model of Object.values<any>(s.models)) seen.set(`hooks.${model.name}`, hooks(model));
  return seen;
}

export function changed(before: Map<string, unknown>, after: Map<string, unknown>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => {
    const a = before.get(key);
    const b = after.get(key);
    return Array.isArray(a) && Array.isArray(b) ? a[0] !== b[0] || a[1] !== b[1] : a !== b;
  });
}
