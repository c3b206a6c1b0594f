import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Apartment } from '../../lib';
import { connect, URLS } from '../env';
import { row, type BenchCase } from '../types';
import { migrationsReady } from './availability';

const TABLES = 5;
const SIDE = path.join(__dirname, 'export-side.js');

/** The five tables of the tenant: an id, text, numbers, a time with time zone, a longer text. */
const MIGRATION = `'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    for (let t = 1; t <= ${TABLES}; t++) {
      await queryInterface.createTable('t' + t, {
        id: { type: Sequelize.INTEGER, autoIncrement: true, primaryKey: true },
        name: Sequelize.STRING,
        n: Sequelize.INTEGER,
        amount: Sequelize.DECIMAL(12, 2),
        at: Sequelize.DATE,
        body: Sequelize.TEXT,
      });
    }
  },
  async down() {},
};
`;

interface Run {
  ms: number;
  maxRssMB: number;
}

/** Runs a command (its stdout to `stdoutFile`, its stdin from `stdinFile`) under GNU time: wall time and peak RSS. */
function timedCommand(command: string, args: string[], io: { stdoutFile?: string; stdinFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run & { stdout: string }> {
  return new Promise((resolve, reject) => {
    const stdin = io.stdinFile ? fs.openSync(io.stdinFile, 'r') : 'ignore';
    const stdout = io.stdoutFile ? fs.openSync(io.stdoutFile, 'w') : 'pipe';
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'maxrss=%M', command, ...args], { stdio: [stdin, stdout, 'pipe'], env: { ...process.env, ...io.env } });
    let err = '';
    let out = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (typeof stdin === 'number') fs.closeSync(stdin);
      if (typeof stdout === 'number') fs.closeSync(stdout);
      const rss = /maxrss=(\d+)/.exec(err);
      if (code !== 0 || !rss) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      resolve({ ms, maxRssMB: Number(rss[1]) / 1024, stdout: out });
    });
  });
}

/** This package's export or import, in a process of its own (its peak RSS is its own). */
async function side(mode: 'export' | 'import', dialect: string, prefix: string, key: string, file: string, folder: string): Promise<Run> {
  const run = await timedCommand(process.execPath, [SIDE, mode, dialect, prefix, key, file, folder]);
  const last = JSON.parse(run.stdout.trim().split('\n').pop()!) as { ms: number; maxRssMB: number };
  return { ms: last.ms, maxRssMB: last.maxRssMB };
}

/**
 * `exportTenant`/`importTenant` of a tenant of N rows over 5 tables (1M, or
 * 20,000 with --quick) against `pg_dump -n` / `pg_restore` (PostgreSQL,
 * custom format, uncompressed) and `mysqldump` / `mysql` (MariaDB) on the
 * same tenant: throughput (rows/s, wall time of the whole command or
 * process) and peak memory (maxRSS of the process). Each side exports,
 * the tenant is dropped, and it imports its own archive. Memory flat in the
 * size: the export's peak RSS at N against a tenant of N/10.
 */
