import type { Model, ModelStatic, Sequelize } from 'sequelize';
import type { Router } from './router';

/** The Router installed on each Sequelize instance (one per instance). */
export const routers = new WeakMap<Sequelize, Router>();

const METHODS = ['get', 'count', 'has', 'set', 'add', 'remove', 'create'];
let patched = false;

/**
 * Association methods (`w.getTags()`, `w.addTag(t)`, and `separate` includes)
 * run in the tenant of the instance they are called on. Sequelize defines
 * the accessors per association, without a hook, so the association classes
 * are wrapped once per process; each call looks up its own Sequelize's router
 * and does nothing extra for instances without one.
 */
export function patchAssociations(): void {
  if (patched) return;
  patched = true;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const associations = require('sequelize');
  for (const name of ['HasMany', 'BelongsTo', 'HasOne', 'BelongsToMany']) {
    const proto = associations[name]?.prototype;
    if (!proto) continue;
    for (const method of METHODS) {
      const original = proto[method];
      if (typeof original !== 'function') continue;
      proto[method] = function routedAssociation(this: any, ...args: any[]) {
        const source: ModelStatic<Model> = this.source;
        const router = routers.get(source.sequelize as Sequelize);
        if (!router) return original.apply(this, args);
        const instances: unknown[] = [];
        for (const arg of args.slice(0, 2)) {
          if (Array.isArray(arg)) instances.push(...arg.filter(isInstance));
          else if (isInstance(arg)) instances.push(arg);
        }
        const options = args[method === 'get' || method === 'count' ? 1 : 2];
        const what = `${source.name}#${this.accessors?.[method] ?? method}()`;
        return router.withInstances(what, router.isShared(source) ? this.target : source, instances, options, () =>
          Promise.resolve(original.apply(this, args)),
        );
      };
    }
  }
}

function isInstance(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as any).constructor?.getTableName === 'function' && 'dataValues' in (value as object);
}
