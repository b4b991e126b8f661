import { Aggregate } from './aggregate.js';
import type { WindowSpec } from './window-spec.js';

/**
 * One rolling window of one scope: tumbling buckets keyed by index (event time / bucket width)
 * plus the running total of the buckets that are live at the window's clock.
 *
 * - Sales land in their bucket; if that bucket is live, also in the running total. A bucket
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
  /**
   * The last bucket to leave the window, emptied, for the next one to enter: its tables have the
   * size a bucket needs, and none are allocated (nor their garbage collected) per bucket.
   */
  #spare: Aggregate | undefined = undefined;

  constructor(
    readonly spec: WindowSpec,
    nowMs: number,
  ) {
    this.clock = Math.floor(nowMs / spec.bucketMs);
  }

  /**
   * Adds an aggregate of sales (one event-time slot's, staged by WindowState) whose bucket index
   * is `index`; false if that bucket has already left the window.
   */
  add(agg: Aggregate, index: number): boolean {
    if (index <= this.clock - this.spec.buckets) return false;
    let bucket = this.buckets.get(index);
    if (bucket === undefined) {
      bucket = this.#spare;
      this.#spare = undefined;
      if (bucket === undefined) {
        // Sized like the bucket before it: a window's buckets hold similar numbers of keys.
        bucket = new Aggregate(this.buckets.get(index - 1));
      } else bucket.clear();
      this.buckets.set(index, bucket);
    }
    bucket.merge(agg, 1);
    if (index <= this.clock) this.running.merge(agg, 1);
    return true;
  }

  /**
   * add(), for an aggregate that is exactly bucket `index`'s sales (the window's buckets are as
   * fine as the staging slots): if that bucket does not exist yet, the aggregate becomes it,
   * and what comes back for the caller to reuse is the window's spare bucket instead; otherwise
   * (or if the bucket already left) it is merged or refused as by add() and comes back itself.
   */
  adopt(agg: Aggregate, index: number): Aggregate | undefined {
    if (index <= this.clock - this.spec.buckets || this.buckets.has(index)) {
      this.add(agg, index);
      return agg;
    }
    this.buckets.set(index, agg);
    if (index <= this.clock) this.running.merge(agg, 1);
    const spare = this.#spare;
    this.#spare = undefined;
    return spare;
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
      if (index <= next - n) {
        this.buckets.delete(index);
        this.#spare = bucket;
      }
    }
    this.clock = next;
    // Every figure is exact integer arithmetic, so an empty window is exactly empty; a fresh
    // object just hands back the Map capacity it grew to.
    if (this.buckets.size === 0) this.running = new Aggregate();
    else this.running.compact();
  }

  /** Rebuilds the running total from the buckets: what the incremental one must always equal. */
  recomputeRunning(): void {
    this.running = new Aggregate();
    for (const [index, bucket] of this.buckets) {
      if (index > this.clock - this.spec.buckets && index <= this.clock) this.running.merge(bucket, 1);
    }
  }
}
