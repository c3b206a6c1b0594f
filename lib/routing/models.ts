import type { Model, ModelStatic } from 'sequelize';
import type { TenantRef } from '../tenant';
import { replaceMethod as define } from '../seam/sequelize';
import type { Router } from './router';

/** Static model methods that send SQL, and the position of their options argument. */
export const STATICS: Record<string, number> = {
  findAll: 0,
  findOne: 0,
  findByPk: 1,
  findAndCountAll: 0,
  findOrCreate: 0,
  findOrBuild: 0,
  findCreateFind: 0,
  count: 0,
  aggregate: 2,
  max: 1,
  min: 1,
  sum: 1,
  create: 1,
  bulkCreate: 1,
  upsert: 1,
  update: 1,
  destroy: 0,
  restore: 0,
  increment: 1,
  decrement: 1,
  truncate: 0,
  sync: 0,
  drop: 0,
};

/**
 * Static methods whose every statement is generated from the options they
 * were given (so `{ tenant }` travels in them, see `TenantContext.during`),
 * unless the predicate says these options take a path that builds options of
 * its own (`individualHooks` finds rows with new options; a nested `include`
 * on create is saved with new options).
 */
const CARRIED: Record<string, (options: any) => boolean> = {
  findAll: () => true,
  findOne: () => true,
  findByPk: () => true,
  findAndCountAll: () => true,
  count: () => true,
  aggregate: () => true,
  max: () => true,
  min: () => true,
  sum: () => true,
  create: (o) => !o?.include,
  bulkCreate: (o) => !o?.include && !o?.individualHooks,
  update: (o) => !o?.individualHooks,
  destroy: (o) => !o?.individualHooks && !o?.truncate,
  increment: () => true,
  decrement: () => true,
  upsert: () => true,
};

/** Instance methods that send SQL, and the position of their options argument. */
export const INSTANCE: Record<string, number> = {
  save: 0,
  update: 1,
  destroy: 0,
  restore: 0,
  reload: 0,
  increment: 1,
  decrement: 1,
};

/**
 * Gives a model's methods the explicit `{ tenant }` option, strict mode's
 * early refusal (before any SQL), and instances that remember their tenant.
 */
export function installModelMethods(router: Router, model: ModelStatic<Model>): void {
  const shared = router.isShared(model);
  const statics = model as any;

  for (const [name, index] of Object.entries(STATICS)) {
    const original = statics[name];
    if (typeof original !== 'function') continue;
    const carried = CARRIED[name];
    define(statics, name, function routedStatic(this: any, ...args: unknown[]) {
      const current = router.context.tenant();
      let explicit;
      try {
        explicit = router.explicit(args[index]);
        if (!explicit && !current && !shared && router.strict && !this._schema) {
          throw router.noTenant(`${this.name}.${name}()`, name);
        }
      } catch (error) {
        return Promise.reject(error);
      }
      // Held for the synchronous part: Sequelize's findByPk -> findOne -> findAll (each wrapped) and the table names it renders ask again.
      if (!explicit || explicit === current) return router.context.hold(current, applyTo, original, this, args);
      // Outside any context the tenant travels in the options (no AsyncLocalStorage: on Node 20 its
      // first run turns on async hooks for every promise of the process).
      if (!current && carried?.(args[index]) && router.carriesTenant(this)) return router.context.during(explicit, () => original.apply(this, args));
      return router.context.run(explicit, () => original.apply(this, args));
    });
  }

  if (shared) return;

  // Instances built inside a tenant (query results, includes, create, build) belong to it.
  const build = statics.build;
  define(statics, 'build', function routedBuild(this: any, values: unknown, options?: unknown) {
    const instance = build.call(this, values, options);
    if (!Array.isArray(instance)) {
      const tenant = router.explicit(options) ?? router.context.tenant();
      if (tenant) router.bind(instance, tenant);
    }
    return instance;
  });

  const proto = model.prototype as any;
  for (const [name, index] of Object.entries(INSTANCE)) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    define(proto, name, function routedInstance(this: any, ...args: unknown[]) {
      const run = (carry?: TenantRef) => {
        // The instance's tenant, for the statements its options reach (a copy: the caller's object stays as it was).
        if (carry) args[index] = withTenant(args[index], carry);
        return original.apply(this, args);
      };
      // An instance created with nested includes saves them with options of Sequelize's own.
      const carriable = !(this._options?.include?.length > 0);
      return router.withInstances({ what: `${model.name}#${name}()`, model, instances: [this], options: args[index], bindAfter: this, carriable }, run);
    });
  }
}

function applyTo(fn: (...args: unknown[]) => unknown, self: unknown, args: unknown[]): unknown {
  return fn.apply(self, args);
}

function withTenant(options: unknown, tenant: TenantRef): object {
  if (Array.isArray(options)) return { fields: options, tenant: tenant.key };
  return { ...(options as object | undefined), tenant: tenant.key };
}

