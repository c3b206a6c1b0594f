import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { UniqueConstraintError, ValidationError, type Sequelize } from 'sequelize';
import { Apartment, TenantNotFoundError } from 'sequelize-apartment';
import { apartmentErrorHandler } from 'sequelize-apartment/express';
import { defineModels, SHARED_MODELS, type Models, type User as UserModel, type Widget } from './models';

export interface AppOptions {
  /** A Sequelize instance on PostgreSQL or MySQL/MariaDB, not yet used by another Apartment. */
  sequelize: Sequelize;
  /** @default 'tenant_' */
  prefix?: string;
  /** Prefix of the shared tables (accounts, users, memberships). @default '' */
  sharedTablePrefix?: string;
}

export interface WidgetSaas {
  app: Express;
  apartment: Apartment;
  models: Models;
}

/** The example's tenant migrations, from the source tree or from dist/. */
export const MIGRATIONS = [path.join(__dirname, '..', 'tenant-migrations'), path.join(__dirname, '..', '..', '..', '..', 'examples', 'widget-saas', 'tenant-migrations')].find(
  (dir) => fs.existsSync(dir),
)!;

function widgetJson(widget: Widget) {
  return {
    id: widget.id,
    name: widget.name,
    quantity: widget.quantity,
    tags: (widget.tags ?? []).map((t) => t.name).sort(),
  };
}

const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

function httpError(status: number, name: string, message: string): Error {
  return Object.assign(new Error(message), { status, name });
}

/**
 * Builds the widget SaaS: creates the shared tables, brings existing tenants
 * up to date, and returns the Express app (not listening yet).
 */
