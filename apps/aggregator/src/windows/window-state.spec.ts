import type { Sale, SaleInput } from '@tally/contracts';
import { makeStreamSale } from '@tally/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { contributionOf } from './sale-contribution.js';
import {
  COMPANION,
  decodeSnapshot,
  encodeSnapshot,
  SnapshotLayoutError,
  SnapshotLedger,
  SnapshotWriter,
  stateFigures,
} from './snapshot.codec.js';
import { productOf, summaryOf, totalsOf } from './summary.js';
import { WINDOW_NAMES, type WindowName, windowLayout } from './window-spec.js';
import { ALL_BRANCHES, WindowState } from './window-state.js';

// The clock is passed in as plain numbers (no timers), except in the one test that drives
// Date.now() with fake timers. T0 is midnight UTC: a bucket boundary of every window.
const T0 = Date.UTC(2026, 0, 15);
const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const LATENESS = 2 * MIN;
const LAYOUT = windowLayout(60, LATENESS);
const ROLLING: WindowName[] = ['1m', '5m', '15m', '1h', '24h'];

const iso = (ms: number) => new Date(ms).toISOString();

/** A sale that happened at `occurredAtMs` and that ingest accepted at `receivedAtMs`. */
function sale(occurredAtMs: number, receivedAtMs: number, overrides: Partial<SaleInput> = {}): Sale {
  return makeStreamSale(
    {
      occurredAt: iso(occurredAtMs),
      branchId: 'b1',
      customerId: 'c1',
      lines: [{ productId: 'p-apple', category: 'fruit', quantity: 2, unitPrice: '1.25' }],
      ...overrides,
    },
    receivedAtMs,
  );
}

function stateAt(nowMs: number): WindowState {
  return new WindowState(LAYOUT, nowMs);
}

function salesIn(state: WindowState, window: WindowName, branch: string = ALL_BRANCHES): number {
  const view = state.view(window, branch);
  if (view === undefined) throw new Error(`no scope ${branch}`);
  return view.sales;
}

/** Sales counted per window, in WINDOW_NAMES order (1m, 5m, 15m, 1h, 24h, all). */
function counts(state: WindowState, branch: string = ALL_BRANCHES): number[] {
  return WINDOW_NAMES.map((w) => salesIn(state, w, branch));
}

function bucketCount(state: WindowState): number {
  let n = 0;
  for (const scope of state.scopes.values()) for (const w of scope.windows) n += w.buckets.size;
  return n;
}

const ZERO_TOTALS = {
  sales: 0,
  returns: 0,
  units: 0,
  grossRevenue: '0',
  returnedRevenue: '0',
  netRevenue: '0',
  averageBasket: null,
  distinctCustomers: 0,
};

