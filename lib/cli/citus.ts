import type { Command } from 'commander';
import type { MoveOptions, NodeAddress } from '../cluster';
import { ConfigurationError, describeValue } from '../errors';
import { withApartment, type CommandContext } from './commands';
import { errorReport, seconds, table, type ErrorReport } from './output';

type Action = <A extends unknown[]>(name: string, run: (ctx: CommandContext, ...args: A) => Promise<void>) => (...args: unknown[]) => Promise<void>;

const MODES = ['auto', 'force_logical', 'block_writes'] as const;

/**
 * The scale-out commands (`distribute: 'citus'`, README "Scale out with
 * Citus"): tenant:placement, tenant:move, citus:reference, citus:distribute.
 * Each calls the public API; without Citus they fail with its ConfigurationError.
 */
export function registerCitusCommands(cli: Command, action: Action): void {
  cli.command('tenant:placement [key]')
    .description('show the Citus node that holds a tenant (or, with --all, every tenant)')
    .option('--all', 'every tenant')
    .action(action('tenant:placement', (ctx, key: string | undefined, flags: { all?: boolean }) => placement(ctx, key, Boolean(flags.all))));

  cli.command('tenant:move <key>')
    .description('move a tenant to another Citus node online (citus_schema_move)')
    .requiredOption('--to <host:port>', 'the node to move it to, e.g. 10.0.0.3:5432')
    .option('--mode <mode>', `shard transfer mode: ${MODES.join(', ')}`, 'auto')
    .action(action('tenant:move', (ctx, key: string, flags: { to: string; mode: string }) => move(ctx, key, flags)));

  cli.command('citus:reference <table...>')
    .description('make shared tables Citus reference tables, so tenant tables may reference them (idempotent)')
    .action(action('citus:reference', (ctx, tables: string[]) => reference(ctx, tables)));

  cli.command('citus:distribute')
    .description('distribute existing tenant schemas (citus_schema_distribute), skipping those that are already (idempotent)')
    .option('--tenant <key>', 'this tenant only (default: every tenant)')
    .action(action('citus:distribute', (ctx, flags: { tenant?: string }) => distribute(ctx, flags.tenant)));
}

/** `host:port` (`[::1]:5432` for an IPv6 address) as a node address. */
export function parseNode(value: unknown): NodeAddress {
  const match = typeof value === 'string' ? /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim()) : null;
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new ConfigurationError(`Expected \`--to\` to be host:port of a Citus node, e.g. 10.0.0.3:5432, got ${describeValue(value)}. List the nodes with apartment tenant:placement --all, or SELECT * FROM citus_get_active_worker_nodes() on the coordinator.`);
  }
  return { host: (match[1] ?? match[2])!, port };
}

const at = (node: NodeAddress | undefined) => (node ? `${node.host}:${node.port}` : '-');

async function placement(ctx: CommandContext, key: string | undefined, all: boolean): Promise<void> {
  if ((key === undefined) === !all) {
    throw new ConfigurationError(key === undefined
      ? 'Name a tenant (apartment tenant:placement acme), or pass --all for every tenant.'
      : `Pass a tenant key or --all, not both (got '${key}' and --all).`);
  }
  await withApartment(ctx, false, async (apartment) => {
    const found = key === undefined ? await apartment.placements() : new Map([[key, await apartment.placement(key)]]);
    const tenants = [...found].map(([tenant, node]) => ({ tenant, schema: apartment.schemaFor(tenant), host: node?.host ?? null, port: node?.port ?? null }));
    ctx.out.result({ command: ctx.command, ok: true, tenants }, () => {
      if (tenants.length === 0) return `No tenants (prefix ${apartment.prefix}).`;
      const rows = tenants.map((t) => [t.tenant, t.schema, t.host === null ? '-' : `${t.host}:${t.port}`]);
      const nodes = new Map<string, number>();
      for (const t of tenants) if (t.host !== null) nodes.set(`${t.host}:${t.port}`, (nodes.get(`${t.host}:${t.port}`) ?? 0) + 1);
      const none = tenants.filter((t) => t.host === null).length;
      return [
        table(['TENANT', 'SCHEMA', 'NODE'], rows),
        '',
        `${tenants.length} tenant(s)${nodes.size ? ` on ${[...nodes].map(([node, n]) => `${node} (${n})`).join(', ')}` : ''}.`,
        ...(none ? [`${none} without a node: no tables yet, or not distributed (apartment citus:distribute).`] : []),
      ].join('\n');
    });
  });
}

