import { Aggregate } from './aggregate.js';
import type { SaleContribution } from './sale-contribution.js';
import type { WindowSpec } from './window-spec.js';

/**
 * One rolling window of one scope: tumbling buckets keyed by index (event time / bucket width)
 * plus the running total of the buckets that are live at the window's clock.
 *
 * - A sale lands in its bucket; if that bucket is live, also in the running total. A bucket
 *   ahead of the clock (a till whose clock runs slightly fast) waits until the clock reaches it.
 * - `advance(now)` moves the clock: buckets that became live are added to the running total,
 *   those that fell out are subtracted and dropped. So queries read one aggregate, and memory
 *   is at most `buckets` buckets (plus the few ahead of the clock).
 */
export class RollingWindow {
  readonly buckets = new Map<number, Aggregate>();
  running = new Aggregate();
  /** Index of the bucket holding the clock. */
  clock: number;

  constructor(
    readonly spec: WindowSpec,
    nowMs: number,
  ) {
    this.clock = Math.floor(nowMs / spec.bucketMs);
  }

  /** Adds a sale whose bucket index is `index`; false if that bucket has already left the window. */
  add(c: SaleContribution, index: number): boolean {
    if (index <= this.clock - this.spec.buckets) return false;
    let bucket = this.buckets.get(index);
    if (bucket === undefined) {
      bucket = new Aggregate();
      this.buckets.set(index, bucket);
    }
    bucket.apply(c, 1);
    if (index <= this.clock) this.running.apply(c, 1);
    return true;
  }

  /** Adds a whole aggregate of sales whose bucket index is `index` (see add). */
  addAll(agg: Aggregate, index: number): boolean {
    if (index <= this.clock - this.spec.buckets) return false;
    let bucket = this.buckets.get(index);
    if (bucket === undefined) {
      // Sized like the bucket before it: a window's buckets hold similar numbers of keys.
      bucket = new Aggregate(this.buckets.get(index - 1));
      this.buckets.set(index, bucket);
    }
    bucket.merge(agg, 1);
    if (index <= this.clock) this.running.merge(agg, 1);
    return true;
  }

  advance(nowMs: number): void {
    const next = Math.floor(nowMs / this.spec.bucketMs);
    if (next <= this.clock) return;
    const n = this.spec.buckets;
    for (const [index, bucket] of this.buckets) {
      const wasLive = index > this.clock - n && index <= this.clock;
      const isLive = index > next - n && index <= next;
      if (wasLive && !isLive) this.running.merge(bucket, -1);
      else if (!wasLive && isLive) this.running.merge(bucket, 1);
      if (index <= next - n) this.buckets.delete(index);
    }
    this.clock = next;
    // Every figure is exact integer arithmetic, so an empty window is exactly empty; a fresh
    // object just hands back the Map capacity it grew to.
    if (this.buckets.size === 0) this.running = new Aggregate();
    else this.running.compact();
  }

  /** Rebuilds the running total from the buckets (after a snapshot restore). */
  recomputeRunning(): void {
    this.running = new Aggregate();
    for (const [index, bucket] of this.buckets) {
      if (index > this.clock - this.spec.buckets && index <= this.clock) this.running.merge(bucket, 1);
    }
  }
}
