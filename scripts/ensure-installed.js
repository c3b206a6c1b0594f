#!/usr/bin/env node
// `pretest`, `predemo` and `prebench`: on a fresh clone (no node_modules) or
// after package-lock.json changed (a pull, a branch switch), install exactly
// the lockfile's dependencies with `npm ci` first; when node_modules is
// current, do nothing. npm writes node_modules/.package-lock.json at the end of
// every install, so its age says which lockfile the tree was installed from.
// Dependency-free on purpose: it runs before any dependency is there.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const modified = (file) => {
  try {
    return fs.statSync(path.join(root, file)).mtimeMs;
  } catch {
    return undefined;
  }
};

const installed = modified('node_modules/.package-lock.json');
const locked = modified('package-lock.json');
if (installed !== undefined && locked !== undefined && installed >= locked) process.exit(0);

const why = installed === undefined ? 'node_modules is missing' : 'package-lock.json is newer than node_modules';
console.error(`> ${why}: npm ci`);
const args = ['ci', '--no-audit', '--no-fund'];
// npm sets npm_execpath for scripts it runs; outside npm, use the npm on PATH.
const npm = process.env.npm_execpath;
const result = npm && npm.endsWith('.js')
  ? spawnSync(process.execPath, [npm, ...args], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(result.status ?? 1);
