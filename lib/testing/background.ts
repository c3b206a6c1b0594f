import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The kit's own background work (topping up spares, sweeping a dead run's
 * tenants) runs in this context, so the leak check can tell its statements
 * from the ones the code under test sends.
 */
const background = new AsyncLocalStorage<true>();

export function inBackground<T>(fn: () => T): T {
  return background.run(true, fn);
}

export function isBackground(): boolean {
  return background.getStore() === true;
}
