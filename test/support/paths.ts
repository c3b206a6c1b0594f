import * as path from 'node:path';

/** The repository root (tests run compiled from dist/test/...). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
/** A file under test/fixtures (kept as .js, not compiled). */
export function fixture(...parts: string[]): string {
  return path.join(ROOT, 'test', 'fixtures', ...parts);
}
