import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Starts summing the garbage collector's pauses (milliseconds, every kind). The returned function
 * stops and gives the sum; it yields to the event loop first, because GC entries reach the
 * observer asynchronously, after a synchronous loop has finished.
 */
export function gcTimer(): () => Promise<number> {
  let ms = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) ms += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    observer.disconnect();
    return ms;
  };
}

/** Forces a full collection (twice, so finalizers' garbage goes too) if the process runs with --expose-gc. */
export function forceGc(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return false;
  gc();
  gc();
  return true;
}

export function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}
