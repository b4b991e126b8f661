import type { Sale, SaleInput } from '@tally/contracts';
import { makeStreamSale } from '@tally/testing';
import { describe, expect, it } from 'vitest';
import { Aggregate } from './aggregate.js';
import { RollingWindow } from './rolling-window.js';
import { contributionOf } from './sale-contribution.js';
import { summaryOf, totalsOf } from './summary.js';
import { type WindowSpec, windowLayout } from './window-spec.js';

// The clock is a plain number passed to the window: every instant below is chosen by hand.
// T0 is midnight UTC, so it is a bucket boundary of every window in the layout.
const T0 = Date.UTC(2026, 0, 15);
const SEC = 1_000;
const LAYOUT = windowLayout(60, 120 * SEC);
const ONE_MINUTE: WindowSpec = LAYOUT.windows[0]!;
const FIVE_MINUTES: WindowSpec = LAYOUT.windows[1]!;

function saleAt(occurredAtMs: number, overrides: Partial<SaleInput> = {}, receivedAtMs = occurredAtMs): Sale {
  return makeStreamSale(
    {
      occurredAt: new Date(occurredAtMs).toISOString(),
      customerId: 'c1',
      lines: [{ productId: 'p1', category: 'fruit', quantity: 2, unitPrice: '1.25' }],
      ...overrides,
    },
    receivedAtMs,
  );
}

/** Adds a sale the way WindowState does: at the bucket of its event time. */
function add(window: RollingWindow, sale: Sale): boolean {
  const c = contributionOf(sale);
  const one = new Aggregate();
  one.apply(c, 1);
  return window.add(one, Math.floor(c.occurredAtMs / window.spec.bucketMs));
}

describe('RollingWindow', () => {
  it('the layout cuts each window into equal tumbling buckets', () => {
    expect(LAYOUT.windows.map((w) => [w.name, w.bucketMs, w.buckets])).toEqual([
      ['1m', 1_000, 60],
      ['5m', 5_000, 60],
      ['15m', 15_000, 60],
      ['1h', 60_000, 60],
      ['24h', 1_440_000, 60],
    ]);
    expect(() => windowLayout(7, 0)).toThrow(/do not divide/);
    expect(() => windowLayout(60, 86_400_001)).toThrow(/lateness/);
  });

  it('a sale in a live bucket counts at once and leaves exactly when its bucket falls out of the window', () => {
    const w = new RollingWindow(ONE_MINUTE, T0 + 10 * SEC);
    expect(add(w, saleAt(T0 + 9_500))).toBe(true);
    expect(totalsOf(w.running)).toMatchObject({
      sales: 1,
      units: 2,
      grossRevenue: '2.5',
      distinctCustomers: 1,
    });
    // Bucket 9 (of T0) stays while the clock's bucket is at most 9 + 59.
    w.advance(T0 + 68_999);
    expect(w.running.sales).toBe(1);
    expect([...w.buckets.keys()]).toEqual([T0 / SEC + 9]);
    w.advance(T0 + 69_000);
    expect(totalsOf(w.running)).toMatchObject({
      sales: 0,
      units: 0,
      grossRevenue: '0',
      distinctCustomers: 0,
    });
    expect(w.buckets.size).toBe(0);
  });

  it('an out-of-order sale lands in its older bucket and expires before the newer sales', () => {
    const w = new RollingWindow(ONE_MINUTE, T0 + 100 * SEC);
    add(w, saleAt(T0 + 99 * SEC, { customerId: 'new' }));
    add(w, saleAt(T0 + 45 * SEC, { customerId: 'old' }));
    expect([...w.buckets.keys()].sort((a, b) => a - b)).toEqual([T0 / SEC + 45, T0 / SEC + 99]);
    expect(w.running.sales).toBe(2);
    w.advance(T0 + 104_999);
    expect(w.running.sales).toBe(2);
    w.advance(T0 + 105_000);
    expect(w.running.sales).toBe(1);
    expect([...w.running.customers.names()]).toEqual(['new']);
    expect([...w.buckets.keys()]).toEqual([T0 / SEC + 99]);
    w.advance(T0 + 159_000);
    expect(w.running.sales).toBe(0);
    expect(w.buckets.size).toBe(0);
  });

  it('a sale whose bucket has already left the window is refused and leaves no bucket behind', () => {
    const w = new RollingWindow(ONE_MINUTE, T0 + 100 * SEC);
    // Bucket 40 is the first one outside (40, 100].
    expect(add(w, saleAt(T0 + 40_999, {}, T0 + 100 * SEC))).toBe(false);
    expect(w.buckets.size).toBe(0);
    expect(w.running.sales).toBe(0);
    // Bucket 41 is the oldest one inside.
    expect(add(w, saleAt(T0 + 41_000, {}, T0 + 100 * SEC))).toBe(true);
    expect(w.running.sales).toBe(1);
  });

  it('a bucket ahead of the clock is held but counts only once the clock reaches it', () => {
    const w = new RollingWindow(FIVE_MINUTES, T0 + 100 * SEC);
    expect(add(w, saleAt(T0 + 130 * SEC, {}, T0 + 100 * SEC))).toBe(true);
    expect(w.buckets.has((T0 + 130 * SEC) / FIVE_MINUTES.bucketMs)).toBe(true);
    expect(w.running.sales).toBe(0);
    w.advance(T0 + 129_999);
    expect(w.running.sales).toBe(0);
    w.advance(T0 + 130_000);
    expect(totalsOf(w.running)).toMatchObject({ sales: 1, grossRevenue: '2.5' });
    // ...and from then on it rolls out like any other bucket: 60 buckets of 5 s later.
    w.advance(T0 + 429_999);
    expect(w.running.sales).toBe(1);
    w.advance(T0 + 430_000);
    expect(w.running.sales).toBe(0);
    expect(w.buckets.size).toBe(0);
  });

  it('a bucket ahead of the clock that the clock jumps past is dropped without ever counting', () => {
    const w = new RollingWindow(ONE_MINUTE, T0);
    add(w, saleAt(T0 + 30 * SEC, {}, T0));
    w.advance(T0 + 10 * 60 * SEC);
    expect(w.running.sales).toBe(0);
    expect(w.running.keyCount).toBe(0);
    expect(w.buckets.size).toBe(0);
  });

  it('with no traffic the window empties: running total zero, no keys, no buckets', () => {
    const w = new RollingWindow(ONE_MINUTE, T0 + 60 * SEC);
    for (let s = 1; s <= 60; s++) add(w, saleAt(T0 + s * SEC, { customerId: `c${s % 7}` }));
    expect(w.running.sales).toBe(60);
    expect(w.running.customers.size).toBe(7);
    w.advance(T0 + 90 * SEC);
    expect(w.running.sales).toBe(30);
    expect(w.buckets.size).toBe(30);
    w.advance(T0 + 121 * SEC);
    expect(totalsOf(w.running)).toEqual({
      sales: 0,
      returns: 0,
      units: 0,
      grossRevenue: '0',
      returnedRevenue: '0',
      netRevenue: '0',
      averageBasket: null,
      distinctCustomers: 0,
    });
    expect(w.running.keyCount).toBe(0);
    expect(w.buckets.size).toBe(0);
  });

  it('the clock never moves backwards', () => {
    const w = new RollingWindow(ONE_MINUTE, T0 + 100 * SEC);
    add(w, saleAt(T0 + 100 * SEC));
    w.advance(T0 + 50 * SEC);
    expect(w.clock).toBe(T0 / SEC + 100);
    expect(w.running.sales).toBe(1);
    // A sale refused at the real clock stays refused: going back did not reopen its bucket.
    expect(add(w, saleAt(T0 + 30 * SEC, {}, T0 + 100 * SEC))).toBe(false);
  });

  it('recomputing the running total from the buckets gives the same figures as keeping it', () => {
    const w = new RollingWindow(ONE_MINUTE, T0 + 30 * SEC);
    for (let s = 0; s < 50; s++) add(w, saleAt(T0 + s * 1_700, { customerId: `c${s % 5}` }));
    add(
      w,
      saleAt(T0 + 20 * SEC, {
        kind: 'return',
        originalSaleId: 'x-1',
        customerId: 'c3',
        lines: [{ productId: 'p1', category: 'fruit', quantity: 1, unitPrice: '1.25' }],
      }),
    );
    w.advance(T0 + 95 * SEC);
    const kept = totalsOf(w.running);
    const keptCustomers = w.running.customers.toMap();
    w.recomputeRunning();
    expect(totalsOf(w.running)).toEqual(kept);
    expect(w.running.customers.toMap()).toEqual(keptCustomers);
    expect(kept.sales).toBeGreaterThan(0);
  });
});

