import * as fs from 'node:fs';
import * as path from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { UniqueConstraintError, ValidationError, type Sequelize } from 'sequelize';
import { Apartment, TenantNotFoundError } from 'sequelize-apartment';
import { defineModels, type Models, type Widget } from './models';

export interface AppOptions {
  /** A Sequelize instance on PostgreSQL or MySQL/MariaDB, not yet used by another Apartment. */
  sequelize: Sequelize;
  /** @default 'tenant_' */
  prefix?: string;
  /** Table of the shared Account model. @default 'accounts' */
  accountsTable?: string;
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

/**
 * Builds the widget SaaS: creates the shared table, brings existing tenants
 * up to date, and returns the Express app (not listening yet).
 */
export async function createApp({ sequelize, prefix = 'tenant_', accountsTable = 'accounts' }: AppOptions): Promise<WidgetSaas> {
  const models = defineModels(sequelize, { accountsTable });
  const { Account, Widget, Tag } = models;
  const apartment = new Apartment(sequelize, { prefix, migrationsPath: MIGRATIONS, sharedModels: ['Account'] });

  await Account.sync(); // the shared table, in the default schema
  if ((await apartment.tenants()).length > 0) {
    for (const result of await apartment.migrateAll()) {
      if (!result.ok) console.error(`tenant ${result.tenant}: ${result.error.message}`);
    }
  }

  const app = express();
  app.use(express.json());

  // ---- tenants (no tenant context: the shared table and the catalog) ----
  app.post('/tenants', async (req: Request, res: Response) => {
    const key = req.body?.key;
    try {
      apartment.schemaFor(key); // validates the key before anything is written
    } catch (error) {
      res.status(400).json({ error: 'TenantNameError', message: (error as Error).message });
      return;
    }
    const account = await Account.create({ key });
    try {
      const result = await apartment.createTenant(key);
      res.status(201).json({ key, schema: result.schema, migrations: result.ok ? result.versions : [] });
    } catch (error) {
      await account.destroy();
      throw error;
    }
  });

  app.get('/tenants', async (_req: Request, res: Response) => {
    const accounts = await Account.findAll({ order: [['key', 'ASC']] });
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

  app.delete('/tenants/:key', async (req: Request, res: Response) => {
    const key = String(req.params.key);
    const account = await Account.findOne({ where: { key } });
    if (!account) throw new TenantNotFoundError(`Tenant '${key}' does not exist.`, { tenant: key });
    if (await apartment.exists(key)) await apartment.dropTenant(key);
    await account.destroy();
    res.status(204).end();
  });

  // ---- widgets: each request runs in its tenant, from `x-tenant` or the subdomain ----
  const widgets = express.Router();
  widgets.use(apartment.middleware({ resolve: ['header', 'subdomain'] }));

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

  // ApartmentErrors carry a status (404 unknown tenant, 400 no tenant, 409 exists); so do body-parser's.
  app.use((error: any, _req: Request, res: Response, _next: NextFunction) => {
    let status = typeof error?.status === 'number' ? error.status : 500;
    if (error instanceof UniqueConstraintError) status = 409;
    else if (error instanceof ValidationError) status = 422;
    if (status >= 500) console.error(error);
    res.status(status).json({ error: error?.name ?? 'Error', message: status >= 500 ? 'Internal error' : error?.message });
  });

  return { app, apartment, models };
}
