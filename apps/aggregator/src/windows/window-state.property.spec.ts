import { fromUnits, type Sale, type SaleInput, type SaleLineInput, toUnits } from '@tally/contracts';
import { makeStreamSale } from '@tally/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { contributionOf } from './sale-contribution.js';
import {
  COMPANION,
  DEFAULT_MAX_GARBAGE,
  decodeSnapshot,
  SnapshotLedger,
  SnapshotWriter,
  snapshotReferences,
  stateFigures,
} from './snapshot.codec.js';
import { DEFAULT_LIMITS, productOf, type SummaryLimits, summaryOf, totalsOf } from './summary.js';
import { WINDOW_NAMES, type WindowName, windowLayout } from './window-spec.js';
import { ALL_BRANCHES, WindowState } from './window-state.js';

// The engine against a brute-force oracle. The oracle below never calls the engine: it walks the
// raw sales with bigint decimals (toUnits) and decides window membership from the rule alone.
//
// Membership rule, at the final clock F: a sale counts in a rolling window iff it is live
// (occurredAt ≥ receivedAt − lateness) and its bucket index i = ⌊occurredAt / bucketMs⌋ lies in
// (⌊F / bucketMs⌋ − buckets, ⌊F / bucketMs⌋]. The engine decides at apply time, at clock A ≤ F:
// it refuses i ≤ ⌊A/b⌋ − n, keeps the rest and drops a bucket once i ≤ ⌊clock/b⌋ − n. With a
// monotone clock ⌊A/b⌋ ≤ ⌊F/b⌋, so i > ⌊F/b⌋ − n implies i > ⌊A/b⌋ − n (never refused, never
// dropped), and i ≤ ⌊F/b⌋ − n means refused or dropped by F: both are "not counted". Buckets
// ahead of the clock (i > ⌊F/b⌋) are held but not counted. Hence the rule at F alone suffices.

const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const BUCKETS = 6;
const LATENESS = 30 * SEC;
const LAYOUT = windowLayout(BUCKETS, LATENESS);
const BASE = Date.UTC(2026, 0, 15, 8);

/** Window widths, restated here rather than read from the engine's layout. */
const WIDTH_MS: Record<Exclude<WindowName, 'all'>, number> = {
  '1m': MIN,
  '5m': 5 * MIN,
  '15m': 15 * MIN,
  '1h': HOUR,
  '24h': DAY,
};

const BRANCHES = ['north', 'south', 'east'] as const;
const CATEGORIES = ['fruit', 'dairy', 'bakery', 'drinks'] as const;
const PRODUCTS = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'] as const;
const CUSTOMERS = ['c1', 'c2', 'c3', 'c4'] as const;
const MAX_LINE_UNITS = 999_999_999_999_999;
const SMALL_LIMITS: SummaryLimits = { topCategories: 2, topProducts: 3, topCustomers: 2 };

// ---------------------------------------------------------------------------------------------
// Generators

const lineArb = fc
  .record({
    productId: fc.constantFrom(...PRODUCTS),
    category: fc.constantFrom(...CATEGORIES),
    size: fc.oneof(
      {
        weight: 12,
        arbitrary: fc.record({
          quantity: fc.integer({ min: 1, max: 5 }),
          price: fc.integer({ min: 0, max: 50_000 }),
        }),
      },
      // Now and then a line at or near the maximum, so sums pass 2^53 units.
      {
        weight: 3,
        arbitrary: fc.record({
          quantity: fc.constant(1),
          price: fc.integer({ min: 0, max: 10_000 }).map((n) => MAX_LINE_UNITS - n),
        }),
      },
    ),
    discountPercent: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }) },
    ),
  })
  .map(({ productId, category, size, discountPercent }): SaleLineInput => {
    const line: SaleLineInput = {
      productId,
      category,
      quantity: size.quantity,
      unitPrice: fromUnits(BigInt(size.price)),
    };
    if (discountPercent !== undefined) {
      line.discount = fromUnits(
        (BigInt(size.price) * BigInt(size.quantity) * BigInt(discountPercent)) / 100n,
      );
    }
    return line;
  });

