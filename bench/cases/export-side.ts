import { Apartment } from '../../lib';
import { connect, type DialectName } from '../env';

/**
 * One side of the export case in a process of its own, so its peak memory
 * (maxRSS) is its own: `node export-side.js <export|import> <dialect> <prefix> <key> <file> <migrations>`.
 * Prints `{ ms, rows, maxRssMB }` as its last line.
 */
async function main(): Promise<void> {
  const [mode, dialect, prefix, key, file, migrationsPath] = process.argv.slice(2) as [string, DialectName, string, string, string, string];
  const sequelize = connect(dialect, { pool: { max: 2 } });
  try {
    const apartment = new Apartment(sequelize, { prefix, migrationsPath });
    const started = performance.now();
    const result = mode === 'export' ? await apartment.exportTenant(key, file) : await apartment.importTenant(key, file);
    const ms = performance.now() - started;
    process.stdout.write(`${JSON.stringify({ ms, rows: result.rows, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
  } finally {
    await sequelize.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