describe('Aggregate', () => {
  it('removing a sale undoes adding it exactly, and keys no sale touches any more disappear', () => {
    const agg = new Aggregate();
    const kept = contributionOf(saleAt(T0, { customerId: 'kept' }));
    agg.apply(kept, 1);
    const before = summaryOf(agg);
    const extra = [
      saleAt(T0, {
        customerId: 'gone',
        lines: [
          { productId: 'p9', category: 'toys', quantity: 1, unitPrice: '99999999999.9999' },
          { productId: 'p9', category: 'toys', quantity: 1, unitPrice: '99999999999.9999' },
          { productId: 'p1', category: 'fruit', quantity: 1, unitPrice: '0.5' },
        ],
      }),
      saleAt(T0, {
        kind: 'return',
        originalSaleId: 'x-1',
        customerId: 'kept',
        lines: [{ productId: 'p8', category: 'garden', quantity: 1, unitPrice: '4' }],
      }),
    ].map(contributionOf);
    for (const c of extra) agg.apply(c, 1);
    expect(agg.customers.has('gone')).toBe(true);
    expect(agg.products.has('p8')).toBe(true);
    for (const c of extra.toReversed()) agg.apply(c, -1);
    expect(summaryOf(agg)).toEqual(before);
    expect([...agg.customers.names()]).toEqual(['kept']);
    expect([...agg.products.names()]).toEqual(['p1']);
    expect([...agg.categories.names()]).toEqual(['fruit']);
    agg.apply(kept, -1);
    expect(agg.keyCount).toBe(0);
    expect(totalsOf(agg).grossRevenue).toBe('0');
  });

  it('merging a bucket out of a window undoes merging it in, and drops its keys', () => {
    const bucket = new Aggregate();
    for (let i = 0; i < 5; i++) bucket.apply(contributionOf(saleAt(T0, { customerId: `c${i % 2}` })), 1);
    const window = new Aggregate();
    window.apply(
      contributionOf(
        saleAt(T0, {
          customerId: 'other',
          lines: [{ productId: 'p2', category: 'dairy', quantity: 1, unitPrice: '3' }],
        }),
      ),
      1,
    );
    const before = summaryOf(window);
    window.merge(bucket, 1);
    expect(totalsOf(window)).toMatchObject({ sales: 6, distinctCustomers: 3, grossRevenue: '15.5' });
    window.merge(bucket, -1);
    expect(summaryOf(window)).toEqual(before);
    expect([...window.customers.names()]).toEqual(['other']);
    expect([...window.products.names()]).toEqual(['p2']);
  });
});