async function move(ctx: CommandContext, key: string, flags: { to: string; mode: string }): Promise<void> {
  const to = parseNode(flags.to);
  if (!(MODES as readonly string[]).includes(flags.mode)) {
    throw new ConfigurationError(`Expected \`--mode\` to be ${MODES.join(', ')}, got ${describeValue(flags.mode)}.`);
  }
  const mode = flags.mode as NonNullable<MoveOptions['mode']>;
  await withApartment(ctx, false, async (apartment) => {
    const started = Date.now();
    const { tenant, schema, from, moved } = await apartment.moveTenant(key, { ...to, mode });
    const durationMs = Date.now() - started;
    ctx.out.result({ command: ctx.command, ok: true, tenant, schema, from, to, mode, moved, durationMs }, () =>
      moved
        ? `Moved tenant ${tenant} (${schema}) from ${at(from)} to ${at(to)} (${mode}, ${seconds(durationMs)}).`
        : `Tenant ${tenant} (${schema}) is on ${at(to)} already; nothing moved.`,
    );
  });
}

async function reference(ctx: CommandContext, tables: string[]): Promise<void> {
  await withApartment(ctx, false, async (apartment) => {
    const results: Array<{ table: string; created: boolean }> = [];
    for (const name of tables) results.push({ table: name, created: await apartment.citus.reference(name) });
    ctx.out.result({ command: ctx.command, ok: true, tables: results }, () =>
      results.map((r) => (r.created ? `${r.table} is now a reference table.` : `${r.table} was a reference table already.`)).join('\n'),
    );
  });
}

interface DistributeReport {
  tenant: string;
  schema: string;
  ok: boolean;
  /** true: distributed now; false: it was already (or, when ok is false, it failed). */
  distributed: boolean;
  error?: ErrorReport;
}

async function distribute(ctx: CommandContext, only: string | undefined): Promise<void> {
  await withApartment(ctx, false, async (apartment) => {
    const started = Date.now();
    let results: DistributeReport[];
    if (only !== undefined) {
      results = [{ tenant: only, schema: apartment.schemaFor(only), ok: true, distributed: await apartment.citus.distribute(only) }];
    } else {
      const bar = ctx.out.progress((await apartment.tenants()).length, 'distributing');
      try {
        results = (await apartment.citus.distributeAll({ onProgress: (r) => bar.tick(r) })).map((r) => ({
          tenant: r.tenant,
          schema: r.schema,
          ok: r.ok,
          distributed: r.distributed,
          ...(r.error ? { error: errorReport(r.error) } : {}),
        }));
      } finally {
        bar.stop();
      }
    }
    const ok = results.every((r) => r.ok);
    if (!ok) process.exitCode = 1;
    const count = (f: (r: DistributeReport) => boolean) => results.filter(f).length;
    const totals = { distributed: count((r) => r.ok && r.distributed), already: count((r) => r.ok && !r.distributed), failed: count((r) => !r.ok) };
    ctx.out.result({ command: ctx.command, ok, durationMs: Date.now() - started, ...totals, results }, () => {
      if (results.length === 0) return `No tenants (prefix ${apartment.prefix}).`;
      const rows = results.map((r) => [r.tenant, r.schema, r.ok ? (r.distributed ? 'distributed' : 'already distributed') : 'FAILED']);
      return [
        table(['TENANT', 'SCHEMA', 'STATUS'], rows),
        ...results.filter((r) => !r.ok).map((r) => `\n${r.tenant}: ${r.error?.message}`),
        `\n${totals.distributed} distributed, ${totals.already} already distributed${totals.failed ? `, ${totals.failed} failed` : ''} (${seconds(Date.now() - started)}).`,
      ].join('\n');
    });
  });
}
