import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { ConfigurationError } from '../errors';
import { ASSOCIATION_METHODS, associationPrototypes } from '../seam/sequelize';
import type { Router } from './router';

/** The Router installed on each Sequelize instance (one per instance). */
export const routers = new WeakMap<Sequelize, Router>();

/** Association prototypes already wrapped: one entry per Sequelize copy loaded in the process. */
const patched = new WeakSet<object>();

/**
 * Association methods (`w.getTags()`, `w.addTag(t)`, and `separate` includes)
 * run in the tenant of the instance they are called on. Sequelize defines
 * the accessors per association, without a hook, so the association classes
 * are wrapped, once per Sequelize copy. The classes are taken from the
 * instance's own constructor (`sequelize.constructor.HasMany`, ...), never
 * from this package's `require('sequelize')`: installed as a symlink
 * (`npm link`, `file:`, workspaces), that would resolve to another copy than
 * the app's, and the app's associations would silently stay unrouted. Each
 * call looks up its own Sequelize's router and does nothing extra for
 * instances without one.
 *
 * `checkAssociations` runs first, at construction, and changes nothing.
 */
export function patchAssociations(sequelize: Sequelize): void {
  for (const { name, proto } of associationPrototypes(sequelize)) patchPrototype(proto, ASSOCIATION_METHODS[name]);
}

/**
 * Refuses an instance whose association classes cannot be reached, or whose
 * models hold associations made by another Sequelize copy; changes nothing.
 * @throws ConfigurationError
 */
export function checkAssociations(sequelize: Sequelize): void {
  const constructor = (sequelize as any).constructor;
  const found = associationPrototypes(sequelize);
  const missing = found.filter(({ proto }) => typeof proto?.get !== 'function').map(({ name }) => name);
  if (missing.length > 0) {
    throw new ConfigurationError(
      `sequelize-apartment routes association methods by wrapping the association classes of the Sequelize copy your instance comes from, read from its constructor (sequelize.constructor.HasMany, ... as Sequelize v6 exposes them), but ${constructor?.name ?? 'its constructor'} has no ${missing.join(', ')}. Pass an instance made with \`new Sequelize(...)\` from the 'sequelize' package (v6.29 or later) or a subclass of it that keeps these static properties.`,
    );
  }
  const prototypes = found.map(({ proto }) => proto);
  for (const model of Object.values(sequelize.models)) {
    for (const association of Object.values((model as any).associations ?? {})) {
      if (!prototypes.some((proto) => proto.isPrototypeOf(association))) {
        throw new ConfigurationError(
          `The association ${model.name}.${(association as any).as} was not made by the association classes of this Sequelize instance's constructor (${constructor.name}), so sequelize-apartment cannot route it. Define models and associations with the same Sequelize copy that made the instance.`,
        );
      }
    }
  }
}

function patchPrototype(proto: any, methods: readonly string[]): void {
  if (patched.has(proto)) return;
  patched.add(proto);
  for (const method of methods) {
    const original = proto[method];
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
      return router.withInstances({ what, model: router.isShared(source) ? this.target : source, instances, options }, () => Promise.resolve(original.apply(this, args)));
    };
  }
}

function isInstance(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as any).constructor?.getTableName === 'function' && 'dataValues' in (value as object);
}