/** receivedAt − occurredAt. */
const delayArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: LATENESS }) }, // on time or out of order
  { weight: 1, arbitrary: fc.constantFrom(LATENESS, LATENESS + 1) }, // the lateness boundary
  { weight: 2, arbitrary: fc.integer({ min: -60 * SEC, max: -1 }) }, // the till's clock runs fast
  { weight: 2, arbitrary: fc.integer({ min: LATENESS + 1, max: 2 * HOUR }) }, // late
  { weight: 1, arbitrary: fc.integer({ min: 2 * DAY, max: 5 * DAY }) }, // historical
);

const saleOpArb = fc.record({
  type: fc.constant('sale' as const),
  branch: fc.constantFrom(...BRANCHES),
  isReturn: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  customer: fc.option(fc.constantFrom(...CUSTOMERS), { nil: undefined, freq: 5 }),
  lines: fc.array(lineArb, { minLength: 1, maxLength: 3 }),
  /**
   * receivedAt relative to the aggregator's clock when the sale is applied: mostly close, at
   * times well behind (a backlog catching up), so a live sale's bucket may have left 1m already.
   */
  receivedJitter: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -20 * SEC, max: 20 * SEC }) },
    { weight: 1, arbitrary: fc.integer({ min: -3 * MIN, max: 0 }) },
  ),
  delay: delayArb,
});

const advanceOpArb = fc.record({
  type: fc.constant('advance' as const),
  by: fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0, max: 15 * SEC }) },
    { weight: 4, arbitrary: fc.integer({ min: 15 * SEC, max: 20 * MIN }) },
    { weight: 1, arbitrary: fc.integer({ min: HOUR, max: 30 * HOUR }) },
  ),
});

type SaleOp = typeof saleOpArb extends fc.Arbitrary<infer T> ? T : never;
type AdvanceOp = typeof advanceOpArb extends fc.Arbitrary<infer T> ? T : never;

