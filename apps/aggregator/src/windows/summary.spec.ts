import { fromUnits, type Sale, type SaleInput, type SaleLineInput } from '@tally/contracts';
import { makeStreamSale } from '@tally/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Aggregate,
  type CustomerFigures,
  type FigureTable,
  K_LINES,
  K_SALES,
  type KeyFigures,
} from './aggregate.js';
import { moneyApprox } from './money.js';
import { contributionOf } from './sale-contribution.js';
import { productOf, summaryOf, topCategoriesByCount, topK, totalsOf } from './summary.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const MAX = '99999999999.9999'; // the largest line amount: 999,999,999,999,999 units

function line(category: string, productId: string, unitPrice: string, quantity = 1): SaleLineInput {
  return { productId, category, quantity, unitPrice };
}

function sale(lines: SaleLineInput[], overrides: Partial<SaleInput> = {}): Sale {
  return makeStreamSale(
    { occurredAt: new Date(NOW - 1_000).toISOString(), customerId: undefined, lines, ...overrides },
    NOW,
  );
}

function returnOf(lines: SaleLineInput[], overrides: Partial<SaleInput> = {}): Sale {
  return sale(lines, { kind: 'return', originalSaleId: 'orig-1', ...overrides });
}

function aggregateOf(...sales: Sale[]): Aggregate {
  const agg = new Aggregate();
  for (const s of sales) agg.apply(contributionOf(s), 1);
  return agg;
}

