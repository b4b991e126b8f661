import { Aggregate } from './aggregate.js';
import { RollingWindow } from './rolling-window.js';
import type { SaleContribution } from './sale-contribution.js';
import type { WindowLayout, WindowName } from './window-spec.js';

/** The scope of all branches together; branch scopes are keyed by branchId. */
export const ALL_BRANCHES = '*';

export interface Scope {
  readonly windows: RollingWindow[];
  readonly all: Aggregate;
}

/** The pending slot of sales that only count in `all`. */
const LATE = Number.NEGATIVE_INFINITY;

/** What happened to one sale: it entered the rolling windows, or it was late (all-time only). */
export type ApplyOutcome = 'live' | 'late';

/**
 * Every figure the aggregator serves: per scope (all branches, and each branch) one
 * RollingWindow per window in the layout, plus the all-time aggregate.
 *
 * Pure and synchronous: the clock is passed in (`advance(now)`), so tests drive time by hand
 * and a restored snapshot replays to exactly the same state.
 */
export class WindowState {
  readonly #scopes = new Map<string, Scope>();
  /** The clock the windows were last advanced to. */
  nowMs: number;
  /**
   * Sales applied since the last flush, per slot (event time / the smallest bucket width, which
   * divides every bucket width; LATE for sales outside the rolling windows) and branch. One small
   * aggregate takes each sale, instead of every bucket, running total and all-time total of two
   * scopes (22 aggregates): sales close in time share keys, so landing merges far fewer rows
   * than the sales had, into tables that are mostly out of the CPU's caches. The all-branches
   * scope is not staged per sale: landing a slot sums its branches' staged aggregates
   * (`#allOf`), which holds far fewer rows than the slot's sales when traffic is dense, and
   * lands that sum.
   */
  readonly #pending = new Map<number, Map<string, Aggregate>>();
  /** Per slot being landed: the sum of its branches landed so far, landed in the all-branches scope last. */
  readonly #allOf = new Map<number, Aggregate>();
  /**
   * The smallest bucket width, which divides every other: the staging slot, and the finest step
   * by which the figures move with the clock.
   */
  readonly slotMs: number;
  /**
   * Emptied staging aggregates, reused: their tables have grown to a typical slot's keys. Two
   * pools, since a slot of all branches holds far more keys than one branch's.
   */
  readonly #spare: Aggregate[] = [];
  readonly #spareAll: Aggregate[] = [];

  constructor(
    readonly layout: WindowLayout,
    nowMs: number,
  ) {
    this.nowMs = nowMs;
    this.slotMs = Math.min(...layout.windows.map((w) => w.bucketMs));
    this.scope(ALL_BRANCHES);
  }

  apply(c: SaleContribution): ApplyOutcome {
    const late = c.occurredAtMs < c.receivedAtMs - this.layout.allowedLatenessMs;
    const slot = late ? LATE : Math.floor(c.occurredAtMs / this.slotMs);
    this.#pend(c.branchId, slot).apply(c, 1);
    return late ? 'late' : 'live';
  }