describe('WindowState', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a sale counts in 1m until its bucket leaves, then only in the longer windows, each until its own bucket leaves', () => {
    const state = stateAt(T0 + 31 * SEC);
    expect(state.apply(contributionOf(sale(T0 + 30 * SEC, T0 + 30_500)))).toBe('live');
    expect(counts(state)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(counts(state, 'b1')).toEqual([1, 1, 1, 1, 1, 1]);

    // 1m: bucket 30 of 1 s leaves when the clock reaches bucket 90.
    state.advance(T0 + 89_999);
    expect(counts(state)).toEqual([1, 1, 1, 1, 1, 1]);
    state.advance(T0 + 90_000);
    expect(counts(state)).toEqual([0, 1, 1, 1, 1, 1]);
    // 5m: bucket 6 of 5 s leaves at bucket 66.
    state.advance(T0 + 329_999);
    expect(counts(state)).toEqual([0, 1, 1, 1, 1, 1]);
    state.advance(T0 + 330_000);
    expect(counts(state)).toEqual([0, 0, 1, 1, 1, 1]);
    // 15m: bucket 2 of 15 s leaves at bucket 62.
    state.advance(T0 + 929_999);
    expect(counts(state)).toEqual([0, 0, 1, 1, 1, 1]);
    state.advance(T0 + 930_000);
    expect(counts(state)).toEqual([0, 0, 0, 1, 1, 1]);
    // 1h: bucket 0 of 60 s leaves at bucket 60.
    state.advance(T0 + HOUR - 1);
    expect(counts(state)).toEqual([0, 0, 0, 1, 1, 1]);
    state.advance(T0 + HOUR);
    expect(counts(state)).toEqual([0, 0, 0, 0, 1, 1]);
    // 24h: bucket 0 of 24 min leaves at bucket 60.
    state.advance(T0 + 24 * HOUR - 1);
    expect(counts(state)).toEqual([0, 0, 0, 0, 1, 1]);
    state.advance(T0 + 24 * HOUR);
    expect(counts(state)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(counts(state, 'b1')).toEqual([0, 0, 0, 0, 0, 1]);
    expect(totalsOf(state.view('all')!)).toMatchObject({ sales: 1, grossRevenue: '2.5' });
  });

  it('an out-of-order sale within the lateness lands in its older bucket and expires with it', () => {
    const state = stateAt(T0 + 100 * SEC);
    const recent = sale(T0 + 99 * SEC, T0 + 100 * SEC, { customerId: 'recent' });
    // 55 s old on arrival, within the 2 min lateness, and after a newer sale.
    const older = sale(T0 + 45 * SEC, T0 + 100 * SEC, {
      customerId: 'older',
      lines: [{ productId: 'p-milk', category: 'dairy', quantity: 1, unitPrice: '0.80' }],
    });
    expect(state.apply(contributionOf(recent))).toBe('live');
    expect(state.apply(contributionOf(older))).toBe('live');
    const oneMinute = state.scopes.get(ALL_BRANCHES)!.windows[0]!;
    expect([...oneMinute.buckets.keys()].sort((a, b) => a - b)).toEqual([T0 / SEC + 45, T0 / SEC + 99]);
    expect(totalsOf(state.view('1m')!)).toMatchObject({
      sales: 2,
      grossRevenue: '3.3',
      distinctCustomers: 2,
    });

    state.advance(T0 + 104_999);
    expect(salesIn(state, '1m')).toBe(2);
    state.advance(T0 + 105_000);
    expect(totalsOf(state.view('1m')!)).toMatchObject({
      sales: 1,
      grossRevenue: '2.5',
      distinctCustomers: 1,
    });
    expect(productOf(state.view('1m')!, 'p-milk')).toEqual({
      productId: 'p-milk',
      lines: 0,
      sales: 0,
      units: 0,
      revenue: '0',
    });
    expect([...oneMinute.buckets.keys()]).toEqual([T0 / SEC + 99]);
    expect(productOf(state.view('5m')!, 'p-milk')).toMatchObject({ sales: 1, revenue: '0.8' });

    state.advance(T0 + 159 * SEC);
    expect(salesIn(state, '1m')).toBe(0);
    expect(salesIn(state, '5m')).toBe(2);
  });

  it('a sale exactly at the lateness boundary is live; one millisecond earlier it is late and counts only in all', () => {
    const received = T0 + 10 * MIN;
    const state = stateAt(received);
    const onTheBoundary = sale(received - LATENESS, received, { customerId: 'edge' });
    const justLate = sale(received - LATENESS - 1, received, { customerId: 'late' });

    expect(state.apply(contributionOf(onTheBoundary))).toBe('live');
    // Live, but two minutes back its 1m bucket has already left the window.
    expect(counts(state)).toEqual([0, 1, 1, 1, 1, 1]);

    expect(state.apply(contributionOf(justLate))).toBe('late');
    expect(counts(state)).toEqual([0, 1, 1, 1, 1, 2]);
    expect(counts(state, 'b1')).toEqual([0, 1, 1, 1, 1, 2]);
    expect([...state.view('5m')!.customers.names()]).toEqual(['edge']);
    expect([...state.view('all')!.customers.names()].sort()).toEqual(['edge', 'late']);
  });

  it('a historical sale, days old, stays out of every rolling window but counts in all', () => {
    const received = T0 + 10 * MIN;
    const state = stateAt(received);
    const historical = sale(T0 - 3 * 24 * HOUR, received, {
      branchId: 'b-archive',
      lines: [{ productId: 'p-old', category: 'vintage', quantity: 4, unitPrice: '10' }],
    });
    expect(state.apply(contributionOf(historical))).toBe('late');
    for (const branch of [ALL_BRANCHES, 'b-archive']) {
      for (const w of ROLLING) expect(totalsOf(state.view(w, branch)!)).toEqual(ZERO_TOTALS);
      expect(totalsOf(state.view('all', branch)!)).toMatchObject({ sales: 1, units: 4, grossRevenue: '40' });
      expect(productOf(state.view('all', branch)!, 'p-old')).toEqual({
        productId: 'p-old',
        lines: 1,
        sales: 1,
        units: 4,
        revenue: '40',
      });
    }
    expect(bucketCount(state)).toBe(0);
  });

  it('a return subtracts its revenue and units and nets its customer', () => {
    const state = stateAt(T0 + 30 * SEC);
    const bought = sale(T0 + 10 * SEC, T0 + 10 * SEC, {
      lines: [
        { productId: 'p-apple', category: 'fruit', quantity: 3, unitPrice: '2.00' },
        { productId: 'p-milk', category: 'dairy', quantity: 1, unitPrice: '1.50' },
      ],
    });
    const returned = sale(T0 + 25 * SEC, T0 + 25 * SEC, {
      kind: 'return',
      originalSaleId: bought.saleId,
      lines: [{ productId: 'p-apple', category: 'fruit', quantity: 1, unitPrice: '2.00' }],
    });
    state.apply(contributionOf(bought));
    state.apply(contributionOf(returned));

    const view = state.view('1m')!;
    expect(totalsOf(view)).toEqual({
      sales: 1,
      returns: 1,
      units: 3,
      grossRevenue: '7.5',
      returnedRevenue: '2',
      netRevenue: '5.5',
      averageBasket: '7.5',
      distinctCustomers: 1,
    });
    const summary = summaryOf(view);
    expect(summary.categories).toEqual([
      { category: 'fruit', lines: 1, sales: 1, units: 2, revenue: '4' },
      { category: 'dairy', lines: 1, sales: 1, units: 1, revenue: '1.5' },
    ]);
    expect(productOf(view, 'p-apple')).toEqual({
      productId: 'p-apple',
      lines: 1,
      sales: 1,
      units: 2,
      revenue: '4',
    });
    expect(summary.topCustomers).toEqual([{ customerId: 'c1', sales: 1, revenue: '5.5' }]);

    // Once the sale's bucket has left 1m, only the return remains there: negative figures, no basket.
    state.advance(T0 + 70 * SEC);
    const onlyReturn = state.view('1m')!;
    expect(totalsOf(onlyReturn)).toEqual({
      sales: 0,
      returns: 1,
      units: -1,
      grossRevenue: '0',
      returnedRevenue: '2',
      netRevenue: '-2',
      averageBasket: null,
      distinctCustomers: 1,
    });
    expect(summaryOf(onlyReturn).categories).toEqual([
      { category: 'fruit', lines: 0, sales: 0, units: -1, revenue: '-2' },
    ]);
    expect(summaryOf(onlyReturn).topCustomers).toEqual([{ customerId: 'c1', sales: 0, revenue: '-2' }]);
    expect(productOf(onlyReturn, 'p-milk')).toMatchObject({ units: 0, revenue: '0' });
    // The 5m window still holds both.
    expect(totalsOf(state.view('5m')!).netRevenue).toBe('5.5');
  });

  it('a category counts lines of sales only and receipts once, however many lines hold it', () => {
    const state = stateAt(T0 + 30 * SEC);
    state.apply(
      contributionOf(
        sale(T0 + 10 * SEC, T0 + 10 * SEC, {
          lines: [
            { productId: 'p-apple', category: 'fruit', quantity: 1, unitPrice: '1' },
            { productId: 'p-pear', category: 'fruit', quantity: 2, unitPrice: '1.5' },
            { productId: 'p-apple', category: 'fruit', quantity: 1, unitPrice: '1', discount: '0.5' },
          ],
        }),
      ),
    );
    const view = state.view('1m')!;
    expect(summaryOf(view).categories).toEqual([
      { category: 'fruit', lines: 3, sales: 1, units: 4, revenue: '4.5' },
    ]);
    expect(productOf(view, 'p-apple')).toEqual({
      productId: 'p-apple',
      lines: 2,
      sales: 1,
      units: 2,
      revenue: '1.5',
    });
  });

  it('windows advancing with no traffic drop every figure to zero and hold no buckets or keys', () => {
    const state = stateAt(T0 + 30 * MIN);
    for (let i = 0; i < 40; i++) {
      const at = T0 + 30 * MIN - i * 37 * SEC;
      state.apply(contributionOf(sale(at, at, { branchId: `b${i % 3}`, customerId: `c${i % 5}` })));
    }
    expect(salesIn(state, '1m')).toBeGreaterThan(0);
    expect(salesIn(state, '24h')).toBe(40);
    const allBefore = summaryOf(state.view('all')!);

    state.advance(T0 + 26 * HOUR);
    for (const branch of [ALL_BRANCHES, ...state.branchIds]) {
      for (const w of ROLLING) {
        const view = state.view(w, branch)!;
        expect(totalsOf(view)).toEqual(ZERO_TOTALS);
        expect(view.keyCount).toBe(0);
      }
    }
    expect(bucketCount(state)).toBe(0);
    expect(state.branchIds.sort()).toEqual(['b0', 'b1', 'b2']);
    // Only the all-time aggregates hold anything now.
    let allKeys = 0;
    for (const scope of state.scopes.values()) allKeys += scope.all.keyCount;
    expect(state.keyCount).toBe(allKeys);
    expect(summaryOf(state.view('all')!)).toEqual(allBefore);
  });

  it('a future-dated sale waits in a bucket ahead of the clock and counts in each window once the clock reaches it', () => {
    const now = T0 + 100 * SEC;
    const state = stateAt(now);
    // The till's clock runs 30 s fast: accepted (the skew limit is 60 s), event time ahead of ours.
    expect(state.apply(contributionOf(sale(T0 + 130 * SEC, now)))).toBe('live');
    // 24h's current bucket (0..24 min) already holds 130 s; the other windows' buckets lie ahead.
    expect(counts(state)).toEqual([0, 0, 0, 0, 1, 1]);
    expect(bucketCount(state)).toBe(10); // 5 windows × 2 scopes, all held

    state.advance(T0 + 119_999);
    expect(counts(state)).toEqual([0, 0, 0, 0, 1, 1]);
    state.advance(T0 + 120_000); // 15m bucket 8 (120–135 s) and 1h bucket 2 (120–180 s)
    expect(counts(state)).toEqual([0, 0, 1, 1, 1, 1]);
    state.advance(T0 + 129_999);
    expect(counts(state)).toEqual([0, 0, 1, 1, 1, 1]);
    state.advance(T0 + 130_000); // 1m bucket 130, 5m bucket 26
    expect(counts(state)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(counts(state, 'b1')).toEqual([1, 1, 1, 1, 1, 1]);
    state.advance(T0 + 190_000);
    expect(counts(state)).toEqual([0, 1, 1, 1, 1, 1]);
  });

  it('each branch scope holds its own sales while the overall scope holds every branch', () => {
    const now = T0 + 5 * MIN;
    const state = stateAt(now);
    const at = now - 10 * SEC;
    state.apply(contributionOf(sale(at, now, { branchId: 'north', customerId: 'shared' })));
    state.apply(
      contributionOf(
        sale(at, now, {
          branchId: 'north',
          customerId: 'n-only',
          lines: [{ productId: 'p-bread', category: 'bakery', quantity: 1, unitPrice: '3' }],
        }),
      ),
    );
    state.apply(
      contributionOf(
        sale(at, now, {
          branchId: 'south',
          customerId: 'shared',
          lines: [{ productId: 'p-bread', category: 'bakery', quantity: 5, unitPrice: '3' }],
        }),
      ),
    );

    expect(state.branchIds.sort()).toEqual(['north', 'south']);
    expect(totalsOf(state.view('1m', 'north')!)).toMatchObject({
      sales: 2,
      units: 3,
      grossRevenue: '5.5',
      distinctCustomers: 2,
    });
    expect(totalsOf(state.view('1m', 'south')!)).toMatchObject({
      sales: 1,
      units: 5,
      grossRevenue: '15',
      distinctCustomers: 1,
    });
    // The customer seen in both branches is one customer overall.
    expect(totalsOf(state.view('1m')!)).toMatchObject({
      sales: 3,
      units: 8,
      grossRevenue: '20.5',
      distinctCustomers: 2,
    });
    expect(productOf(state.view('1m')!, 'p-bread')).toEqual({
      productId: 'p-bread',
      lines: 2,
      sales: 2,
      units: 6,
      revenue: '18',
    });
    expect(summaryOf(state.view('1m', 'south')!).categories.map((c) => c.category)).toEqual(['bakery']);
    expect(state.view('1m', 'west')).toBeUndefined();
    expect(state.view('all', 'west')).toBeUndefined();
  });

  it("landing in slices lands one branch's second at a time, says when nothing is left, and a read sees every staged sale either way", () => {
    const now = T0 + 5 * MIN;
    const state = stateAt(now);
    for (const branchId of ['north', 'south', 'east']) {
      state.apply(contributionOf(sale(now - 10 * SEC, now, { branchId })));
      state.apply(contributionOf(sale(now - 20 * SEC, now, { branchId })));
    }
    // The clock's own second is not landed by default: a sale in it stays staged.
    state.apply(contributionOf(sale(now, now, { branchId: 'north' })));
    // A budget of 0 ms lands one branch's second per call: 3 branches × 2 seconds.
    let calls = 1;
    while (!state.land(0)) calls++;
    expect(calls).toBeGreaterThanOrEqual(6);
    expect(state.landedKeyCount).toBeGreaterThan(0);
    expect(state.land(0)).toBe(true);
    expect(counts(state, ALL_BRANCHES)).toEqual([7, 7, 7, 7, 7, 7]);
    expect(counts(state, 'north')).toEqual([3, 3, 3, 3, 3, 3]);
    expect(counts(state, 'south')).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('a branch first seen after the clock moved starts at the current clock', () => {
    const state = stateAt(T0);
    state.advance(T0 + 10 * MIN);
    const now = T0 + 10 * MIN;
    state.apply(contributionOf(sale(now - 5 * SEC, now, { branchId: 'late-opener' })));
    const scope = state.scopes.get('late-opener')!;
    expect(scope.windows.map((w) => w.clock)).toEqual(
      LAYOUT.windows.map((w) => Math.floor(now / w.bucketMs)),
    );
    expect(counts(state, 'late-opener')).toEqual([1, 1, 1, 1, 1, 1]);
    state.advance(now + 56 * SEC);
    expect(counts(state, 'late-opener')).toEqual([0, 1, 1, 1, 1, 1]);
  });

  it('the clock never moves backwards', () => {
    const state = stateAt(T0 + 100 * SEC);
    state.apply(contributionOf(sale(T0 + 99 * SEC, T0 + 100 * SEC)));
    state.advance(T0 + 200 * SEC);
    expect(salesIn(state, '1m')).toBe(0);
    state.advance(T0 + 120 * SEC);
    expect(state.nowMs).toBe(T0 + 200 * SEC);
    expect(salesIn(state, '1m')).toBe(0);
    expect(salesIn(state, '5m')).toBe(1);
  });

  it('with Date.now() driven by fake timers, a sale two seconds old leaves 1m once its bucket is a minute behind', () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0 + 10 * SEC);
    const state = new WindowState(LAYOUT, Date.now());
    // The aggregator's tick: every second it advances the windows to Date.now().
    const tick = setInterval(() => state.advance(Date.now()), SEC);
    try {
      const s = makeStreamSale(
        { occurredAt: iso(Date.now() - 2 * SEC), branchId: 'b1', customerId: 'c1' },
        Date.now(),
      );
      expect(s.receivedAt).toBe(iso(T0 + 10 * SEC));
      expect(state.apply(contributionOf(s))).toBe('live');
      expect(counts(state)).toEqual([1, 1, 1, 1, 1, 1]);

      // Event time T0 + 8 s is bucket 8; it leaves 1m when the clock reaches bucket 68 (T0 + 68 s).
      vi.advanceTimersByTime(57 * SEC);
      expect(state.nowMs).toBe(T0 + 67 * SEC);
      expect(counts(state)).toEqual([1, 1, 1, 1, 1, 1]);
      vi.advanceTimersByTime(SEC);
      expect(state.nowMs).toBe(T0 + 68 * SEC);
      expect(counts(state)).toEqual([0, 1, 1, 1, 1, 1]);

      // A sale made now, well within the window, is counted at once.
      const fresh = makeStreamSale(
        { occurredAt: iso(Date.now()), branchId: 'b2', customerId: 'c2' },
        Date.now(),
      );
      state.apply(contributionOf(fresh));
      expect(counts(state)).toEqual([1, 2, 2, 2, 2, 2]);
      expect(counts(state, 'b2')).toEqual([1, 1, 1, 1, 1, 1]);
      vi.advanceTimersByTime(60 * SEC);
      expect(counts(state)).toEqual([0, 2, 2, 2, 2, 2]);
    } finally {
      clearInterval(tick);
    }
  });
});

