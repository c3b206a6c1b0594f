import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataTypes, type Model, type ModelStatic, type Sequelize, type Transaction } from 'sequelize';
import { Apartment, ApartmentError, type ApartmentOptions } from 'sequelize-apartment';

/**
 * The isolation stress: many tenants with identical tables, a mixed stream of
 * operations from many concurrent workers on one small pool, every row tagged
 * with its tenant, every read checked, and a ledger per tenant compared with
 * the catalog at the end (read back qualified, bypassing the routing under test).
 */

/**
 * A tenant prefix unique to this test process (`rel_kill_3fa2_`): other
 * processes running the same suite against the same servers at the same time
 * must not drop each other's tenants.
 */
export function runPrefix(base: string): string {
  return `${base}${RUN_ID}_`;
}
const RUN_ID = randomBytes(2).toString('hex');

export interface StressModels {
  Widget: ModelStatic<Model>;
  Tag: ModelStatic<Model>;
  WidgetTag: ModelStatic<Model>;
  Account: ModelStatic<Model>;
}

export interface StressSetup {
  sequelize: Sequelize;
  apartment: Apartment;
  models: StressModels;
  tenants: string[];
  /** The shared accounts table (default schema), unique to this run. */
  accountsTable: string;
  /** Account ids in the shared table. */
  accounts: number[];
  /** Per tenant: its tag ids. */
  tags: Map<string, string[]>;
  /** Per tenant: what its rows must be; runs on the same setup accumulate in it. */
  ledgers: Map<string, Ledger>;
  /** Where the final check reads every tenant's tables (default: `sequelize`, tenant-less); isolation 'role' needs a superuser. */
  verifyWith?: Sequelize;
}

/** Defines the stress models (Account is shared) on a Sequelize instance and installs an Apartment. */
export function installStress(sequelize: Sequelize, prefix: string, options: Partial<ApartmentOptions> = {}): Omit<StressSetup, 'tenants' | 'accounts' | 'tags' | 'ledgers'> {
  const accountsTable = `rel_accounts_${randomBytes(4).toString('hex')}`;
  const apartment = new Apartment(sequelize, { migrationsPath: false, prefix, sharedModels: ['Account'], ...options });
  const Account = sequelize.define('Account', { id: { type: DataTypes.INTEGER, primaryKey: true }, name: DataTypes.STRING }, { tableName: accountsTable, timestamps: false });
  const Widget = sequelize.define(
    'Widget',
    {
      id: { type: DataTypes.STRING(36), primaryKey: true },
      owner: { type: DataTypes.STRING(80), allowNull: false },
      name: { type: DataTypes.STRING(80), allowNull: false },
      qty: { type: DataTypes.INTEGER, allowNull: false },
      accountId: { type: DataTypes.INTEGER, allowNull: false, field: 'account_id' },
    },
    { tableName: 'widgets', timestamps: false },
  );
  const Tag = sequelize.define(
    'Tag',
    { id: { type: DataTypes.STRING(36), primaryKey: true }, owner: { type: DataTypes.STRING(80), allowNull: false }, name: DataTypes.STRING(80) },
    { tableName: 'tags', timestamps: false },
  );
  const WidgetTag = sequelize.define('WidgetTag', { owner: { type: DataTypes.STRING(80), allowNull: false } }, { tableName: 'widget_tags', timestamps: false });
  Widget.belongsToMany(Tag, { through: WidgetTag, foreignKey: 'widgetId', otherKey: 'tagId' });
  Tag.belongsToMany(Widget, { through: WidgetTag, foreignKey: 'tagId', otherKey: 'widgetId' });
  Widget.belongsTo(Account, { foreignKey: 'accountId', constraints: false });
  return { sequelize, apartment, models: { Widget, Tag, WidgetTag, Account }, accountsTable };
}

