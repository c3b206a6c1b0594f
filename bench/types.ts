import type { DialectName } from './env';
import type { Fixtures } from './fixtures';
import type { NodeBinary } from './node-versions';

/** One line of the table and of results.json. */
export interface Row {
  case: string;
  metric: string;
  dialect: DialectName;
  unit: string;
  /** This project. */
  a: number | null;
  /** The comparison (the floor, or what users write by hand). */
  b: number | null;
  /** a / b, when both are numbers. */
  ratio: number | null;
  /** Human-readable goal, '-' when the row is reported only. */
  goal: string;
  /** null: reported only, no goal. */
  met: boolean | null;
  note?: string;
}

export interface BenchContext {
  readonly dialect: DialectName;
  readonly quick: boolean;
  /** Every schema/database the bench creates starts with this. */
  readonly prefix: string;
  readonly fixtures: Fixtures;
  /** Node binaries the separate-process cases run their sides on (the running one first). */
  readonly nodes: readonly NodeBinary[];
  /** `--profile <dir>`: the query case writes CPU profiles of its warmed hot loops there instead of timing. */
  readonly profile?: string;
  /** `--scale N`: the tenant count of the fleet case (undefined: its default). */
  readonly scale?: number;
  /** `--v8-flags`: the instruction count's V8 flags instead of its defaults. */
  readonly v8Flags?: readonly string[];
  /** `--ops`: the operations the instruction count counts (default: all). */
  readonly ops?: readonly string[];
  /** `--repeats`: fresh processes per side in the instruction count. */
  readonly repeats?: number;
  /** `--jobs`: counted processes at once in the instruction count. */
  readonly jobs?: number;
  /** `--sides`: only these sides of the instruction count (default: every side of each operation). */
  readonly sides?: readonly string[];
  /** Rows of the results file as it was before this run (empty when there was none): a case may compare with a run just before it. */
  readonly previous: readonly Row[];
  /** Rounds for an interleaved comparison: `full` normally, fewer with --quick. */
  rounds(full: number, quick?: number): number;
  log(message: string): void;
}

export interface BenchCase {
  /** Used by --only. */
  readonly id: string;
  readonly title: string;
  readonly dialects?: readonly DialectName[];
  /** Runs only when named (`--only`, or its own flag): not part of a plain `npm run bench`. */
  readonly optIn?: boolean;
  /** A reason to skip (a feature that has not landed yet), or undefined. */
  unavailable?(): string | undefined;
  run(ctx: BenchContext): Promise<Row[]>;
}

export interface Goal {
  /** met when ratio <= max */
  maxRatio?: number;
  /** met when ratio >= min */
  minRatio?: number;
  /** met when a <= value */
  maxA?: number;
  /** met when a - b <= value (in the row's unit) */
  maxDiff?: number;
  text?: string;
}

export function row(fields: Omit<Row, 'ratio' | 'goal' | 'met'>, goal?: Goal): Row {
  const ratio = fields.a !== null && fields.b !== null && fields.b !== 0 ? fields.a / fields.b : null;
  let met: boolean | null = null;
  let text = '-';
  if (goal) {
    met = true;
    const parts: string[] = [];
    if (goal.maxRatio !== undefined) {
      parts.push(`A/B <= ${goal.maxRatio}`);
      met &&= ratio !== null && ratio <= goal.maxRatio;
    }
    if (goal.minRatio !== undefined) {
      parts.push(`A/B >= ${goal.minRatio}`);
      met &&= ratio !== null && ratio >= goal.minRatio;
    }
    if (goal.maxDiff !== undefined) {
      parts.push(`A - B <= ${goal.maxDiff} ${fields.unit}`);
      met &&= fields.a !== null && fields.b !== null && fields.a - fields.b <= goal.maxDiff;
    }
    if (goal.maxA !== undefined) {
      parts.push(`A <= ${goal.maxA} ${fields.unit}`);
      met &&= fields.a !== null && fields.a <= goal.maxA;
    }
    text = goal.text ?? parts.join(', ');
  }
  return { ...fields, ratio, goal: text, met };
}