const scenarioArb = fc.record({
  startOffset: fc.integer({ min: 0, max: DAY - 1 }),
  ops: fc.array(fc.oneof({ weight: 3, arbitrary: saleOpArb }, { weight: 2, arbitrary: advanceOpArb }), {
    maxLength: 80,
    size: 'max',
  }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------
// Scenario → concrete steps (real sales through the real validator, each with its own `now`)

type Step =
  | { readonly type: 'sale'; readonly sale: Sale }
  | { readonly type: 'advance'; readonly to: number };

interface Concrete {
  readonly start: number;
  readonly steps: Step[];
  readonly sales: Sale[];
  readonly finalNow: number;
}

function concretize(scenario: Scenario): Concrete {
  const start = BASE + scenario.startOffset;
  let clock = start;
  const steps: Step[] = [];
  const sales: Sale[] = [];
  for (const op of scenario.ops) {
    if (op.type === 'advance') {
      clock += (op as AdvanceOp).by;
      steps.push({ type: 'advance', to: clock });
      continue;
    }
    const s = op as SaleOp;
    const receivedAt = clock + s.receivedJitter;
    const input: Partial<SaleInput> = {
      branchId: s.branch,
      customerId: s.customer,
      occurredAt: new Date(receivedAt - s.delay).toISOString(),
      lines: s.lines,
    };
    if (s.isReturn) Object.assign(input, { kind: 'return', originalSaleId: 'orig-1' });
    const sale = makeStreamSale(input, receivedAt);
    steps.push({ type: 'sale', sale });
    sales.push(sale);
  }
  return { start, steps, sales, finalNow: clock };
}

function run(state: WindowState, steps: readonly Step[]): void {
  for (const step of steps) {
    if (step.type === 'sale') state.apply(contributionOf(step.sale));
    else {
      state.advance(step.to);
      // As the service does between batches: land a little of what is staged (one slot here),
      // so slots land both before and after the clock passed them.
      state.land(0);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The oracle

function isLive(sale: Sale): boolean {
  return Date.parse(sale.occurredAt) >= Date.parse(sale.receivedAt) - LATENESS;
}

function inWindow(sale: Sale, window: WindowName, nowMs: number): boolean {
  if (window === 'all') return true;
  if (!isLive(sale)) return false;
  const bucketMs = WIDTH_MS[window] / BUCKETS;
  const index = Math.floor(Date.parse(sale.occurredAt) / bucketMs);
  const current = Math.floor(nowMs / bucketMs);
  return index > current - BUCKETS && index <= current;
}

interface KeyRow {
  key: string;
  lines: number;
  sales: number;
  units: number;
  revenue: bigint;
}

const desc = (a: number | bigint, b: number | bigint): number => (a > b ? -1 : a < b ? 1 : 0);
const asc = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byLines = (a: KeyRow, b: KeyRow) =>
  desc(a.lines, b.lines) || desc(a.revenue, b.revenue) || asc(a.key, b.key);
const byRevenue = (a: KeyRow, b: KeyRow) =>
  desc(a.revenue, b.revenue) || desc(a.lines, b.lines) || asc(a.key, b.key);
const byUnits = (a: KeyRow, b: KeyRow) =>
  desc(a.units, b.units) || desc(a.revenue, b.revenue) || asc(a.key, b.key);
const byCustomer = (a: KeyRow, b: KeyRow) =>
  desc(a.revenue, b.revenue) || desc(a.sales, b.sales) || asc(a.key, b.key);

const figures = (r: KeyRow) => ({
  lines: r.lines,
  sales: r.sales,
  units: r.units,
  revenue: fromUnits(r.revenue),
});

function row(map: Map<string, KeyRow>, key: string): KeyRow {
  let r = map.get(key);
  if (r === undefined) {
    r = { key, lines: 0, sales: 0, units: 0, revenue: 0n };
    map.set(key, r);
  }
  return r;
}

interface Expected {
  totals: unknown;
  summary: (limits: SummaryLimits) => unknown;
  product: (productId: string) => unknown;
}

function expectedFigures(members: readonly Sale[]): Expected {
  let sales = 0;
  let returns = 0;
  let units = 0;
  let gross = 0n;
  let returned = 0n;
  const categories = new Map<string, KeyRow>();
  const products = new Map<string, KeyRow>();
  const customers = new Map<string, KeyRow>();
  for (const s of members) {
    const isSale = s.kind === 'sale';
    const sign = isSale ? 1 : -1;
    const total = toUnits(s.total);
    if (isSale) {
      sales++;
      gross += total;
    } else {
      returns++;
      returned += total;
    }
    const touched = new Set<KeyRow>();
    for (const line of s.lines) {
      units += sign * line.quantity;
      const amount = BigInt(sign) * toUnits(line.amount);
      for (const r of [row(categories, line.category), row(products, line.productId)]) {
        if (isSale) r.lines++;
        r.units += sign * line.quantity;
        r.revenue += amount;
        touched.add(r);
      }
    }
    if (isSale) for (const r of touched) r.sales++;
    if (s.customerId !== undefined) {
      const c = row(customers, s.customerId);
      if (isSale) c.sales++;
      c.revenue += BigInt(sign) * total;
    }
  }
  // Gross per sale, half away from zero (gross ≥ 0 here): ⌊(2·gross + n) / 2n⌋.
  const averageBasket = sales === 0 ? null : fromUnits((2n * gross + BigInt(sales)) / (2n * BigInt(sales)));
  const cats = [...categories.values()];
  const prods = [...products.values()];
  const custs = [...customers.values()];
  const categoryRows = cats.toSorted(byLines).map((r) => ({ category: r.key, ...figures(r) }));
  const totals = {
    sales,
    returns,
    units,
    grossRevenue: fromUnits(gross),
    returnedRevenue: fromUnits(returned),
    netRevenue: fromUnits(gross - returned),
    averageBasket,
    distinctCustomers: customers.size,
  };
  return {
    totals,
    summary: (limits) => ({
      ...totals,
      categories: categoryRows,
      topCategoriesByCount: categoryRows.slice(0, limits.topCategories),
      topCategoriesByRevenue: cats
        .toSorted(byRevenue)
        .slice(0, limits.topCategories)
        .map((r) => ({ category: r.key, ...figures(r) })),
      topProductsByRevenue: prods
        .toSorted(byRevenue)
        .slice(0, limits.topProducts)
        .map((r) => ({ productId: r.key, ...figures(r) })),
      topProductsByUnits: prods
        .toSorted(byUnits)
        .slice(0, limits.topProducts)
        .map((r) => ({ productId: r.key, ...figures(r) })),
      topCustomers: custs
        .toSorted(byCustomer)
        .slice(0, limits.topCustomers)
        .map((r) => ({ customerId: r.key, sales: r.sales, revenue: fromUnits(r.revenue) })),
    }),
    product: (productId) => {
      const r = products.get(productId);
      return r === undefined
        ? { productId, lines: 0, sales: 0, units: 0, revenue: '0' }
        : { productId, ...figures(r) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Comparison of every window and scope

/** Generator coverage, summed over all runs: checked at the end so the properties are not vacuous. */
const seen = {
  late: 0,
  liveButExpiredOnArrival: 0,
  aheadOfClockOnArrival: 0,
  oneMinuteNonEmpty: 0,
  expiredFrom1mButIn24h: 0,
  beyond2pow53: 0,
  returns: 0,
  ops: 0,
  incrementalCheckpoint: 0,
};

function expectMatchesOracle(state: WindowState, c: Concrete): void {
  const seenBranches = new Set(c.sales.map((s) => s.branchId));
  for (const branch of [ALL_BRANCHES, ...BRANCHES]) {
    const scoped = branch === ALL_BRANCHES ? c.sales : c.sales.filter((s) => s.branchId === branch);
    for (const window of WINDOW_NAMES) {
      const view = state.view(window, branch);
      if (branch !== ALL_BRANCHES && !seenBranches.has(branch)) {
        expect(view, `${branch} was never seen`).toBeUndefined();
        continue;
      }
      expect(view, `${window}/${branch}`).toBeDefined();
      const expected = expectedFigures(scoped.filter((s) => inWindow(s, window, c.finalNow)));
      expect(totalsOf(view!), `totals ${window}/${branch}`).toEqual(expected.totals);
      expect(summaryOf(view!, SMALL_LIMITS), `summary ${window}/${branch}`).toEqual(
        expected.summary(SMALL_LIMITS),
      );
      expect(summaryOf(view!), `summary ${window}/${branch}`).toEqual(expected.summary(DEFAULT_LIMITS));
      for (const p of PRODUCTS)
        expect(productOf(view!, p), `${p} in ${window}/${branch}`).toEqual(expected.product(p));
    }
  }
  // Memory stays bounded: no bucket that has left its window is held, and every clock is at F.
  for (const scope of state.scopes.values()) {
    for (const w of scope.windows) {
      expect(w.clock).toBe(Math.floor(c.finalNow / (WIDTH_MS[w.spec.name] / BUCKETS)));
      for (const index of w.buckets.keys()) expect(index).toBeGreaterThan(w.clock - BUCKETS);
    }
  }
}

function recordCoverage(c: Concrete): void {
  seen.ops += c.steps.length;
  let clock = c.start;
  const oneMinuteBucket = MIN / BUCKETS;
  for (const step of c.steps) {
    if (step.type === 'advance') {
      clock = step.to;
      continue;
    }
    const s = step.sale;
    if (s.kind === 'return') seen.returns++;
    if (!isLive(s)) {
      seen.late++;
      continue;
    }
    const index = Math.floor(Date.parse(s.occurredAt) / oneMinuteBucket);
    const current = Math.floor(clock / oneMinuteBucket);
    if (index <= current - BUCKETS) seen.liveButExpiredOnArrival++;
    if (index > current) seen.aheadOfClockOnArrival++;
    if (!inWindow(s, '1m', c.finalNow) && inWindow(s, '24h', c.finalNow)) seen.expiredFrom1mButIn24h++;
  }
  if (c.sales.some((s) => inWindow(s, '1m', c.finalNow))) seen.oneMinuteNonEmpty++;
  const gross = c.sales.filter((s) => s.kind === 'sale').reduce((sum, s) => sum + toUnits(s.total), 0n);
  if (gross > 2n ** 53n) seen.beyond2pow53++;
}

// ---------------------------------------------------------------------------------------------

describe('WindowState against a brute-force oracle', () => {
  afterAll(() => {
    // Each situation the generators aim at actually occurred in some run.
    for (const [what, count] of Object.entries(seen)) expect(count, what).toBeGreaterThan(0);
  });

  it('every window and scope matches a recomputation from the raw sales (property)', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const c = concretize(scenario);
        recordCoverage(c);
        const state = new WindowState(LAYOUT, c.start);
        run(state, c.steps);
        expect(state.nowMs).toBe(c.finalNow);
        expectMatchesOracle(state, c);
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('a snapshot encoded in slices while folding goes on, restored and replayed, gives the same figures as never stopping (property)', () => {
    fc.assert(
      fc.property(scenarioArb, fc.double({ min: 0, max: 1, noNaN: true }), (scenario, where) => {
        const c = concretize(scenario);
        recordCoverage(c);
        const cut = Math.floor(where * c.steps.length);

        const uninterrupted = new WindowState(LAYOUT, c.start);
        run(uninterrupted, c.steps);

        // The snapshot is begun at the cut; the state folds on while it is encoded a slice at a
        // time (copy-on-write), then the process "crashes" and a new one restores the snapshot
        // and replays everything after the cut.
        const live = new WindowState(LAYOUT, c.start);
        run(live, c.steps.slice(0, cut));
        const writer = SnapshotWriter.begin(live);
        for (const step of c.steps.slice(cut)) {
          run(live, [step]);
          writer.step(0);
        }
        while (!writer.step(0));
        const recovered = decodeSnapshot(writer.chunks(), LAYOUT);
        run(recovered, c.steps.slice(cut));
        // Taking the snapshot did not disturb the state that folded on.
        expect(stateFigures(live)).toEqual(stateFigures(uninterrupted));

        expectMatchesOracle(recovered, c);
        expect(stateFigures(recovered)).toEqual(stateFigures(uninterrupted));
        for (const branch of [ALL_BRANCHES, ...uninterrupted.branchIds]) {
          for (const window of WINDOW_NAMES) {
            expect(summaryOf(recovered.view(window, branch)!)).toEqual(
              summaryOf(uninterrupted.view(window, branch)!),
            );
          }
        }
      }),
      { numRuns: 80 },
    );
  }, 60_000);

  it('incremental checkpoints (each writing only what changed, encoded while folding goes on), restored from the newest and the objects it names, give the same figures as never stopping (property)', () => {
    fc.assert(
      fc.property(
        scenarioArb,
        fc.array(fc.record({ where: fc.double({ min: 0, max: 1, noNaN: true }), during: fc.boolean() }), {
          minLength: 2,
          maxLength: 6,
        }),
        fc.constantFrom(0, DEFAULT_MAX_GARBAGE, 1, 2),
        (scenario, checkpoints, maxGarbage) => {
          const c = concretize(scenario);
          recordCoverage(c);
          // Two checkpoints may fall at the same step: the second then has nothing new to write.
          const plan = checkpoints
            .map((k) => ({ cut: Math.floor(k.where * c.steps.length), during: k.during }))
            .sort((a, b) => a.cut - b.cut);

          const uninterrupted = new WindowState(LAYOUT, c.start);
          run(uninterrupted, c.steps);

          // A store of objects by name, kept as the repository keeps them: after each checkpoint
          // only the newest object and the ones it refers to.
          const store = new Map<string, Uint8Array>();
          // Each checkpoint's companion object (its running and all-time totals), by checkpoint.
          const companions = new Map<string, Uint8Array>();
          const earlierOf = (name: string) =>
            new Map([
              ...[...store].filter(([key]) => key !== name),
              [COMPANION, companions.get(name)!] as const,
            ]);
          const ledger = new SnapshotLedger(maxGarbage);
          const live = new WindowState(LAYOUT, c.start);
          let done = 0;
          let previousBegin = -1;
          let newest: { name: string; cut: number } | undefined;
          for (const [n, { cut, during }] of plan.entries()) {
            run(live, c.steps.slice(done, cut));
            done = cut;
            const writer = SnapshotWriter.begin(live, ledger);
            const atBegin = stateFigures(live);
            if (n > 0 && writer.referring > 0) seen.incrementalCheckpoint++;
            // Only the running and all-time totals, always written (into the companion).
            if (previousBegin === cut)
              expect(writer.encoding).toBe(live.scopes.size * (1 + LAYOUT.windows.length));
            previousBegin = cut;
            // Fold on while it encodes, a step per slice; `during`: every step up to the next cut,
            // each landed at once, so the next checkpoint begins right after this one is stored.
            const next = plan[n + 1]?.cut ?? c.steps.length;
            if (during) {
              while (done < next) {
                run(live, [c.steps[done++]!]);
                live.flush(); // as a read does: the staged sales land in the aggregates now
                writer.step(0);
              }
            }
            while (!writer.step(0)) {
              if (done < next) run(live, [c.steps[done++]!]);
            }
            if (done !== cut) previousBegin = -1;
            writer.release();
            const name = `ckpt-${n}`;
            const chunks = writer.chunks();
            const bytes = Buffer.concat(chunks);
            expect(snapshotReferences(bytes)).toEqual(writer.references);
            store.set(name, bytes);
            companions.set(name, Buffer.concat(writer.companionChunks()!));
            writer.commit(name);
            for (const key of [...store.keys()]) {
              if (key !== name && !writer.references.includes(key)) store.delete(key);
            }
            newest = { name, cut };
            // Every checkpoint, restored from the store as it is now, holds the figures at its begin.
            expect(stateFigures(decodeSnapshot(bytes, LAYOUT, earlierOf(name)))).toEqual(atBegin);
            // Begun again at once: it writes the totals and the buckets changed since this one
            // began (none if nothing was folded meanwhile), and refers to every other bucket.
            const again = SnapshotWriter.begin(live, ledger);
            const totals = live.scopes.size * (1 + LAYOUT.windows.length);
            if (done === cut) expect(again.encoding).toBe(totals);
            else expect(again.encoding).toBeGreaterThanOrEqual(totals);
            if (again.referring > 0) seen.incrementalCheckpoint++;
            again.release();
            expect([...ledger.objects.keys()].sort()).toEqual([...store.keys()].sort());
            // The garbage bound: the objects kept hold at most 1 + maxGarbage times the state.
            const needed = neededFloats(bytes);
            expect(ledger.storedBytes / 8).toBeLessThanOrEqual((1 + maxGarbage) * needed);
          }
          run(live, c.steps.slice(done));
          expect(stateFigures(live)).toEqual(stateFigures(uninterrupted));

          // Crash after the last checkpoint: restore it and replay the steps after its cut.
          const recovered = decodeSnapshot(store.get(newest!.name)!, LAYOUT, earlierOf(newest!.name));
          run(recovered, c.steps.slice(newest!.cut));
          expectMatchesOracle(recovered, c);
          expect(stateFigures(recovered)).toEqual(stateFigures(uninterrupted));
        },
      ),
      { numRuns: 80 },
    );
  }, 60_000);
});

/**
 * Float64s of the buckets the snapshot's header locates (what the ledger's objects must hold):
 * each location is [object, offset, length]; the totals are in the companion, not counted.
 */
function neededFloats(newest: Uint8Array): number {
  const header = JSON.parse(new TextDecoder().decode(newest.subarray(0, newest.indexOf(0x0a))));
  let n = 0;
  for (const scope of header.scopes) {
    for (const w of scope.windows) {
      for (const [, at] of w.buckets) n += at[2];
    }
  }
  return n;
}