export const exportCase: BenchCase = {
  id: 'export',
  title: 'tenant export/import',
  dialects: ['postgres', 'mysql'],
  unavailable: migrationsReady,
  async run(ctx) {
    const total = ctx.quick ? 20_000 : 1_000_000;
    const prefix = `${ctx.prefix}x_`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-export-'));
    const folder = path.join(dir, 'migrations');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, '20260101000000-tables.js'), MIGRATION);
    const sequelize = connect(ctx.dialect, { pool: { max: 2 } });
    const apartment = new Apartment(sequelize, { prefix, migrationsPath: folder });
    const pg = ctx.dialect === 'postgres';
    const q = (name: string) => ctx.fixtures.q(name);
    const url = new URL(URLS[ctx.dialect]);
    const mysqlArgs = ['-h', url.hostname, '-P', url.port || '3306', '-u', decodeURIComponent(url.username), ...(url.password ? [`-p${decodeURIComponent(url.password)}`] : [])];

    const fill = async (key: string, rows: number) => {
      if (await apartment.exists(key)) await apartment.dropTenant(key);
      await apartment.createTenant(key);
      const schema = apartment.schemaFor(key);
      const per = Math.ceil(rows / TABLES);
      for (let t = 1; t <= TABLES; t++) {
        const table = `${q(schema)}.${q(`t${t}`)}`;
        await ctx.fixtures.admin.query(
          pg
            ? `INSERT INTO ${table} (name, n, amount, at, body) SELECT 'name ' || g, g, g * 1.25, now() - g * interval '1 second', repeat('x', 60) FROM generate_series(1, ${per}) g`
            : `INSERT INTO ${table} (name, n, amount, at, body) SELECT CONCAT('name ', seq), seq, seq * 1.25, NOW() - INTERVAL seq SECOND, REPEAT('x', 60) FROM seq_1_to_${per}`,
        );
      }
      return per * TABLES;
    };

    const dropSchema = (schema: string) => ctx.fixtures.admin.query(pg ? `DROP SCHEMA IF EXISTS ${q(schema)} CASCADE` : `DROP DATABASE IF EXISTS ${q(schema)}`);

    try {
      ctx.log(`export: filling a tenant of ${total} rows over ${TABLES} tables`);
      const rows = await fill('big', total);
      const schema = apartment.schemaFor('big');

      // This package: export, drop, import.
      const archive = path.join(dir, 'big.archive');
      const aExport = await side('export', ctx.dialect, prefix, 'big', archive, folder);
      await apartment.dropTenant('big');
      const aImport = await side('import', ctx.dialect, prefix, 'big', archive, folder);

      // The server's own tools on the same tenant: dump, drop, restore.
      const dump = path.join(dir, pg ? 'big.pgdump' : 'big.sql');
      let bExport: Run;
      let bImport: Run;
      if (pg) {
        bExport = await timedCommand('pg_dump', ['-d', url.toString(), '-n', schema, '-Fc', '-Z', '0', '-f', dump]);
        await dropSchema(schema);
        bImport = await timedCommand('pg_restore', ['-d', url.toString(), dump]);
      } else {
        bExport = await timedCommand('mysqldump', [...mysqlArgs, '--single-transaction', schema], { stdoutFile: dump });
        await dropSchema(schema);
        await ctx.fixtures.admin.query(`CREATE DATABASE ${q(schema)}`);
        bImport = await timedCommand('mysql', [...mysqlArgs, schema], { stdinFile: dump });
      }

      // Memory flat in the size: the same export of a tenant a tenth the size.
      const small = await fill('small', Math.ceil(total / 10));
      const aSmall = await side('export', ctx.dialect, prefix, 'small', path.join(dir, 'small.archive'), folder);

      const rate = (r: Run) => rows / (r.ms / 1000);
      const tools = pg ? ['pg_dump -n', 'pg_restore'] : ['mysqldump', 'mysql'];
      const sizes = `archive ${(fs.statSync(archive).size / 1024 ** 2).toFixed(0)} MB, ${tools[0]} ${(fs.statSync(dump).size / 1024 ** 2).toFixed(0)} MB`;
      return [
        row(
          { case: 'tenant export', metric: `export, ${rows} rows over ${TABLES} tables (B: ${tools[0]})`, dialect: ctx.dialect, unit: 'rows/s', a: rate(aExport), b: rate(bExport), note: sizes },
          { minRatio: 1.0, text: `A >= B (${tools[0]}'s speed)` },
        ),
        row(
          { case: 'tenant export', metric: `import, ${rows} rows, counts and checksums checked (B: ${tools[1]})`, dialect: ctx.dialect, unit: 'rows/s', a: rate(aImport), b: rate(bImport) },
          { minRatio: 1.0, text: `A >= B (${tools[1]}'s speed)` },
        ),
        row({ case: 'tenant export', metric: `export peak memory (maxRSS; B: ${tools[0]})`, dialect: ctx.dialect, unit: 'MB', a: aExport.maxRssMB, b: bExport.maxRssMB }),
        row({ case: 'tenant export', metric: `import peak memory (maxRSS; B: ${tools[1]})`, dialect: ctx.dialect, unit: 'MB', a: aImport.maxRssMB, b: bImport.maxRssMB }),
        row(
          { case: 'tenant export', metric: `export peak memory at ${rows} rows (A) vs ${small} rows (B)`, dialect: ctx.dialect, unit: 'MB', a: aExport.maxRssMB, b: aSmall.maxRssMB },
          { maxRatio: 1.25, text: 'flat: A/B <= 1.25' },
        ),
      ];
    } finally {
      for (const key of ['big', 'small']) await apartment.dropTenant(key).catch(() => undefined);
      await dropSchema(apartment.schemaFor('big')).catch(() => undefined);
      await sequelize.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