export async function createApp({ sequelize, prefix = 'tenant_', sharedTablePrefix = '' }: AppOptions): Promise<WidgetSaas> {
  const models = defineModels(sequelize, { sharedTablePrefix });
  const { Account, User, Membership, Widget, Tag } = models;
  const apartment = new Apartment(sequelize, { prefix, migrationsPath: MIGRATIONS, sharedModels: SHARED_MODELS });

  // The shared tables, in the default schema/database.
  await Account.sync();
  await User.sync();
  await Membership.sync();
  if ((await apartment.tenants()).length > 0) {
    for (const result of await apartment.migrateAll()) {
      if (!result.ok) console.error(`tenant ${result.tenant}: ${result.error.message}`);
    }
  }

  const app = express();
  app.use(express.json());

  /**
   * Who is calling: `authorization: Bearer <token>`, the token sign-up gave.
   * A real app has sessions or an identity provider here; what matters below
   * is only that the request ends up with a user.
   */
  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    const token = /^Bearer (\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const user = token ? await User.findOne({ where: { tokenHash: hashToken(token) } }) : null;
    if (!user) return next(httpError(401, 'Unauthorized', 'Sign in: send `authorization: Bearer <token>` (POST /signup gives one).'));
    res.locals.user = user;
    next();
  };

  /**
   * Resolving is not authorising: the middleware only says which tenant the
   * request names (any client can send any `x-tenant`). This is the check an
   * app needs on top: the signed-in user belongs to that tenant.
   */
  const requireMember = async (_req: Request, res: Response, next: NextFunction) => {
    const key = apartment.current()!;
    const member = await Membership.findOne({
      where: { userId: (res.locals.user as UserModel).id },
      include: [{ model: Account, where: { key }, required: true }],
    });
    if (!member) return next(httpError(403, 'Forbidden', `You are not a member of tenant '${key}'.`));
    next();
  };

  /** Creates the tenant `key` for `user`: its account row, its schema/database (migrated), the membership. */
  async function openTenant(key: unknown, user: UserModel) {
    try {
      apartment.schemaFor(key as string); // validates the key before anything is written
    } catch (error) {
      throw httpError(400, 'TenantNameError', (error as Error).message);
    }
    const account = await Account.create({ key: key as string }); // unique: a taken key is a 409
    let created = false;
    try {
      const result = await apartment.createTenant(account.key); // TenantExistsError (409) for a schema made elsewhere: left alone
      created = true;
      await Membership.create({ userId: user.id, accountId: account.id });
      return { key: account.key, schema: result.schema, migrations: result.ok ? result.versions : [] };
    } catch (error) {
      if (created) await apartment.dropTenant(account.key);
      await account.destroy();
      throw error;
    }
  }

  // ---- sign-up and tenants (no tenant context: the shared tables and the catalog) ----

  // Sign-up: a new user and their first tenant, served from the next request on.
  app.post('/signup', async (req: Request, res: Response) => {
    const { email, tenant } = req.body ?? {};
    if (typeof email !== 'string') throw httpError(422, 'ValidationError', '`email` must be a string');
    try {
      apartment.schemaFor(tenant); // a bad key is refused before the user is created
    } catch (error) {
      throw httpError(400, 'TenantNameError', (error as Error).message);
    }
    const token = crypto.randomBytes(24).toString('base64url');
    let user: UserModel;
    try {
      user = await User.create({ email, tokenHash: hashToken(token) });
    } catch (error) {
      // The unique email: say what to do, not Sequelize's "Validation error".
      if (error instanceof UniqueConstraintError) {
        throw httpError(409, 'EmailTaken', 'An account with this email already exists. Sign in with its token (authorization: Bearer <token>), or sign up with another email.');
      }
      throw error;
    }
    try {
      res.status(201).json({ ...(await openTenant(tenant, user)), email, token });
    } catch (error) {
      await user.destroy();
      throw error;
    }
  });

  // A signed-in user opens another tenant.
  app.post('/tenants', authenticate, async (req: Request, res: Response) => {
    res.status(201).json(await openTenant(req.body?.key, res.locals.user));
  });

  // The signed-in user's tenants, with their migration status.
  app.get('/tenants', authenticate, async (_req: Request, res: Response) => {
    const accounts = await Account.findAll({
      include: [{ model: User, where: { id: (res.locals.user as UserModel).id }, attributes: [], required: true }],
      order: [['key', 'ASC']],
    });
    const list = [];
    for (const account of accounts) {
      const status = await apartment.migrationStatus(account.key).catch(() => undefined);
      list.push({
        key: account.key,
        schema: apartment.schemaFor(account.key),
        createdAt: account.createdAt,
        migrations: status ?? { missing: true },
      });
    }
    res.json(list);
  });

  app.delete('/tenants/:key', authenticate, async (req: Request, res: Response) => {
    const key = String(req.params.key);
    const account = await Account.findOne({ where: { key } });
    if (!account) throw new TenantNotFoundError(`Tenant '${key}' does not exist.`, { tenant: key });
    if (!(await Membership.findOne({ where: { userId: (res.locals.user as UserModel).id, accountId: account.id } }))) {
      throw httpError(403, 'Forbidden', `You are not a member of tenant '${key}'.`);
    }
    if (await apartment.exists(key)) await apartment.dropTenant(key);
    await account.destroy(); // memberships go with it (ON DELETE CASCADE)
    res.status(204).end();
  });

  // ---- widgets: each request runs in its tenant, from `x-tenant` or the subdomain, for its members only ----
  const widgets = express.Router();
  widgets.use(authenticate, apartment.middleware({ resolve: ['header', 'subdomain'] }), requireMember);

  async function setTags(widget: Widget, names: unknown): Promise<void> {
    if (names === undefined) return;
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
      throw Object.assign(new Error('`tags` must be an array of strings'), { status: 422 });
    }
    const tags = [];
    for (const name of new Set(names as string[])) tags.push((await Tag.findOrCreate({ where: { name } }))[0]);
    await widget.setTags(tags);
  }

  async function find(id: string): Promise<Widget> {
    const widget = await Widget.findByPk(Number(id) || 0, { include: [{ model: Tag, as: 'tags' }] });
    if (!widget) throw Object.assign(new Error(`No widget ${id} in tenant '${apartment.current()}'`), { status: 404 });
    return widget;
  }

  widgets.get('/', async (_req: Request, res: Response) => {
    const list = await Widget.findAll({ include: [{ model: Tag, as: 'tags' }], order: [['id', 'ASC']] });
    res.json(list.map(widgetJson));
  });
  widgets.post('/', async (req: Request, res: Response) => {
    const { name, quantity, tags } = req.body ?? {};
    const widget = await Widget.create({ name, quantity });
    await setTags(widget, tags);
    res.status(201).json(widgetJson(await find(String(widget.id))));
  });
  widgets.get('/:id', async (req: Request, res: Response) => {
    res.json(widgetJson(await find(String(req.params.id))));
  });
  widgets.patch('/:id', async (req: Request, res: Response) => {
    const widget = await find(String(req.params.id));
    const { name, quantity, tags } = req.body ?? {};
    await widget.update({ ...(name !== undefined && { name }), ...(quantity !== undefined && { quantity }) });
    await setTags(widget, tags);
    res.json(widgetJson(await find(String(widget.id))));
  });
  widgets.delete('/:id', async (req: Request, res: Response) => {
    await (await find(String(req.params.id))).destroy();
    res.status(204).end();
  });
  app.use('/widgets', widgets);

  // ApartmentErrors: their status (404 unknown tenant, 400 no tenant, 409 exists) and a short message for the client.
  app.use(apartmentErrorHandler());
  // body-parser's and httpError's errors carry a status too.
  app.use((error: any, _req: Request, res: Response, _next: NextFunction) => {
    let status = typeof error?.status === 'number' ? error.status : 500;
    if (error instanceof UniqueConstraintError) status = 409;
    else if (error instanceof ValidationError) status = 422;
    if (status >= 500) console.error(error);
    res.status(status).json({ error: error?.name ?? 'Error', message: status >= 500 ? 'Internal error' : error?.message });
  });

  return { app, apartment, models };
}