/** Creates the shared table, the tenants (schema + tables) and a few tags per tenant. */
export async function createStressTenants(base: Omit<StressSetup, 'tenants' | 'accounts' | 'tags' | 'ledgers'>, count: number, keyPrefix = 't'): Promise<StressSetup> {
  const { apartment, models } = base;
  const { Widget, Tag, WidgetTag, Account } = models;
  await Account.sync();
  const accounts = [1, 2, 3, 4, 5];
  await Account.bulkCreate(accounts.map((id) => ({ id, name: `account ${id}` })));
  const tenants = Array.from({ length: count }, (_, i) => `${keyPrefix}${String(i).padStart(3, '0')}`);
  const tags = new Map<string, string[]>();
  const queue = [...tenants];
  await Promise.all(
    Array.from({ length: Math.min(8, count) }, async () => {
      for (let tenant = queue.shift(); tenant; tenant = queue.shift()) {
        await apartment.createTenant(tenant);
        const t = tenant;
        await apartment.run(t, async () => {
          await Widget.sync();
          await Tag.sync();
          await WidgetTag.sync();
          const ids = [randomUUID(), randomUUID(), randomUUID()];
          await Tag.bulkCreate(ids.map((id, i) => ({ id, owner: t, name: `tag ${i}` })));
          tags.set(t, ids);
        });
      }
    }),
  );
  return { ...base, tenants, accounts, tags, ledgers: new Map(tenants.map((t) => [t, new Ledger()])) };
}

export async function dropStressShared(setup: Pick<StressSetup, 'sequelize' | 'accountsTable'>): Promise<void> {
  const qg = (setup.sequelize.getQueryInterface() as any).queryGenerator;
  await setup.sequelize.query(`DROP TABLE IF EXISTS ${qg.quoteIdentifier(setup.accountsTable)}`).catch(() => undefined);
}

// ---------------------------------------------------------------------------
// Ledger

interface RowState {
  name: string;
  qty: number;
  accountId: number;
  tags: string[];
}

/** What a row may be after the run: exactly one state, or (after a failed write) one of several; null = absent. */
type Expect = { kind: 'certain'; state: RowState } | { kind: 'uncertain'; states: Array<RowState | null> };

class IdPool {
  readonly #ids: string[] = [];
  readonly #index = new Map<string, number>();
  add(id: string): void {
    if (this.#index.has(id)) return;
    this.#index.set(id, this.#ids.length);
    this.#ids.push(id);
  }
  delete(id: string): void {
    const i = this.#index.get(id);
    if (i === undefined) return;
    const last = this.#ids.pop()!;
    if (last !== id) {
      this.#ids[i] = last;
      this.#index.set(last, i);
    }
    this.#index.delete(id);
  }
  random(): string | undefined {
    return this.#ids.length ? this.#ids[Math.floor(Math.random() * this.#ids.length)] : undefined;
  }
  get size(): number {
    return this.#ids.length;
  }
}

export class Ledger {
  /** Every id ever written (or attempted) in this tenant. */
  readonly known = new Set<string>();
  readonly expect = new Map<string, Expect>();
  /** Rows with a certain state that no operation is touching: safe to pick. */
  readonly free = new IdPool();

  take(): string | undefined {
    const id = this.free.random();
    if (id !== undefined) this.free.delete(id);
    return id;
  }

  state(id: string): RowState {
    const e = this.expect.get(id);
    if (!e || e.kind !== 'certain') throw new Error(`ledger: ${id} is not certain`);
    return e.state;
  }

