import { randomBytes } from 'node:crypto';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import type { TenantContext } from '../context';
import type { DialectAdapter } from '../dialects/contract';
import { CrossTenantError, NoTenantError } from '../errors';
import type { TenantAffinity } from '../pool/affinity';
import type { TenantNames, TenantRef } from '../tenant';

/** Where an instance keeps the tenant it was loaded or created in. */
export const BOUND_TENANT = Symbol('apartment.tenant');

export interface RouterOptions {
  sequelize: Sequelize;
  context: TenantContext;
  names: TenantNames;
  adapter: DialectAdapter;
  strict: boolean;
  sharedModels: ReadonlySet<string>;
  /** Tag every statement sent in a tenant context with `/* tenant='key' *\/` (sql-comment.ts). */
  sqlComment?: boolean;
  /** Tenant-affine connections, when on. */
  affinity?: TenantAffinity;
}

/**
 * The routing state of one Apartment: which models are tenant models, which
 * tenant an operation belongs to, and the errors when there is none. The
 * files beside this one install it into Sequelize (tables, model methods,
 * associations, queries).
 */
export class Router {
  readonly sequelize: Sequelize;
  readonly context: TenantContext;
  readonly names: TenantNames;
  readonly adapter: DialectAdapter;
  readonly strict: boolean;
  readonly sharedModels: ReadonlySet<string>;
  readonly sqlComment: boolean;
  readonly affinity: TenantAffinity | undefined;
  /**
   * Strict mode with no tenant renders this as the schema of tenant tables.
   * The query wrapper refuses any SQL that contains it, before it is sent,
   * which covers includes and through-tables reached from shared models.
   */
  readonly noTenantMarker = `apartment_no_tenant_${randomBytes(6).toString('hex')}`;

  constructor(options: RouterOptions) {
    this.sequelize = options.sequelize;
    this.context = options.context;
    this.names = options.names;
    this.adapter = options.adapter;
    this.strict = options.strict;
    this.sharedModels = options.sharedModels;
    this.sqlComment = options.sqlComment ?? false;
    this.affinity = options.affinity;
  }

  isShared(model: { name: string }): boolean {
    return this.sharedModels.has(model.name);
  }

  /** The schema a tenant model's table is in right now. */
  tenantSchema(): string {
    const tenant = this.context.tenant();
    if (tenant) return tenant.name;
    return this.strict ? this.noTenantMarker : this.adapter.defaultSchema;
  }

  /** Validates an explicit `{ tenant }` option, if one was given. */
  explicit(options: unknown): TenantRef | undefined {
    if (options === null || typeof options !== 'object') return undefined;
    const tenant = (options as { tenant?: unknown }).tenant;
    return tenant === undefined || tenant === null ? undefined : this.names.ref(tenant);
  }

  noTenant(what: string): NoTenantError {
    return new NoTenantError(
      `${what} needs a tenant and none is set (strict mode). Run it inside apartment.run(tenant, fn), pass { tenant } in its options, or list the model in \`sharedModels\` if it lives in the default schema.`,
    );
  }

  crossTenant(what: string, owner: TenantRef, other: TenantRef): CrossTenantError {
    return new CrossTenantError(
      `${what}: this instance belongs to tenant '${owner.key}' but is used in tenant '${other.key}'. Load it again inside apartment.run('${other.key}', ...) instead of carrying it across tenants.`,
      { tenant: other.key, instanceTenant: owner.key },
    );
  }

  tenantOf(instance: Model | undefined | null): TenantRef | undefined {
    return instance ? (instance as any)[BOUND_TENANT] : undefined;
  }

  bind(instance: Model, tenant: TenantRef): void {
    (instance as any)[BOUND_TENANT] = tenant;
  }

  /**
   * Runs an operation on instances: in the tenant they are bound to, or the
   * explicit/context tenant when they are new; refuses to mix tenants.
   */
  withInstances<T>(what: string, model: ModelStatic<Model>, instances: unknown[], options: unknown, fn: () => Promise<T>, bindAfter?: Model): Promise<T> {
    let target: TenantRef | undefined;
    const current = this.context.tenant();
    try {
      const explicit = this.explicit(options);
      let bound: TenantRef | undefined;
      for (const instance of instances) {
        const owner = this.tenantOf(instance as Model);
        if (!owner) continue;
        if (bound && bound.key !== owner.key) throw this.crossTenant(what, bound, owner);
        bound = owner;
      }
      const requested = explicit ?? current;
      if (bound) {
        if (requested && requested.key !== bound.key) throw this.crossTenant(what, bound, requested);
        target = bound;
      } else {
        target = requested;
      }
      if (!target && this.strict && !this.isShared(model) && !(model as any)._schema) throw this.noTenant(what);
    } catch (error) {
      return Promise.reject(error);
    }
    const promise = !target || current === target ? fn() : this.context.run(target, fn);
    if (!bindAfter || !target || this.tenantOf(bindAfter)) return promise;
    const tenant = target;
    return promise.then((result) => {
      if (!this.tenantOf(bindAfter)) this.bind(bindAfter, tenant);
      return result;
    });
  }
}
