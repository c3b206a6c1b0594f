#!/usr/bin/env node
// `npm run check:package`: packs the package as `npm publish` would and runs
// publint and @arethetypeswrong/cli on the tarball, for every subpath that
// package.json `exports` lists (both tools read `exports` themselves, so a new
// subpath is covered without touching this file). Needs dist/ (npm run build).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

// attw rules this package does not follow, each with its reason:
// - cjs-only-exports-default: `sequelize-apartment/fastify`, `/koa` and `/hono` also
//   have a default export, for TypeScript and bundlers with esModuleInterop; Node's ESM
//   sees `module.exports` as the default there. The docs use the named exports
//   (`import { apartmentPlugin } from 'sequelize-apartment/fastify'`), which work everywhere.
//   publint says the same of those three as a warning (it has no option to silence
//   one rule); it fails on errors only.
const ATTW_IGNORED = ['cjs-only-exports-default'];

function run(command, args, options = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  console.log(`${path.basename(command)}: ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${result.status}`);
  return result.status ?? 1;
}

if (!fs.existsSync(path.join(root, 'dist', 'lib', 'index.js'))) {
  console.error('check:package: dist/lib is missing; run `npm run build` first.');
  process.exit(1);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apartment-pack-'));
try {
  const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const tarball = path.join(dir, JSON.parse(packed.stdout)[0].filename);
  let failed = 0;
  failed += run(bin('publint'), ['run', tarball]) === 0 ? 0 : 1;
  failed += run(bin('attw'), [tarball, '--ignore-rules', ...ATTW_IGNORED]) === 0 ? 0 : 1;
  process.exitCode = failed ? 1 : 0;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