  /** Applies the outcome of writes: committed (after), rolled back (before) or unknown (either). */
  settle(writes: Write[], outcome: 'committed' | 'rolledBack' | 'unknown'): void {
    for (const w of writes) {
      this.known.add(w.id);
      if (outcome === 'unknown') {
        this.expect.set(w.id, { kind: 'uncertain', states: [w.before, w.after, ...(w.partial ?? [])] });
        continue;
      }
      const state = outcome === 'committed' ? w.after : w.before;
      if (state) {
        this.expect.set(w.id, { kind: 'certain', state });
        this.free.add(w.id);
      } else {
        this.expect.delete(w.id);
      }
    }
  }
}

interface Write {
  id: string;
  before: RowState | null;
  after: RowState | null;
  /** States in between, for operations that are not one transaction (create, then link tags). */
  partial?: RowState[];
}

class Rollback extends Error {}

// ---------------------------------------------------------------------------
// The run

export interface StressOptions {
  ops: number;
  concurrency: number;
  /** Errors are expected (faults are being injected): failed operations make their writes uncertain. */
  faults?: boolean;
  /** Called every `every` completed operations (fault injection, restarts). */
  onProgress?: (done: number) => void | Promise<void>;
  /** Which operations to use; all by default. */
  only?: OpName[];
  /** Called after the last operation, before the final check (stop injecting faults here). */
  beforeVerify?: () => Promise<void>;
}

export interface StressReport {
  ops: number;
  failed: number;
  reads: number;
  rowsChecked: number;
  foreignRows: number;
  lostWrites: number;
  mismatches: string[];
  unexpected: number;
  unexpectedErrors: string[];
  durationMs: number;
  byOp: Record<string, number>;
}

export type OpName =
  | 'create'
  | 'bulkCreate'
  | 'update'
  | 'destroy'
  | 'findAll'
  | 'rawReplacements'
  | 'rawBind'
  | 'rawWrite'
  | 'managedTx'
  | 'explicitTx'
  | 'instanceSave'
  | 'explicitOption';

const WEIGHTS: Record<OpName, number> = {
  create: 10,
  bulkCreate: 6,
  update: 10,
  destroy: 5,
  findAll: 14,
  rawReplacements: 8,
  rawBind: 8,
  rawWrite: 8,
  managedTx: 10,
  explicitTx: 8,
  instanceSave: 8,
  explicitOption: 6,
};

function pickOp(only?: OpName[]): OpName {
  const names = (only ?? (Object.keys(WEIGHTS) as OpName[]));
  const total = names.reduce((s, n) => s + WEIGHTS[n], 0);
  let r = Math.random() * total;
  for (const n of names) {
    r -= WEIGHTS[n];
    if (r < 0) return n;
  }
  return names[names.length - 1];
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
const chance = (p: number) => Math.random() < p;

export async function runStress(setup: StressSetup, options: StressOptions): Promise<StressReport> {
  const { sequelize, apartment, models, tenants } = setup;
  const { Widget, Tag, Account } = models;
  const dialect = sequelize.getDialect();
  const { ledgers } = setup;
  const report: StressReport = { ops: 0, failed: 0, reads: 0, rowsChecked: 0, foreignRows: 0, lostWrites: 0, mismatches: [], unexpected: 0, unexpectedErrors: [], durationMs: 0, byOp: {} };
  const foreign = (what: string) => {
    report.foreignRows += 1;
    if (report.mismatches.length < 20) report.mismatches.push(what);
  };
  const newState = (tenant: string, tags = false): RowState => ({
    name: `w-${randomBytes(3).toString('hex')}`,
    qty: Math.floor(Math.random() * 1000),
    accountId: pick(setup.accounts),
    tags: tags ? setup.tags.get(tenant)!.filter(() => chance(0.5)).sort() : [],
  });
  const values = (tenant: string, id: string, s: RowState) => ({ id, owner: tenant, name: s.name, qty: s.qty, accountId: s.accountId });

  /** Checks rows read in `tenant`: tagged with it and known to its ledger. */
  const checkRows = (tenant: string, rows: any[], where: string) => {
    report.reads += 1;
    const ledger = ledgers.get(tenant)!;
    for (const row of rows) {
      report.rowsChecked += 1;
      const r = typeof row.get === 'function' ? row.get({ plain: true }) : row;
      if (r.owner !== tenant || !ledger.known.has(r.id)) foreign(`${where}: tenant ${tenant} read widget ${r.id} tagged ${r.owner}`);
      for (const tag of r.Tags ?? []) {
        if (tag.owner !== tenant || !setup.tags.get(tenant)!.includes(tag.id)) foreign(`${where}: tenant ${tenant} read tag ${tag.id} tagged ${tag.owner}`);
        if (tag.WidgetTag && tag.WidgetTag.owner !== tenant) foreign(`${where}: tenant ${tenant} read through-row tagged ${tag.WidgetTag.owner}`);
      }
      if (r.Account !== undefined && (r.Account === null || r.Account.id !== r.accountId)) foreign(`${where}: account include of ${r.id} is ${JSON.stringify(r.Account)}`);
    }
  };

  const linkTags = async (widget: Model, tagIds: string[], tenant: string, transaction?: Transaction) => {
    if (!tagIds.length) return;
    await (widget as any).addTags(tagIds, { through: { owner: tenant }, transaction });
  };

  /** One operation: returns the writes it attempted and whether it rolled back on purpose. */
  const operations: Record<OpName, (tenant: string, ledger: Ledger, writes: Write[]) => Promise<'committed' | 'rolledBack'>> = {
    async create(tenant, _ledger, writes) {
      const id = randomUUID();
      const s = newState(tenant, true);
      // Two statements, no transaction: a failure in between leaves the widget without tags.
      writes.push({ id, before: null, after: s, partial: [{ ...s, tags: [] }] });
      await apartment.run(tenant, async () => {
        const w = await Widget.create(values(tenant, id, s));
        await linkTags(w, s.tags, tenant);
      });
      return 'committed';
    },
    async bulkCreate(tenant, _ledger, writes) {
      const rows = Array.from({ length: 2 + Math.floor(Math.random() * 4) }, () => ({ id: randomUUID(), s: newState(tenant) }));
      for (const r of rows) writes.push({ id: r.id, before: null, after: r.s });
      const data = rows.map((r) => values(tenant, r.id, r.s));
      if (chance(0.5)) await apartment.run(tenant, () => Widget.bulkCreate(data));
      else await Widget.bulkCreate(data, { tenant } as any);
      return 'committed';
    },
    async update(tenant, ledger, writes) {
      const id = ledger.take();
      if (!id) return operations.create(tenant, ledger, writes);
      const before = ledger.state(id);
      const after = { ...before, qty: before.qty + 1 + Math.floor(Math.random() * 10) };
      writes.push({ id, before, after });
      const [count] = await apartment.run(tenant, () => Widget.update({ qty: after.qty }, { where: { id } }));
      if (count !== 1) foreign(`update: tenant ${tenant} updated ${count} rows for ${id}`);
      return 'committed';
    },
    async destroy(tenant, ledger, writes) {
      const id = ledger.take();
      if (!id) return operations.create(tenant, ledger, writes);
      writes.push({ id, before: ledger.state(id), after: null });
      if (chance(0.5)) {
        const count = await apartment.run(tenant, () => Widget.destroy({ where: { id } }));
        if (count !== 1) foreign(`destroy: tenant ${tenant} destroyed ${count} rows for ${id}`);
      } else {
        const w = await apartment.run(tenant, () => Widget.findByPk(id));
        if (!w) throw new Error(`destroy: ${id} vanished from tenant ${tenant}`);
        await w.destroy(); // outside any context: the instance remembers its tenant
      }
      return 'committed';
    },
    async findAll(tenant) {
      const rows = await apartment.run(tenant, () =>
        Widget.findAll({ include: [{ model: Tag }, { model: Account }], limit: 50, order: [['qty', 'DESC']] }),
      );
      checkRows(tenant, rows, 'findAll+include');
      return 'committed';
    },
    async rawReplacements(tenant) {
      const [rows] = await apartment.run(tenant, () =>
        sequelize.query('SELECT id, owner FROM widgets WHERE qty >= :min ORDER BY qty LIMIT 100', { replacements: { min: Math.floor(Math.random() * 500) } }),
      );
      checkRows(tenant, rows as any[], 'raw replacements');
      return 'committed';
    },
    async rawBind(tenant) {
      const [rows] = await apartment.run(tenant, () =>
        sequelize.query('SELECT id, owner FROM widgets WHERE qty >= $1 ORDER BY qty LIMIT 100', { bind: [Math.floor(Math.random() * 500)] }),
      );
      checkRows(tenant, rows as any[], 'raw bind');
      return 'committed';
    },
    async rawWrite(tenant, ledger, writes) {
      const id = ledger.take();
      if (!id || chance(0.4)) {
        if (id) ledger.free.add(id);
        const nid = randomUUID();
        const s = newState(tenant);
        writes.push({ id: nid, before: null, after: s });
        await apartment.run(tenant, () =>
          sequelize.query('INSERT INTO widgets (id, owner, name, qty, account_id) VALUES ($1, $2, $3, $4, $5)', { bind: [nid, tenant, s.name, s.qty, s.accountId] }),
        );
        return 'committed';
      }
      const before = ledger.state(id);
      const after = { ...before, name: `r-${randomBytes(3).toString('hex')}` };
      writes.push({ id, before, after });
      await sequelize.query('UPDATE widgets SET name = :name WHERE id = :id', { replacements: { name: after.name, id }, tenant } as any);
      return 'committed';
    },
    async managedTx(tenant, ledger, writes) {
      const rollback = chance(0.3);
      try {
        await apartment.run(tenant, () =>
          sequelize.transaction(async (transaction) => {
            const id = randomUUID();
            const s = newState(tenant, true);
            writes.push({ id, before: null, after: s });
            const w = await Widget.create(values(tenant, id, s), { transaction });
            await linkTags(w, s.tags, tenant, transaction);
            const other = ledger.take();
            if (other) {
              const before = ledger.state(other);
              const after = { ...before, qty: before.qty + 1 };
              writes.push({ id: other, before, after });
              await Widget.increment('qty', { by: 1, where: { id: other }, transaction });
            }
            const [rows] = await sequelize.query('SELECT id, owner FROM widgets WHERE id IN (:ids)', { replacements: { ids: writes.map((x) => x.id) }, transaction });
            checkRows(tenant, rows as any[], 'raw in managed tx');
            if ((rows as any[]).length !== writes.length) foreign(`managed tx in ${tenant} sees ${(rows as any[]).length} of its ${writes.length} rows`);
            if (rollback) throw new Rollback();
          }),
        );
      } catch (error) {
        if (error instanceof Rollback) return 'rolledBack';
        throw error;
      }
      return 'committed';
    },
    async explicitTx(tenant, ledger, writes) {
      const rollback = chance(0.3);
      await apartment.run(tenant, async () => {
        const transaction = await sequelize.transaction();
        try {
          const id = ledger.take();
          if (id) {
            const before = ledger.state(id);
            const after = { ...before, qty: before.qty * 2 };
            writes.push({ id, before, after });
            await Widget.update({ qty: after.qty }, { where: { id }, transaction });
          }
          const nid = randomUUID();
          const s = newState(tenant);
          writes.push({ id: nid, before: null, after: s });
          await sequelize.query('INSERT INTO widgets (id, owner, name, qty, account_id) VALUES ($1, $2, $3, $4, $5)', {
            bind: [nid, tenant, s.name, s.qty, s.accountId],
            transaction,
          });
          const rows = await Widget.findAll({ where: { id: writes.map((w) => w.id) }, transaction });
          checkRows(tenant, rows, 'findAll in explicit tx');
          if (rows.length !== writes.length) foreign(`explicit tx in ${tenant} sees ${rows.length} of its ${writes.length} rows`);
        } catch (error) {
          await transaction.rollback().catch(() => undefined);
          throw error;
        }
        if (rollback) await transaction.rollback();
        else await transaction.commit();
      });
      return rollback ? 'rolledBack' : 'committed';
    },
    async instanceSave(tenant, ledger, writes) {
      const id = ledger.take();
      if (!id) return operations.create(tenant, ledger, writes);
      const before = ledger.state(id);
      const after = { ...before, qty: before.qty + 100 };
      writes.push({ id, before, after });
      const w = await apartment.run(tenant, () => Widget.findByPk(id));
      if (!w) throw new Error(`instanceSave: ${id} vanished from tenant ${tenant}`);
      checkRows(tenant, [w], 'findByPk');
      // Outside the context (and sometimes inside another tenant's run, which must refuse).
      if (apartment.tenantOf(w) !== tenant) foreign(`instance of ${tenant} remembers ${apartment.tenantOf(w)}`);
      w.set('qty', after.qty);
      if (chance(0.5)) await w.save();
      else await w.update({ qty: after.qty });
      return 'committed';
    },
    async explicitOption(tenant) {
      const rows = await Widget.findAll({ tenant, include: [Tag], limit: 20 } as any);
      checkRows(tenant, rows, 'findAll { tenant }');
      const count = (await Widget.count({ tenant } as any)) as unknown as number;
      if (count < 0) foreign('count');
      return 'committed';
    },
  };

  let started = 0;
  let done = 0;
  const t0 = Date.now();
  const worker = async () => {
    while (started < options.ops) {
      started += 1;
      const tenant = pick(tenants);
      const ledger = ledgers.get(tenant)!;
      const name = pickOp(options.only);
      const writes: Write[] = [];
      // A row is known to its tenant from the moment a write of it is attempted (reads run concurrently).
      writes.push = (...items: Write[]) => {
        for (const w of items) ledger.known.add(w.id);
        return Array.prototype.push.apply(writes, items);
      };
      report.byOp[name] = (report.byOp[name] ?? 0) + 1;
      try {
        const outcome = await operations[name](tenant, ledger, writes);
        ledger.settle(writes, outcome);
      } catch (error) {
        report.failed += 1;
        const expected = options.faults && !(error instanceof ApartmentError) && !/vanished/.test(String((error as Error).message));
        if (!expected) {
          report.unexpected += 1;
          if (report.unexpectedErrors.length < 10) report.unexpectedErrors.push(`${name} in ${tenant}: ${(error as Error).stack ?? error}`);
        }
        ledger.settle(writes, 'unknown');
      }
      report.ops += 1;
      done += 1;
      if (options.onProgress) await options.onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  report.durationMs = Date.now() - t0;
  await options.beforeVerify?.();

  await verify(setup, ledgers, report, dialect);
  return report;
}

/** Reads every tenant's tables back qualified (no routing involved) and compares them with the ledger. */
async function verify(setup: StressSetup, ledgers: Map<string, Ledger>, report: StressReport, dialect: string): Promise<void> {
  const { apartment } = setup;
  const sequelize = setup.verifyWith ?? setup.sequelize;
  const q = (s: string) => (dialect === 'postgres' ? `"${s}"` : `\`${s}\``);
  const seen = new Map<string, string>();
  for (const tenant of setup.tenants) {
    const schema = apartment.schemaFor(tenant);
    const ledger = ledgers.get(tenant)!;
    const [rows] = await apartment.context.runWithout(() =>
      sequelize.query(`SELECT id, owner, name, qty, account_id FROM ${q(schema)}.${q('widgets')}`),
    );
    const [links] = await apartment.context.runWithout(() =>
      sequelize.query(`SELECT ${q('widgetId')} AS wid, ${q('tagId')} AS tid, owner FROM ${q(schema)}.${q('widget_tags')}`),
    );
    const tagsOf = new Map<string, string[]>();
    for (const l of links as any[]) {
      if (l.owner !== tenant || !setup.tags.get(tenant)!.includes(l.tid)) report.foreignRows += 1;
      tagsOf.set(l.wid, [...(tagsOf.get(l.wid) ?? []), l.tid].sort());
    }
    const actual = new Map<string, RowState>();
    for (const r of rows as any[]) {
      report.rowsChecked += 1;
      if (r.owner !== tenant || !ledger.known.has(r.id)) {
        report.foreignRows += 1;
        if (report.mismatches.length < 20) report.mismatches.push(`final: ${schema} holds ${r.id} tagged ${r.owner}`);
      }
      if (seen.has(r.id)) report.foreignRows += 1;
      seen.set(r.id, tenant);
      actual.set(r.id, { name: r.name, qty: Number(r.qty), accountId: Number(r.account_id), tags: tagsOf.get(r.id) ?? [] });
    }
    const same = (a: RowState | null, b: RowState | undefined) =>
      a === null ? b === undefined : b !== undefined && a.name === b.name && a.qty === b.qty && a.accountId === b.accountId && a.tags.join() === b.tags.join();
    for (const [id, e] of ledger.expect) {
      const got = actual.get(id);
      const ok = e.kind === 'certain' ? same(e.state, got) : e.states.some((s) => same(s, got));
      if (!ok) {
        report.lostWrites += 1;
        if (report.mismatches.length < 20) report.mismatches.push(`final: ${schema} ${id} expected ${JSON.stringify(e)}, found ${JSON.stringify(got)}`);
      }
    }
    for (const id of actual.keys()) {
      if (!ledger.expect.has(id)) {
        report.lostWrites += 1; // a row the ledger says was rolled back or destroyed
        if (report.mismatches.length < 20) report.mismatches.push(`final: ${schema} holds ${id}, which the ledger says is gone`);
      }
    }
  }
}

/** Pool counters of a Sequelize instance (sequelize-pool). */
export function poolState(sequelize: Sequelize): { size: number; available: number; using: number; waiting: number } {
  const pool = (sequelize as any).connectionManager.pool;
  return { size: pool.size, available: pool.available, using: pool.using, waiting: pool.waiting };
}

/** Records unhandled rejections while `fn` runs. */
/**
 * The verdict every isolation stress run must reach: no operation failed or
 * answered wrongly, no foreign row, no lost write, and more rows checked than
 * operations (so the checks ran).
 */
export function expectSound(report: StressReport, ops: number): void {
  expect(report.unexpectedErrors, 'operations that failed').to.deep.equal([]);
  expect(report.mismatches).to.deep.equal([]);
  expect(report.foreignRows).to.equal(0);
  expect(report.lostWrites).to.equal(0);
  expect(report.failed).to.equal(0);
  expect(report.rowsChecked).to.be.greaterThan(ops);
}

export async function catchingUnhandled<T>(fn: () => Promise<T>): Promise<{ result: T; unhandled: unknown[] }> {
  const unhandled: unknown[] = [];
  const listener = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', listener);
  try {
    const result = await fn();
    await new Promise((r) => setTimeout(r, 50));
    return { result, unhandled };
  } finally {
    process.off('unhandledRejection', listener);
  }
}