describe('rankings', () => {
  // Categories: lines / revenue
  //   d-drinks 3 / 1, c-bakery 2 / 9, a-fruit 2 / 5, b-dairy 2 / 5, f-frozen 1 / 5, e-snacks 1 / 100
  const ranked = () =>
    aggregateOf(
      sale([
        line('a-fruit', 'p-a1', '2'),
        line('b-dairy', 'p-b1', '2.5'),
        line('c-bakery', 'p-c1', '4.5'),
        line('d-drinks', 'p-d1', '0.5'),
        line('e-snacks', 'p-e1', '100'),
      ]),
      sale([
        line('a-fruit', 'p-a2', '3'),
        line('b-dairy', 'p-b1', '2.5'),
        line('c-bakery', 'p-c1', '4.5'),
        line('d-drinks', 'p-d1', '0.25'),
        line('d-drinks', 'p-d2', '0.25'),
        line('f-frozen', 'p-f1', '5'),
      ]),
      // Returned lines are not lines sold: this return does not lift b-dairy's count.
      returnOf([line('b-dairy', 'p-b1', '0'), line('b-dairy', 'p-b1', '0')]),
    );

  it('categories rank by lines sold, then revenue, then name', () => {
    const summary = summaryOf(ranked(), { topCategories: 3, topProducts: 10, topCustomers: 5 });
    expect(summary.categories.map((c) => [c.category, c.lines, c.revenue])).toEqual([
      ['d-drinks', 3, '1'],
      ['c-bakery', 2, '9'],
      ['a-fruit', 2, '5'],
      ['b-dairy', 2, '5'],
      ['e-snacks', 1, '100'],
      ['f-frozen', 1, '5'],
    ]);
    expect(summary.topCategoriesByCount.map((c) => c.category)).toEqual(['d-drinks', 'c-bakery', 'a-fruit']);
  });

  it('categories by revenue rank by revenue, then lines sold, then name', () => {
    const summary = summaryOf(ranked(), { topCategories: 6, topProducts: 10, topCustomers: 5 });
    expect(summary.topCategoriesByRevenue.map((c) => c.category)).toEqual([
      'e-snacks',
      'c-bakery',
      'a-fruit',
      'b-dairy',
      'f-frozen',
      'd-drinks',
    ]);
    expect(summaryOf(ranked()).topCategoriesByRevenue.map((c) => c.category)).toEqual([
      'e-snacks',
      'c-bakery',
      'a-fruit',
    ]);
  });

  it('products rank by revenue and by units, ties broken by the other figure and then by id', () => {
    const agg = aggregateOf(
      sale([
        line('x', 'p-1', '2', 5),
        line('x', 'p-2', '5', 2),
        line('x', 'p-3', '10', 1),
        line('x', 'p-4', '1', 10),
      ]),
      sale([line('x', 'p-5', '2', 5), line('x', 'p-6', '5', 1), line('x', 'p-6', '5', 1)]),
    );
    // p-1 5u/10, p-2 2u/10 (1 line), p-3 1u/10, p-4 10u/10, p-5 5u/10, p-6 2u/10 (2 lines)
    const limits = { topCategories: 3, topProducts: 6, topCustomers: 5 };
    expect(summaryOf(agg, limits).topProductsByRevenue.map((p) => p.productId)).toEqual([
      'p-6',
      'p-1',
      'p-2',
      'p-3',
      'p-4',
      'p-5',
    ]);
    expect(summaryOf(agg, limits).topProductsByUnits.map((p) => [p.productId, p.units])).toEqual([
      ['p-4', 10],
      ['p-1', 5],
      ['p-5', 5],
      ['p-2', 2],
      ['p-6', 2],
      ['p-3', 1],
    ]);
    expect(summaryOf(agg, { ...limits, topProducts: 2 }).topProductsByUnits.map((p) => p.productId)).toEqual([
      'p-4',
      'p-1',
    ]);
  });

  it('customers rank by net revenue, then sales, then id', () => {
    const agg = aggregateOf(
      sale([line('x', 'p', '30')], { customerId: 'c-e' }),
      sale([line('x', 'p', '10')], { customerId: 'c-a' }),
      sale([line('x', 'p', '5')], { customerId: 'c-b' }),
      sale([line('x', 'p', '5')], { customerId: 'c-b' }),
      sale([line('x', 'p', '4')], { customerId: 'c-c' }),
      sale([line('x', 'p', '6')], { customerId: 'c-c' }),
      sale([line('x', 'p', '20')], { customerId: 'c-d' }),
      returnOf([line('x', 'p', '10')], { customerId: 'c-d' }),
      sale([line('x', 'p', '1')]), // no customer: not ranked
    );
    expect(summaryOf(agg).topCustomers).toEqual([
      { customerId: 'c-e', sales: 1, revenue: '30' },
      { customerId: 'c-b', sales: 2, revenue: '10' },
      { customerId: 'c-c', sales: 2, revenue: '10' },
      { customerId: 'c-a', sales: 1, revenue: '10' },
      { customerId: 'c-d', sales: 1, revenue: '10' },
    ]);
    expect(summaryOf(agg, { topCategories: 3, topProducts: 10, topCustomers: 2 }).topCustomers).toHaveLength(
      2,
    );
    expect(totalsOf(agg).distinctCustomers).toBe(5);
  });

  it('revenues one unit apart beyond 2^53 rank by their exact values, not their float approximations', () => {
    // big-a: 9 lines of the maximum, one 2 units short of it and one of 0 (11 lines);
    // big-b: 9 lines of the maximum and one 1 unit short of it (10 lines): one unit more.
    // Both exceed 2^53 units and round to the same double, and big-a has more lines, so only
    // the exact comparison puts big-b first.
    const nineMax = (key: string) => Array.from({ length: 9 }, () => line(key, key, MAX));
    const aLines = [
      ...nineMax('big-a'),
      line('big-a', 'big-a', '99999999999.9997'),
      line('big-a', 'big-a', '0'),
    ];
    const bLines = [...nineMax('big-b'), line('big-b', 'big-b', '99999999999.9998')];
    const agg = aggregateOf(sale(aLines, { customerId: 'whale-a' }), sale(bLines, { customerId: 'whale-b' }));
    const a = agg.products.get('big-a') as KeyFigures;
    const b = agg.products.get('big-b') as KeyFigures;
    expect(moneyApprox(a)).toBe(moneyApprox(b));
    expect(a.lines).toBeGreaterThan(b.lines);
    const limits = { topCategories: 2, topProducts: 2, topCustomers: 2 };
    const summary = summaryOf(agg, limits);
    expect(summary.topProductsByRevenue.map((p) => [p.productId, p.revenue])).toEqual([
      ['big-b', '999999999999.9989'],
      ['big-a', '999999999999.9988'],
    ]);
    expect(summary.topCategoriesByRevenue.map((c) => c.category)).toEqual(['big-b', 'big-a']);
    expect(summary.topCustomers.map((c) => c.customerId)).toEqual(['whale-b', 'whale-a']);
    expect(totalsOf(agg).grossRevenue).toBe('1999999999999.9977');
  });
});

