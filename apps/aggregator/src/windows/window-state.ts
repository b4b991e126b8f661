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
  readonly scopes = new Map<string, Scope>();
  /** The clock the windows were last advanced to. */
  nowMs: number;

  constructor(
    readonly layout: WindowLayout,
    nowMs: number,
  ) {
    this.nowMs = nowMs;
    this.scope(ALL_BRANCHES);
  }

  apply(c: SaleContribution): ApplyOutcome {
    const overall = this.scope(ALL_BRANCHES);
    const branch = this.scope(c.branchId);
    overall.all.apply(c, 1);
    branch.all.apply(c, 1);
    if (c.occurredAtMs < c.receivedAtMs - this.layout.allowedLatenessMs) return 'late';
    const specs = this.layout.windows;
    for (let i = 0; i < specs.length; i++) {
      const index = Math.floor(c.occurredAtMs / specs[i]!.bucketMs);
      overall.windows[i]!.add(c, index);
      branch.windows[i]!.add(c, index);
    }
    return 'live';
  }

  /** Moves every window's clock to `nowMs` (never backwards). */
  advance(nowMs: number): void {
    if (nowMs <= this.nowMs) return;
    this.nowMs = nowMs;
    for (const scope of this.scopes.values()) {
      for (const window of scope.windows) window.advance(nowMs);
    }
  }

  /** The figures of one window and scope, or undefined for a branch never seen. */
  view(window: WindowName, branchId: string = ALL_BRANCHES): Aggregate | undefined {
    const scope = this.scopes.get(branchId);
    if (scope === undefined) return undefined;
    if (window === 'all') return scope.all;
    const index = this.layout.windows.findIndex((w) => w.name === window);
    return scope.windows[index]?.running;
  }

  get branchIds(): string[] {
    return [...this.scopes.keys()].filter((id) => id !== ALL_BRANCHES);
  }

  /** Entries held across every bucket and total: the measure of memory. */
  get keyCount(): number {
    let n = 0;
    for (const scope of this.scopes.values()) {
      n += scope.all.keyCount;
      for (const w of scope.windows) {
        n += w.running.keyCount;
        for (const b of w.buckets.values()) n += b.keyCount;
      }
    }
    return n;
  }

  scope(id: string): Scope {
    let scope = this.scopes.get(id);
    if (scope === undefined) {
      scope = {
        windows: this.layout.windows.map((spec) => new RollingWindow(spec, this.nowMs)),
        all: new Aggregate(),
      };
      this.scopes.set(id, scope);
    }
    return scope;
  }
}