  /**
   * Lands every staged sale in the windows: each staged slot is merged once into its bucket of
   * every window (and that window's running total when the bucket is live) and into `all`.
   * Called before any read and before a snapshot, so the figures are exactly those of applying
   * each sale on arrival.
   *
   * Landing may come after the clock moved past the slot: it gives the same figures, since
   * RollingWindow.add puts a bucket that is live at the window's clock into the running total
   * and refuses one that already left (which adding first and expiring after would also give).
   */
  flush(): void {
    this.land(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  /**
   * Lands staged slots before `beforeSlot` (by default the clock's slot, which still gathers
   * sales) for about `budgetMs`. The service lands a little after each batch, so the landing of
   * a busy second is spread over the next one instead of stopping the aggregator once a second.
   * True when nothing staged before `beforeSlot` is left.
   */
  land(budgetMs: number, beforeSlot: number = Math.floor(this.nowMs / this.slotMs)): boolean {
    const until = performance.now() + budgetMs;
    for (const [slot, branches] of this.#pending) {
      if (slot >= beforeSlot) continue;
      let all = this.#allOf.get(slot);
      for (const [branchId, agg] of branches) {
        if (all === undefined) {
          all = this.#spareAll.pop() ?? new Aggregate();
          this.#allOf.set(slot, all);
        }
        all.merge(agg, 1);
        branches.delete(branchId);
        this.#landSlot(this.scope(branchId), slot, agg, this.#spare);
        if (performance.now() >= until) return false;
      }
      this.#pending.delete(slot);
      if (all !== undefined) {
        this.#allOf.delete(slot);
        this.#landSlot(this.scope(ALL_BRANCHES), slot, all, this.#spareAll);
      }
      if (performance.now() >= until) return false;
    }
    return true;
  }

  /**
   * Merges one staged slot into `all` and, unless late, its bucket of every window, then
   * recycles it into `pool`. The finest window's bucket is the slot itself: where that bucket is new, the
   * window adopts the staged aggregate instead of copying it, and hands back a spare.
   */
  #landSlot(scope: Scope, slot: number, agg: Aggregate, pool: Aggregate[]): void {
    scope.all.merge(agg, 1);
    let recycled: Aggregate | undefined = agg;
    if (slot !== LATE) {
      const occurredMs = slot * this.slotMs;
      for (let w = scope.windows.length - 1; w >= 0; w--) {
        const window = scope.windows[w]!;
        const index = Math.floor(occurredMs / window.spec.bucketMs);
        if (window.spec.bucketMs === this.slotMs) recycled = window.adopt(agg, index);
        else window.add(agg, index);
      }
    }
    if (recycled === undefined) return;
    recycled.clear();
    pool.push(recycled);
  }

  #pend(branchId: string, slot: number): Aggregate {
    let branches = this.#pending.get(slot);
    if (branches === undefined) {
      branches = new Map();
      this.#pending.set(slot, branches);
    }
    let agg = branches.get(branchId);
    if (agg === undefined) {
      agg = this.#spare.pop() ?? new Aggregate();
      branches.set(branchId, agg);
      this.scope(branchId);
    }
    return agg;
  }

  /**
   * Moves every window's clock to `nowMs` (never backwards); staged sales stay staged (see
   * flush). Within the same slot no window moves: every bucket width is a multiple of the slot.
   */
  advance(nowMs: number): void {
    if (nowMs <= this.nowMs) return;
    const moved = Math.floor(nowMs / this.slotMs) !== Math.floor(this.nowMs / this.slotMs);
    this.nowMs = nowMs;
    if (!moved) return;
    for (const scope of this.#scopes.values()) {
      for (const window of scope.windows) window.advance(nowMs);
    }
  }

  /** The figures of one window and scope, or undefined for a branch never seen. */
  view(window: WindowName, branchId: string = ALL_BRANCHES): Aggregate | undefined {
    this.flush();
    const scope = this.#scopes.get(branchId);
    if (scope === undefined) return undefined;
    if (window === 'all') return scope.all;
    const index = this.layout.windows.findIndex((w) => w.name === window);
    return scope.windows[index]?.running;
  }

  /** Every scope, pending sales landed first. */
  get scopes(): ReadonlyMap<string, Scope> {
    this.flush();
    return this.#scopes;
  }

  get branchIds(): string[] {
    return [...this.#scopes.keys()].filter((id) => id !== ALL_BRANCHES);
  }

  /** Entries held across every bucket and total: the measure of memory. */
  get keyCount(): number {
    this.flush();
    return this.landedKeyCount;
  }

  /** keyCount without landing the staged sales first (a metric, read every second). */
  get landedKeyCount(): number {
    let n = 0;
    for (const scope of this.#scopes.values()) {
      n += scope.all.keyCount;
      for (const w of scope.windows) {
        n += w.running.keyCount;
        for (const b of w.buckets.values()) n += b.keyCount;
      }
    }
    return n;
  }

  scope(id: string): Scope {
    let scope = this.#scopes.get(id);
    if (scope === undefined) {
      scope = {
        windows: this.layout.windows.map((spec) => new RollingWindow(spec, this.nowMs)),
        all: new Aggregate(),
      };
      this.#scopes.set(id, scope);
    }
    return scope;
  }
}
