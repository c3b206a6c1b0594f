import type { Row } from './types';

export function formatNumber(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '-';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export function tableLines(rows: Row[]): string[] {
  const header = ['case', 'metric', 'dialect', 'A', 'B', 'unit', 'A/B', 'goal', 'met'];
  const body = rows.map((r) => [
    r.case,
    r.metric,
    r.dialect === 'postgres' ? 'pg' : 'mysql',
    formatNumber(r.a),
    formatNumber(r.b),
    r.unit,
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    r.goal,
    r.met === null ? '-' : r.met ? 'yes' : 'NO',
  ]);
  return [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`);
}

export function printTable(rows: Row[], notes: string[]): void {
  console.log('');
  for (const line of tableLines(rows)) console.log(line);
  for (const note of notes) console.log(`\nnote: ${note}`);
}
