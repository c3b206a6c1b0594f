import { expect } from 'chai';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from '../support/paths';
import { request } from '../http/helpers';

function hasCurl(): boolean {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Replays a printed `curl -s [-X M] URL [-H 'h: v']... [-d 'json']` line with Node's client; `$NAME` in "..." from `env`. */
async function replay(line: string, env: Record<string, string> = {}): Promise<string> {
  const words = [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]?.replace(/\$(\w+)/g, (_, name) => env[name] ?? '') ?? m[3]);
  let method = 'GET';
  let url = '';
  let body: unknown;
  const headers: Record<string, string> = {};
  for (let i = 1; i < words.length; i++) {
    if (words[i] === '-X') method = words[++i];
    else if (words[i] === '-H') {
      const [name, ...value] = words[++i].split(':');
      headers[name.trim()] = value.join(':').trim();
    } else if (words[i] === '-d') body = JSON.parse(words[++i]);
    else if (!words[i].startsWith('-')) url = words[i];
  }
  return (await request(url, { method, headers, body })).text;
}

describe('npm run demo (embedded PostgreSQL, in memory)', function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
  });

  it('prints a URL and three curl lines that sign up (user and tenant), create a widget with the token and list it', async () => {
    child = spawn(process.execPath, [path.join(ROOT, 'dist/examples/widget-saas/src/main.js'), '--memory', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    const lines = await new Promise<string[]>((resolve, reject) => {
      child!.stdout!.on('data', (c) => {
        out += c;
        const curls = out.split('\n').filter((l) => l.startsWith('curl '));
        if (curls.length === 3 && /Ctrl-C/.test(out)) resolve(curls);
      });
      child!.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${out}\n${err}`)));
    });
    expect(out).to.match(/Listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(out).to.include('in memory');

    const run = hasCurl()
      ? async (line: string, env: Record<string, string> = {}) => execFileSync('sh', ['-c', line], { encoding: 'utf8', env: { ...process.env, ...env } })
      : replay;
    const created = JSON.parse(await run(lines[0]));
    expect(created).to.include({ key: 'acme', schema: 'tenant_acme', email: 'admin@acme.example.com' });
    expect(out).to.include('TOKEN=<the "token" from that answer>');
    const env = { TOKEN: created.token as string };
    const widget = JSON.parse(await run(lines[1], env));
    expect(widget).to.include({ name: 'sprocket', quantity: 3 });
    const list = JSON.parse(await run(lines[2], env));
    expect(list).to.deep.equal([widget]);
    // The parser agrees with curl on what the lines mean; without the token the app refuses.
    expect(JSON.parse(await replay(lines[2], env))).to.deep.equal([widget]);
    expect(JSON.parse(await replay(lines[2]))).to.include({ error: 'Unauthorized' });

    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child!.once('exit', resolve));
    expect(code).to.equal(0);
  });
});
