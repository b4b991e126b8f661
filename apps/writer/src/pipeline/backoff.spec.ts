import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './backoff.js';

describe('backoff', () => {
  it('doubles from the minimum and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffDelay(n, 250, 3000))).toEqual([
      250, 500, 1000, 2000, 3000, 3000, 3000, 3000,
    ]);
  });

  it('treats attempt 0 or below as the first attempt', () => {
    expect(backoffDelay(0, 100, 1000)).toBe(100);
    expect(backoffDelay(-3, 100, 1000)).toBe(100);
  });

  it('ends a sleep at once when its signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const sleeping = sleep(10_000, controller.signal);
    controller.abort();
    await sleeping;
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
