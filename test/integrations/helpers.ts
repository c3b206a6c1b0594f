import { expect } from 'chai';
import * as http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataTypes, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import type { Apartment } from 'sequelize-apartment';
import { raw, request as send, type Response as Answer } from '../http/helpers';

/**
 * What every framework integration is checked against (issue 12): the same
 * routes in each framework, the same requests, the same expectations.
 * Each test app serves, behind the integration with `resolve: 'header'`:
 * - GET  /widgets?delay=ms -> { tenant: apartment.current(), seen: the framework's own tenant field, names }
 * - POST /widgets { name, delay } -> { tenant, seen, name, owner: apartment.tenantOf(created) }
 * - GET  /whoami -> { tenant: apartment.current() ?? null }
 */
export const TENANTS = ['acme', 'beta'] as const;

/** Creates the two tenants with one widget each (`acme-gear`, `beta-gear`) under `prefix`. */
export async function widgetTenants(apartment: Apartment, sequelize: Sequelize): Promise<ModelStatic<Model>> {
  const Widget = sequelize.define('Widget', { name: DataTypes.STRING }, { tableName: 'widgets' });
  for (const key of TENANTS) {
    await apartment.createTenant(key);
    await apartment.run(key, async () => {
      await Widget.sync();
      await Widget.create({ name: `${key}-gear` });
    });
  }
  return Widget;
}

/** What a route of the test apps does, whatever the framework. */
export const routes = {
  async list(apartment: Apartment, Widget: ModelStatic<Model>, seen: unknown, delay: unknown) {
    await sleep(Number(delay) || 0);
    const widgets = await Widget.findAll(); // the POST tests add rows; only the seeded one ends in -gear
    return { tenant: apartment.current() ?? null, seen: seen ?? null, names: widgets.map((w) => w.get('name')).filter((n) => String(n).endsWith('-gear')) };
  },
  async create(apartment: Apartment, Widget: ModelStatic<Model>, seen: unknown, body: { name: string; delay?: number }) {
    const before = apartment.current() ?? null; // right after the body was parsed
    await sleep(Number(body.delay) || 0);
    const created = await Widget.create({ name: body.name });
    return { tenant: before, seen: seen ?? null, name: created.get('name'), owner: apartment.tenantOf(created) ?? null };
  },
  whoami(apartment: Apartment) {
    return { tenant: apartment.current() ?? null };
  },
};

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * `count` GETs of the two tenants in random order, many in flight together
 * (in waves of 50) over keep-alive sockets, each route waiting a random 0-5 ms before its
 * query; every answer must be its own tenant's.
 */
export async function interleavedGets(url: string, count = 400): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  try {
    const plan = shuffled(Array.from({ length: count }, (_, i) => TENANTS[i % 2]));
    // In waves, so later waves go over the sockets of earlier ones.
    const answers: Answer[] = [];
    for (let start = 0; start < plan.length; start += 50) {
      const wave = plan.slice(start, start + 50);
      answers.push(...(await Promise.all(
        wave.map((tenant) => send(`${url}/widgets?delay=${Math.floor(Math.random() * 6)}`, { headers: { 'x-tenant': tenant }, agent })),
      )));
    }
    answers.forEach((answer, i) => {
      expect(answer.status, JSON.stringify(answer.json)).to.equal(200);
      expect(answer.json).to.deep.equal({ tenant: plan[i], seen: plan[i], names: [`${plan[i]}-gear`] });
    });
    expect(answers.some((a) => a.reused), 'keep-alive sockets were reused').to.equal(true);
  } finally {
    agent.destroy();
  }
}

/**
 * `count` POSTs with JSON bodies, interleaved like `interleavedGets`: the
 * tenant must be in context after the body is parsed and the row must land
 * in the tenant of the request. Every other body is sent 1-5 ms after the
 * head: a body already in the first packet is read in the request's own
 * async context, a later one in the socket's, where a context entered
 * before parsing is lost.
 */
export async function interleavedPosts(url: string, apartment: Apartment, Widget: ModelStatic<Model>, count = 200): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  try {
    const plan = shuffled(Array.from({ length: count }, (_, i) => ({ tenant: TENANTS[i % 2], name: `posted-${run}-${i}` })));
    const answers = await Promise.all(
      plan.map(({ tenant, name }, i) =>
        send(`${url}/widgets`, {
          method: 'POST',
          headers: { 'x-tenant': tenant },
          body: { name, delay: Math.floor(Math.random() * 6) },
          agent,
          bodyDelay: i % 2 ? 1 + Math.floor(Math.random() * 5) : undefined,
        }),
      ),
    );
    answers.forEach((answer, i) => {
      expect(answer.status, JSON.stringify(answer.json)).to.be.oneOf([200, 201]);
      expect(answer.json).to.deep.equal({ tenant: plan[i].tenant, seen: plan[i].tenant, name: plan[i].name, owner: plan[i].tenant });
    });
    for (const tenant of TENANTS) {
      const names = await apartment.run(tenant, async () => (await Widget.findAll()).map((w) => String(w.get('name'))));
      const expected = plan.filter((p) => p.tenant === tenant).map((p) => p.name).sort();
      expect(names.filter((n) => n.startsWith(`posted-${run}-`)).sort()).to.deep.equal(expected);
    }
  } finally {
    agent.destroy();
  }
}

