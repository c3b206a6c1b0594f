import { randomBytes } from 'node:crypto';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import type { TenantContext } from '../context';
import type { DialectAdapter } from '../dialects/contract';
import { CrossTenantError, NoTenantError } from '../errors';
import type { TenantAffinity } from '../pool/affinity';
import type { TenantNames, TenantRef } from '../tenant';

/** A statement as routing sends it (`Router.observe`). */
export interface SentStatement {
  /** The SQL text (without the routing prefix PostgreSQL sends in front of it). */
  readonly sql: string;
  readonly parameters: readonly unknown[] | undefined;
  /** The tenant it runs in, or undefined (the default schema/database). */
  readonly tenant: TenantRef | undefined;
  /** What Sequelize's query resolves to (rows, instances, ...), or its error. */
  readonly result: Promise<unknown>;
}

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

/** What `Router.withInstances` runs: an operation on instances of a model. */
export interface InstanceOperation {
  /** How errors name the operation: `Widget#save()`. */
  readonly what: string;
  /** The model whose tenant rules apply (shared or not, pinned with `Model.schema()`). */
  readonly model: ModelStatic<Model>;
  /** The instances the operation touches: they must all belong to one tenant. */
  readonly instances: readonly unknown[];
  /** The call's options (an explicit `{ tenant }` in them must agree with the instances'). */
  readonly options: unknown;
  /** A new instance that belongs to the tenant the operation ran in, once it has run. */
  readonly bindAfter?: Model;
  /** `fn(tenant)` puts the tenant into the options it passes on: it may run without AsyncLocalStorage when `carriesTenant`. */
  readonly carriable?: boolean;
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
   * True while a query-interface method sends qualified model DML
   * (synchronously, query-interface.ts); the query wrapper consumes it
   * (queries.ts). Only ever true inside one synchronous call.
   */
  qualifiedPending = false;
  /**
   * Strict mode with no tenant renders this as the schema of tenant tables.
   * The query wrapper refuses any SQL that contains it, before it is sent,
   * which covers includes and through-tables reached from shared models.
   */
  readonly noTenantMarker = `apartment_no_tenant_${randomBytes(6).toString('hex')}`;

  /**
   * Listeners of every statement sent (the test kit's leak check), called
   * synchronously in the caller's async context; undefined (one check per
   * statement) while there are none.
   */
  observers: ReadonlyArray<(statement: SentStatement) => void> | undefined = undefined;

  /** Calls `listener` with every statement sent until the returned function is called. */
  observe(listener: (statement: SentStatement) => void): () => void {
    this.observers = [...(this.observers ?? []), listener];
    return () => {
      const rest = (this.observers ?? []).filter((l) => l !== listener);
      this.observers = rest.length > 0 ? rest : undefined;
    };
  }

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

  /**
   * Whether an explicit or bound tenant can travel in the options alone,
   * without AsyncLocalStorage (see `TenantContext.during`): only when no user
   * code runs inside the operation that might send SQL without passing the
   * options on (hooks on the model or the instance, custom validators).
   */
  carriesTenant(model: ModelStatic<Model>): boolean {
    const m = model as any;
    if (hasOperationHooks(m.options?.hooks) || hasOperationHooks((this.sequelize as any).options?.hooks)) return false;
    const attributes = m.rawAttributes ?? {};
    let validators = customValidators.get(attributes);
    if (validators === undefined) {
      validators =
        Object.keys(m.options?.validate ?? {}).length > 0 ||
        Object.values<any>(attributes).some((attribute) => Object.values(attribute?.validate ?? {}).some((v) => typeof v === 'function' || typeof (v as any)?.fn === 'function'));
      customValidators.set(attributes, validators);
    }
    return !validators;
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

  /** The tenant a statement runs in: its explicit `{ tenant }` option (carried down by Sequelize), else the context's. */
  queryTenant(options: unknown): TenantRef | undefined {
    return this.explicit(options) ?? this.context.tenant();
  }

  noTenant(what: string, method?: string): NoTenantError {
    if (method === 'sync') {
      // A start-up `sequelize.sync()` (which calls each Model.sync()): tenant tables come from migrations, run per tenant.
      return new NoTenantError(
        `${what} needs a tenant and none is set (strict mode): tenant tables are created by tenant migrations, not by sync() at start-up. Generate the migration from your models with \`apartment migration:generate --from-models\`, then create tenants with createTenant(key) (which migrates them) or run \`apartment db:migrate\`. List the model in \`sharedModels\` if it lives in the default schema.`,
      );
    }
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
  withInstances<T>(operation: InstanceOperation, fn: (carry?: TenantRef) => Promise<T>): Promise<T> {
    const { what, model, instances, options, bindAfter, carriable = false } = operation;
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
    let promise: Promise<T>;
    if (!target || current === target) promise = fn();
    else if (carriable && !current && this.carriesTenant(model)) {
      const tenant = target;
      promise = this.context.during(tenant, () => fn(tenant));
    } else promise = this.context.run(target, () => fn());
    if (!bindAfter || !target || this.tenantOf(bindAfter)) return promise;
    const tenant = target;
    return promise.then((result) => {
      if (!this.tenantOf(bindAfter)) this.bind(bindAfter, tenant);
      return result;
    });
  }
}

/** Hooks that only run at definition or connection time, never inside a model operation. */
const SETUP_HOOKS = new Set(['beforeDefine', 'afterDefine', 'beforeInit', 'afterInit', 'beforeConnect', 'afterConnect', 'beforeDisconnect', 'afterDisconnect', 'beforePoolAcquire', 'afterPoolAcquire', 'beforeSync', 'afterSync', 'beforeBulkSync', 'afterBulkSync']);

function hasOperationHooks(hooks: Record<string, unknown[] | undefined> | undefined): boolean {
  if (!hooks) return false;
  for (const name in hooks) {
    if (!SETUP_HOOKS.has(name) && (hooks[name]?.length ?? 0) > 0) return true;
  }
  return false;
}

/** Whether a model (by its attributes object) has validators that are functions: user code that could send SQL. */
const customValidators = new WeakMap<object, boolean>();