describe('snapshots', () => {
  function busyState(): WindowState {
    const state = stateAt(T0 + 20 * MIN);
    for (let i = 0; i < 60; i++) {
      const at = T0 + 20 * MIN - i * 23 * SEC + (i % 4 === 0 ? 40 * SEC : 0);
      const received = T0 + 20 * MIN - (i % 9) * 31 * SEC;
      const overrides: Partial<SaleInput> = {
        branchId: `b${i % 3}`,
        customerId: i % 6 === 0 ? undefined : `c${i % 7}`,
        lines: [
          {
            productId: `p${i % 5}`,
            category: `cat${i % 4}`,
            quantity: 1 + (i % 3),
            unitPrice: `${i}.${i % 10}5`,
          },
        ],
      };
      if (i % 5 === 0) Object.assign(overrides, { kind: 'return', originalSaleId: `orig-${i}` });
      state.apply(contributionOf(sale(Math.min(at, received + 50 * SEC), received, overrides)));
      if (i % 10 === 0) state.advance(T0 + 20 * MIN + i * SEC);
    }
    return state;
  }

  function views(state: WindowState) {
    const out: Record<string, unknown> = {};
    for (const branch of [ALL_BRANCHES, ...state.branchIds]) {
      for (const w of WINDOW_NAMES) {
        const view = state.view(w, branch)!;
        out[`${branch}/${w}`] = {
          summary: summaryOf(view, { topCategories: 10, topProducts: 10, topCustomers: 10 }),
          products: ['p0', 'p1', 'p2', 'p3', 'p4', 'p9'].map((p) => productOf(view, p)),
        };
      }
    }
    return out;
  }

  it('a restored snapshot serves the same figures in every window and scope', () => {
    const state = busyState();
    const restored = decodeSnapshot(encodeSnapshot(state), LAYOUT);
    expect(restored.nowMs).toBe(state.nowMs);
    expect(restored.branchIds).toEqual(state.branchIds);
    expect(views(restored)).toEqual(views(state));
    // Not vacuous: the windows hold different, non-empty figures.
    const oneMinute = totalsOf(state.view('1m')!);
    const fifteen = totalsOf(state.view('15m')!);
    expect(oneMinute.sales + oneMinute.returns).toBeGreaterThan(0);
    expect(fifteen.sales).toBeGreaterThan(oneMinute.sales);
    expect(salesIn(state, 'all')).toBeGreaterThan(fifteen.sales);
  });

  it('a snapshot round trip keeps every figure of every bucket, running total and all-time aggregate', () => {
    const state = busyState();
    const restored = decodeSnapshot(encodeSnapshot(state), LAYOUT);
    expect(views(restored)).toEqual(views(state));
    expect(stateFigures(restored)).toEqual(stateFigures(state));
    // Encoding the restored state again gives the same figures once more.
    expect(stateFigures(decodeSnapshot(encodeSnapshot(restored), LAYOUT))).toEqual(stateFigures(state));
  });

  it('a restored state rolls on exactly like the original', () => {
    const state = busyState();
    const restored = decodeSnapshot(encodeSnapshot(state), LAYOUT);
    const next = sale(T0 + 21 * MIN, T0 + 21 * MIN, { branchId: 'b1', customerId: 'c-new' });
    for (const s of [state, restored]) {
      s.apply(contributionOf(next));
      s.advance(T0 + 23 * MIN);
    }
    expect(views(restored)).toEqual(views(state));
    state.advance(T0 + 30 * HOUR);
    restored.advance(T0 + 30 * HOUR);
    expect(views(restored)).toEqual(views(state));
    expect(bucketCount(restored)).toBe(0);
  });

  /** A checkpoint as the service takes it, with the objects kept in `store`; returns the writer. */
  function checkpoint(
    state: WindowState,
    ledger: SnapshotLedger,
    store: Map<string, Uint8Array>,
    name: string,
    during?: () => void,
  ) {
    const writer = SnapshotWriter.begin(state, ledger);
    const atBegin = stateFigures(state);
    during?.();
    writer.step(Number.POSITIVE_INFINITY);
    writer.release();
    const bytes = Buffer.concat(writer.chunks());
    store.set(name, bytes);
    const companion = Buffer.concat(writer.companionChunks()!);
    writer.commit(name);
    for (const key of [...store.keys()])
      if (key !== name && !writer.references.includes(key)) store.delete(key);
    const earlier = new Map([...[...store].filter(([key]) => key !== name), [COMPANION, companion] as const]);
    expect(stateFigures(decodeSnapshot(bytes, LAYOUT, earlier))).toEqual(atBegin);
    lastEarlier = earlier;
    return writer;
  }
  let lastEarlier = new Map<string, Uint8Array>();

  it('an incremental checkpoint writes only the aggregates changed since the last, and what changed while one was encoded is written by the next', () => {
    const state = busyState();
    const ledger = new SnapshotLedger(1);
    const store = new Map<string, Uint8Array>();
    const first = checkpoint(state, ledger, store, 'one');
    expect(first.referring).toBe(0);
    // Nothing changed: only the running and all-time totals are written (they always are).
    const second = checkpoint(state, ledger, store, 'two');
    const totals = state.scopes.size * (1 + LAYOUT.windows.length);
    expect(second.encoding).toBe(totals);
    expect(second.references).toEqual(['one']);
    // One branch sells, and again while the third checkpoint is being encoded: the third writes
    // that branch as it was at its begin, the fourth writes it again (with the second sale).
    state.apply(contributionOf(sale(state.nowMs - 2_000, state.nowMs, { branchId: 'b1' })));
    const third = checkpoint(state, ledger, store, 'three', () => {
      state.apply(contributionOf(sale(state.nowMs - 1_000, state.nowMs, { branchId: 'b1' })));
      state.flush();
    });
    expect(third.encoding).toBeGreaterThan(totals);
    const fourth = checkpoint(state, ledger, store, 'four');
    expect(fourth.encoding).toBeGreaterThan(totals);
    expect(fourth.referring).toBeGreaterThan(fourth.encoding - totals);
    expect(stateFigures(decodeSnapshot(store.get('four')!, LAYOUT, lastEarlier))).toEqual(
      stateFigures(state),
    );
  });

  it('a snapshot taken under another window layout is refused', () => {
    const snapshot = encodeSnapshot(busyState());
    expect(() => decodeSnapshot(snapshot, windowLayout(12, LATENESS))).toThrow(SnapshotLayoutError);
    expect(() => decodeSnapshot(snapshot, windowLayout(60, LATENESS + 1))).toThrow(SnapshotLayoutError);
    expect(() => decodeSnapshot(snapshot, windowLayout(60, LATENESS))).not.toThrow();
  });
});