/**
 * The status codes of the Express middleware: no tenant 400, an unknown
 * tenant 404, a malformed key 404, the tenant header twice 400, and one
 * tenant header holding a list (`acme, beta`) 400 like two headers. Returns
 * the bodies for the framework-specific checks; no route may have run.
 */
export async function tenantProblems(url: string, port: number): Promise<{ none: Answer; unknown: Answer; malformed: Answer; twice: { status: number; text: string }; listed: Answer }> {
  const none = await send(`${url}/whoami`);
  const unknown = await send(`${url}/whoami`, { headers: { 'x-tenant': 'nope' } });
  const malformed = await send(`${url}/whoami`, { headers: { 'x-tenant': 'Bad Key!' } });
  const twice = await raw(port, 'GET /whoami HTTP/1.1\r\nHost: x\r\nX-Tenant: acme\r\nX-Tenant: beta\r\nConnection: close\r\n\r\n');
  const listed = await send(`${url}/whoami`, { headers: { 'x-tenant': 'acme, beta' } });
  expect([none.status, unknown.status, malformed.status, twice.status, listed.status]).to.deep.equal([400, 404, 404, 400, 400]);
  return { none, unknown, malformed, twice, listed };
}

/**
 * What a client may read in a tenant problem's answer: nothing that tells a
 * developer which API to call (`createTenant(`, `optional: true`, `apartment.`).
 */
export function expectNoApiAdvice(...texts: string[]): void {
  for (const text of texts) expect(text).to.not.match(/createTenant\(|resumeTenant\(|optional: true|apartment\.|pass `/);
}

/**
 * Over one keep-alive socket: a request of acme, then one without a tenant
 * (the app is `optional: true`), then one of beta: the second must see no
 * tenant, the third only beta.
 */
export async function noLeakOnKeepAlive(url: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await send(`${url}/whoami`, { headers: { 'x-tenant': 'acme' }, agent });
    const second = await send(`${url}/whoami`, { agent });
    const third = await send(`${url}/widgets`, { headers: { 'x-tenant': 'beta' }, agent });
    const fourth = await send(`${url}/widgets`, { agent });
    expect(first.json).to.deep.equal({ tenant: 'acme' });
    expect(second.json).to.deep.equal({ tenant: null });
    expect(third.json).to.deep.equal({ tenant: 'beta', seen: 'beta', names: ['beta-gear'] });
    expect(fourth.status, 'a tenant model with no tenant is refused in strict mode').to.be.at.least(400);
    expect([second.reused, third.reused, fourth.reused]).to.deep.equal([true, true, true]);
  } finally {
    agent.destroy();
  }
}

/**
 * Suspension (issue 25), the same in every framework: tenant beta read-only
 * serves GETs and answers a POST with 423 before the handler runs (no row
 * written); closed, it answers everything with 503; acme is untouched;
 * resumed, beta writes again. A second process's view is covered in
 * test/core/suspend.test.ts. Returns the answers for framework-specific checks.
 */
export async function suspendedTenant(url: string, apartment: Apartment, Widget: ModelStatic<Model>): Promise<{ readOnly: Answer; closed: Answer }> {
  const run = Date.now().toString(36);
  const get = (tenant: string) => send(`${url}/widgets`, { headers: { 'x-tenant': tenant } });
  const post = (tenant: string, name: string) => send(`${url}/widgets`, { method: 'POST', headers: { 'x-tenant': tenant }, body: { name } });
  try {
    await apartment.suspendTenant('beta', { mode: 'read-only' });
    expect((await get('beta')).status).to.equal(200);
    const readOnly = await post('beta', `read-only-${run}`);
    expect(readOnly.status, readOnly.text).to.equal(423);
    expect([200, 201]).to.include((await post('acme', `acme-${run}`)).status);
    await apartment.suspendTenant('beta', { mode: 'closed' });
    const closed = await get('beta');
    expect(closed.status, closed.text).to.equal(503);
    expect((await post('beta', `closed-${run}`)).status).to.equal(503);
    expect((await get('acme')).status).to.equal(200);
    await apartment.resumeTenant('beta');
    expect([200, 201]).to.include((await post('beta', `resumed-${run}`)).status);
    const names = await apartment.run('beta', async () => (await Widget.findAll()).map((w) => String(w.get('name'))).filter((n) => n.endsWith(run)));
    expect(names).to.deep.equal([`resumed-${run}`]);
    return { readOnly, closed };
  } finally {
    await apartment.resumeTenant('beta');
  }
}