describe('feedback: top categories by count', () => {
  it('returns the three categories with most lines sold, with their revenue', () => {
    const agg = aggregateOf(
      sale([
        line('fruit', 'p1', '1'),
        line('fruit', 'p2', '1'),
        line('dairy', 'p3', '2'),
        line('toys', 'p4', '50'),
      ]),
      sale([line('fruit', 'p1', '1.5'), line('dairy', 'p3', '2'), line('bakery', 'p5', '3')]),
      sale([line('bakery', 'p5', '3'), line('drinks', 'p6', '0.99')]),
      returnOf([line('toys', 'p4', '50'), line('toys', 'p4', '50'), line('toys', 'p4', '50')]),
    );
    expect(topCategoriesByCount(agg)).toEqual([
      { category: 'fruit', lines: 3, sales: 2, units: 3, revenue: '3.5' },
      { category: 'bakery', lines: 2, sales: 2, units: 2, revenue: '6' },
      { category: 'dairy', lines: 2, sales: 2, units: 2, revenue: '4' },
    ]);
    expect(topCategoriesByCount(agg, 1).map((c) => c.category)).toEqual(['fruit']);
    expect(topCategoriesByCount(agg, 10).map((c) => c.category)).toEqual(
      summaryOf(agg).categories.map((c) => c.category),
    );
    expect(topCategoriesByCount(agg, 10).at(-1)).toEqual({
      category: 'toys',
      lines: 1,
      sales: 1,
      units: -2,
      revenue: '-100',
    });
    expect(topCategoriesByCount(new Aggregate())).toEqual([]);
  });
});

describe('averageBasket', () => {
  const basket = (...totals: string[]) =>
    totalsOf(aggregateOf(...totals.map((t) => sale([line('x', 'p', t)])))).averageBasket;

  it('is gross revenue per sale, rounded half away from zero to 4 decimals', () => {
    expect(basket('10', '20')).toBe('15');
    expect(basket('10', '0', '0')).toBe('3.3333'); // 3.33333…
    expect(basket('20', '0', '0')).toBe('6.6667'); // 6.66666…
    expect(basket('0.0002', '0.0003')).toBe('0.0003'); // 2.5 units
    expect(basket('0.0001', '0.0002')).toBe('0.0002'); // 1.5 units
    expect(basket('0.0001', '0')).toBe('0.0001'); // 0.5 units
    expect(basket('0.0001', '0', '0')).toBe('0'); // 0.33 units
    expect(basket('0.0002', '0', '0')).toBe('0.0001'); // 0.67 units
  });

  it('ignores returns and is null without sales', () => {
    const agg = aggregateOf(
      sale([line('x', 'p', '9')]),
      sale([line('x', 'p', '0.5')]),
      returnOf([line('x', 'p', '9')]),
    );
    expect(totalsOf(agg)).toMatchObject({ averageBasket: '4.75', netRevenue: '0.5' });
    expect(totalsOf(aggregateOf(returnOf([line('x', 'p', '9')]))).averageBasket).toBeNull();
    expect(totalsOf(new Aggregate()).averageBasket).toBeNull();
  });

  it('rounds a negative half away from zero too', () => {
    const agg = new Aggregate();
    agg.sales = 2;
    agg.gross.lo = -5; // −2.5 units per sale
    expect(totalsOf(agg).averageBasket).toBe('-0.0003');
    agg.gross.lo = -3; // −1.5
    expect(totalsOf(agg).averageBasket).toBe('-0.0002');
    agg.gross.lo = -1; // −0.5
    expect(totalsOf(agg).averageBasket).toBe('-0.0001');
    agg.sales = 3; // −0.33
    expect(totalsOf(agg).averageBasket).toBe('0');
  });

  it('is exact for gross revenues beyond 2^53 units', () => {
    const agg = aggregateOf(
      sale(Array.from({ length: 10 }, () => line('x', 'p', MAX))),
      sale([line('x', 'p', '0')]),
    );
    // 9,999,999,999,999,990 units / 2 = 4,999,999,999,999,995 units
    expect(totalsOf(agg).averageBasket).toBe('499999999999.9995');
  });
});