describe('snapshot bytes', () => {
  it('encodeSnapshot writes a JSON header line naming every scope, then the figures; decodeSnapshot restores them', async () => {
    const { encodeSnapshot, decodeSnapshot } = await import('./snapshot.codec.js');
    const { windowLayout } = await import('./window-spec.js');
    const { WindowState } = await import('./window-state.js');
    const { contributionOf } = await import('./sale-contribution.js');
    const { summaryOf } = await import('./summary.js');
    const { makeStreamSale } = await import('@tally/testing');
    const now = Date.parse('2026-11-21T12:00:00Z');
    const layout = windowLayout(60, 300_000);
    const state = new WindowState(layout, now);
    for (const [i, branchId] of ['b-1', 'b-2', 'b-1'].entries()) {
      state.apply(
        contributionOf(
          makeStreamSale(
            { saleId: `snap-${i}`, branchId, occurredAt: new Date(now - 1000).toISOString() },
            now,
          ),
        ),
      );
    }
    const bytes = encodeSnapshot(state);
    const header = JSON.parse(new TextDecoder().decode(bytes[0]!));
    expect(header.scopes.map((s: { id: string }) => s.id).sort()).toEqual(['*', 'b-1', 'b-2']);
    expect(bytes[0]!.length % 8).toBe(0);
    const restored = decodeSnapshot(bytes, layout);
    for (const scope of ['*', 'b-1', 'b-2']) {
      for (const window of ['1m', '24h', 'all'] as const) {
        expect(summaryOf(restored.view(window, scope)!)).toEqual(summaryOf(state.view(window, scope)!));
      }
    }
  });

  it('keeps all-time counts beyond 32 bits exact: such a table is written as float64s, the others as int32s', async () => {
    const { encodeSnapshot, decodeSnapshot, stateFigures } = await import('./snapshot.codec.js');
    const { windowLayout } = await import('./window-spec.js');
    const { WindowState } = await import('./window-state.js');
    const layout = windowLayout(60, 300_000);
    const state = new WindowState(layout, Date.parse('2026-11-21T12:00:00Z'));
    const all = state.scope('b-1').all;
    all.products.set('busy', {
      refs: 2 ** 33,
      lines: 2 ** 34 + 1,
      sales: 2 ** 33,
      units: -(2 ** 35),
      lo: 5,
      hi: 2 ** 32,
    });
    all.products.set('quiet', { refs: 1, lines: 1, sales: 1, units: 3, lo: 2 ** 40 - 1, hi: -7 });
    all.customers.set('c-1', { refs: 1, sales: 1, lo: 12_345, hi: 0 });
    const restored = decodeSnapshot(encodeSnapshot(state), layout);
    expect(stateFigures(restored)).toEqual(stateFigures(state));
    expect(restored.scope('b-1').all.products.get('busy')).toEqual(all.products.get('busy'));
    expect(restored.scope('b-1').all.products.get('quiet')).toEqual(all.products.get('quiet'));
  });
});
