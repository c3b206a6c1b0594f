import { runPrefix } from './stress';
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { describeDialects } from '../support/dialects';
import { fixture } from '../support/paths';

interface Outcome {
  ok: boolean;
  name?: string;
  message?: string;
  result?: any;
}

/** A racer process (test/fixtures/reliability/tenant-race.js): sends one command, resolves with its answer. */
class Racer {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  #out = '';
  #err = '';
  #waiting: Array<(o: Outcome) => void> = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [fixture('reliability', 'tenant-race.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d) => (this.#err += d));
    this.ready = new Promise((resolve, reject) => {
      this.child.stdout!.on('data', (d) => {
        this.#out += d;
        let nl;
        while ((nl = this.#out.indexOf('\n')) >= 0) {
          const line = this.#out.slice(0, nl);
          this.#out = this.#out.slice(nl + 1);
          if (line === 'ready') resolve();
          else if (line.startsWith('{')) this.#waiting.shift()?.(JSON.parse(line));
        }
      });
      this.child.on('exit', (code) => {
        const failure = { ok: false, name: 'exit', message: `racer exited (${code}):\n${this.#out}${this.#err}` };
        reject(new Error(failure.message));
        for (const w of this.#waiting.splice(0)) w(failure);
      });
    });
  }

  send(command: string): Promise<Outcome> {
    const answer = new Promise<Outcome>((r) => this.#waiting.push(r));
    this.child.stdin!.write(`${command}\n`);
    return answer;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.write('exit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

const ROUNDS = Number(process.env.RACE_ROUNDS || 0) || 10;

describeDialects('reliability: two processes racing createTenant / dropTenant on one key', (d) => {
  const prefix = runPrefix('rel_race');
  const migrations = fixture('reliability', 'migrations');

  let racers: Racer[] = [];

  before(async function () {
    this.timeout(30_000);
    await d.dropAll(prefix);
    racers = [0, 1].map(() => new Racer([d.url, prefix, migrations]));
    await Promise.all(racers.map((r) => r.ready));
  });
  after(async () => {
    await Promise.all(racers.map((r) => r.close()));
    await d.dropAll(prefix);
  });
  /** Both processes get the command at the same moment. */
  const race = (command: string) => Promise.all(racers.map((r) => r.send(command)));

  for (let round = 0; round < ROUNDS; round += 1) {
    it(`round ${round + 1}: exactly one createTenant succeeds, the other gets TenantExistsError, the tenant is whole; then one dropTenant succeeds, the other gets TenantNotFoundError`, async function () {
      this.timeout(60_000);
      const key = `r${round}`;
      const created = await race(`create ${key}`);
      const winners = created.filter((o) => o.ok);
      const losers = created.filter((o) => !o.ok);
      expect(winners, JSON.stringify(created)).to.have.length(1);
      expect(losers.map((o) => o.name), JSON.stringify(losers)).to.deep.equal(['TenantExistsError']);
      expect(winners[0].result).to.include({ ok: true, tenant: key, schema: `${prefix}${key}` });
      expect(winners[0].result.versions).to.have.length(2);
      // Whole: both migrations' tables, and the loser did not drop or half-make it.
      expect(await d.schemaExists(`${prefix}${key}`)).to.equal(true);
      expect(await d.tables(`${prefix}${key}`)).to.include.members(['labels', 'notes']);

      const dropped = await race(`drop ${key}`);
      expect(dropped.filter((o) => o.ok), JSON.stringify(dropped)).to.have.length(1);
      expect(dropped.filter((o) => !o.ok).map((o) => o.name), JSON.stringify(dropped)).to.deep.equal(['TenantNotFoundError']);
      expect(await d.schemaExists(`${prefix}${key}`)).to.equal(false);
    });
  }
});