describe('productOf', () => {
  it('gives zeros for a product with no sale in the aggregate', () => {
    const agg = aggregateOf(sale([line('x', 'p-known', '2', 3)]));
    expect(productOf(agg, 'p-unknown')).toEqual({
      productId: 'p-unknown',
      lines: 0,
      sales: 0,
      units: 0,
      revenue: '0',
    });
    expect(productOf(agg, 'p-known')).toEqual({
      productId: 'p-known',
      lines: 1,
      sales: 1,
      units: 3,
      revenue: '6',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties: topK against a full sort, and every ranking of summaryOf against an independent
// sort on exact bigint revenues.

const TWO_40 = 2n ** 40n;

/** A revenue value, mostly small (many ties), sometimes near or beyond 2^53 or 2^60. */
const revenueValue = fc.oneof(
  fc.bigInt({ min: -5n, max: 5n }),
  fc.bigInt({ min: 2n ** 53n - 4n, max: 2n ** 53n + 4n }),
  fc.bigInt({ min: 2n ** 60n - 4n, max: 2n ** 60n + 4n }),
  fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
);

/** A value held as lo + hi × 2^40, in either of its two normalized forms (lo ≥ 0 or lo ≤ 0). */
const revenue = fc.tuple(revenueValue, fc.boolean()).map(([v, negativeLo]) => {
  let hi = v >= 0n ? v / TWO_40 : -((-v + TWO_40 - 1n) / TWO_40); // floor division
  let lo = v - hi * TWO_40; // 0 ≤ lo < 2^40
  if (negativeLo && lo > 0n) {
    hi += 1n;
    lo -= TWO_40;
  }
  return { value: v, money: { lo: Number(lo), hi: Number(hi) } };
});

const keyFigures = fc.record({
  lines: fc.integer({ min: 0, max: 3 }),
  sales: fc.integer({ min: 0, max: 3 }),
  units: fc.integer({ min: -2, max: 3 }),
  revenue,
});

const keys = (prefix: string) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 25 })
    .map((ns) => ns.map((n) => `${prefix}${n}`));

type Entry = { key: string; lines: number; sales: number; units: number; value: bigint };

const desc = (a: number | bigint, b: number | bigint): number => (a > b ? -1 : a < b ? 1 : 0);
const asc = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byLines = (a: Entry, b: Entry) => desc(a.lines, b.lines) || desc(a.value, b.value) || asc(a.key, b.key);
const byRevenue = (a: Entry, b: Entry) =>
  desc(a.value, b.value) || desc(a.lines, b.lines) || asc(a.key, b.key);
const byUnits = (a: Entry, b: Entry) => desc(a.units, b.units) || desc(a.value, b.value) || asc(a.key, b.key);
const byCustomer = (a: Entry, b: Entry) =>
  desc(a.value, b.value) || desc(a.sales, b.sales) || asc(a.key, b.key);

const asKey = (e: Entry) => ({ lines: e.lines, sales: e.sales, units: e.units, revenue: fromUnits(e.value) });

describe('ranking properties', () => {
  it('topK returns exactly the first k of a full sort, for any k (property)', () => {
    // Ranks rows of a table by their lines ascending, then sales descending, then name.
    const compare = (t: FigureTable, a: number, b: number) =>
      t.rows[a + K_LINES]! - t.rows[b + K_LINES]! ||
      t.rows[b + K_SALES]! - t.rows[a + K_SALES]! ||
      asc(t.dictionary.name(t.keys[a / t.stride]! - 1), t.dictionary.name(t.keys[b / t.stride]! - 1));
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(
            fc.string({ maxLength: 3 }),
            fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
          ),
          { selector: (e) => e[0], maxLength: 40 },
        ),
        fc.integer({ min: -1, max: 45 }),
        (entries, k) => {
          const table = new Aggregate().products;
          for (const [name, [lines, sales]] of entries) {
            table.set(name, { refs: 1, lines, sales, units: 0, lo: 0, hi: 0 });
          }
          const expected = entries
            .toSorted((a, b) => a[1][0] - b[1][0] || b[1][1] - a[1][1] || asc(a[0], b[0]))
            .slice(0, Math.max(k, 0))
            .map(([name]) => name);
          const nameAt = (o: number) => table.dictionary.name(table.keys[o / table.stride]! - 1);
          expect(topK(table, k, compare).map(nameAt)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('every ranking of summaryOf matches an independent sort on exact revenues (property)', () => {
    fc.assert(
      fc.property(
        keys('cat-').chain((ks) =>
          fc.tuple(fc.constant(ks), fc.array(keyFigures, { minLength: ks.length, maxLength: ks.length })),
        ),
        keys('prod-').chain((ks) =>
          fc.tuple(fc.constant(ks), fc.array(keyFigures, { minLength: ks.length, maxLength: ks.length })),
        ),
        keys('cust-').chain((ks) =>
          fc.tuple(fc.constant(ks), fc.array(keyFigures, { minLength: ks.length, maxLength: ks.length })),
        ),
        fc.record({
          topCategories: fc.integer({ min: 0, max: 8 }),
          topProducts: fc.integer({ min: 0, max: 12 }),
          topCustomers: fc.integer({ min: 0, max: 8 }),
        }),
        ([catKeys, catFigs], [prodKeys, prodFigs], [custKeys, custFigs], limits) => {
          const agg = new Aggregate();
          const entries = (ks: string[], figs: (typeof catFigs)[number][]): Entry[] =>
            ks.map((key, i) => {
              const f = figs[i]!;
              return { key, lines: f.lines, sales: f.sales, units: f.units, value: f.revenue.value };
            });
          catKeys.forEach((k, i) => {
            const f = catFigs[i]!;
            agg.categories.set(k, {
              refs: 1,
              lines: f.lines,
              sales: f.sales,
              units: f.units,
              ...f.revenue.money,
            } satisfies KeyFigures);
          });
          prodKeys.forEach((k, i) => {
            const f = prodFigs[i]!;
            agg.products.set(k, {
              refs: 1,
              lines: f.lines,
              sales: f.sales,
              units: f.units,
              ...f.revenue.money,
            } satisfies KeyFigures);
          });
          custKeys.forEach((k, i) => {
            const f = custFigs[i]!;
            agg.customers.set(k, {
              refs: 1,
              sales: f.sales,
              ...f.revenue.money,
            } satisfies CustomerFigures);
          });
          const cats = entries(catKeys, catFigs);
          const prods = entries(prodKeys, prodFigs);
          const custs = entries(custKeys, custFigs);

          const summary = summaryOf(agg, limits);
          const categoryRows = cats.toSorted(byLines).map((e) => ({ category: e.key, ...asKey(e) }));
          expect(summary.categories).toEqual(categoryRows);
          expect(summary.topCategoriesByCount).toEqual(categoryRows.slice(0, limits.topCategories));
          expect(topCategoriesByCount(agg, limits.topCategories)).toEqual(
            categoryRows.slice(0, limits.topCategories),
          );
          expect(summary.topCategoriesByRevenue).toEqual(
            cats
              .toSorted(byRevenue)
              .slice(0, limits.topCategories)
              .map((e) => ({ category: e.key, ...asKey(e) })),
          );
          expect(summary.topProductsByRevenue).toEqual(
            prods
              .toSorted(byRevenue)
              .slice(0, limits.topProducts)
              .map((e) => ({ productId: e.key, ...asKey(e) })),
          );
          expect(summary.topProductsByUnits).toEqual(
            prods
              .toSorted(byUnits)
              .slice(0, limits.topProducts)
              .map((e) => ({ productId: e.key, ...asKey(e) })),
          );
          expect(summary.topCustomers).toEqual(
            custs
              .toSorted(byCustomer)
              .slice(0, limits.topCustomers)
              .map((e) => ({ customerId: e.key, sales: e.sales, revenue: fromUnits(e.value) })),
          );
          expect(summary.distinctCustomers).toBe(custKeys.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
