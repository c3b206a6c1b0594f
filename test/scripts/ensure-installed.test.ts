import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../support/paths';

const exec = promisify(execFile);
const FILES = ['package.json', 'package-lock.json', 'scripts/ensure-installed.js'];

/** The environment of a newcomer's shell: none of this npm run's variables, none of this checkout's node_modules/.bin. */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { npm_config_prefer_offline: 'true' };
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  env.PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => !dir.startsWith(path.join(ROOT, 'node_modules')))
    .join(path.delimiter);
  return env;
}

async function npmRun(dir: string, script: string): Promise<{ stdout: string; stderr: string }> {
  return exec('npm', ['run', script], { cwd: dir, env: newcomerEnv(), maxBuffer: 64 * 1024 * 1024 }).catch((error) => {
    throw new Error(`npm run ${script} failed:\n${error.stdout}\n${error.stderr}`);
  });
}

describe('the first command on a fresh clone (pretest, predemo, prebench)', () => {
  let dir: string;
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('installs from the lockfile when node_modules is missing, and does nothing when it is current', async function () {
    this.timeout(600_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-clone-'));
    await exec('git', ['clone', '--quiet', '--depth', '1', `file://${ROOT}`, dir]);
    // This checkout's versions of the files under test (the clone has the last commit).
    for (const file of FILES) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    }
    expect(fs.existsSync(path.join(dir, 'node_modules'))).to.equal(false);

    const first = await npmRun(dir, 'pretest');
    expect(first.stderr).to.contain('node_modules is missing: npm ci');
    expect(fs.existsSync(path.join(dir, 'node_modules', '.bin', 'tsc')), 'tsc installed').to.equal(true);
    const installed = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', '.package-lock.json'), 'utf8'));
    const locked = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
    expect(installed.packages['node_modules/sequelize'].version).to.equal(locked.packages['node_modules/sequelize'].version);
    const stamp = fs.statSync(path.join(dir, 'node_modules', '.package-lock.json')).mtimeMs;

    for (const script of ['predemo', 'prebench', 'pretest']) {
      const again = await npmRun(dir, script);
      expect(again.stderr, script).to.not.contain('npm ci');
    }
    expect(fs.statSync(path.join(dir, 'node_modules', '.package-lock.json')).mtimeMs).to.equal(stamp);
  });
});
