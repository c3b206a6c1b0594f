/** Interleaved A/B rounds and medians: the machine is shared and noisy, so ratios are the result. */

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = now();
  await fn();
  return now() - start;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

export interface Interleaved {
  a: number;
  b: number;
  samplesA: number[];
  samplesB: number[];
}

/**
 * Runs `rounds` rounds of A and B; each round function returns its own
 * measurement (ms, or whatever unit) so setup can stay outside it. The order
 * alternates every round (AB, BA, ...) so drift hits both sides alike.
 */
export async function interleave(rounds: number, a: () => Promise<number>, b: () => Promise<number>): Promise<Interleaved> {
  const samplesA: number[] = [];
  const samplesB: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      samplesA.push(await a());
      samplesB.push(await b());
    } else {
      samplesB.push(await b());
      samplesA.push(await a());
    }
  }
  return { a: median(samplesA), b: median(samplesB), samplesA, samplesB };
}

/** Per-operation time of `iterations` sequential calls, in ms. */
export function perOp(iterations: number, fn: (i: number) => Promise<unknown>): () => Promise<number> {
  return async () => {
    const start = now();
    for (let i = 0; i < iterations; i++) await fn(i);
    return (now() - start) / iterations;
  };
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function eachLimit<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index], index);
    }
  });
  await Promise.all(workers);
}

export function gc(): void {
  const collect = (globalThis as any).gc as undefined | (() => void);
  if (!collect) return;
  for (let i = 0; i < 3; i++) collect();
}

export function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}
