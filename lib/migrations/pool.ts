/**
 * Runs `run(item)` for every item, at most `concurrency` at once, in order of
 * the list. `run` handles its own errors (a rejection stops nothing and is
 * rethrown once every started item has settled).
 */
export async function runPool<T>(items: readonly T[], concurrency: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        await run(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker));
  if (failure) throw failure.error;
}
