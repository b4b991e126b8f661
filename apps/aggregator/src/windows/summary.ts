import { fromUnits } from '@tally/contracts';
import {
  type Aggregate,
  C_MONEY,
  C_SALES,
  type FigureTable,
  K_LINES,
  K_MONEY,
  K_UNITS,
  keyFiguresAt,
} from './aggregate.js';
import { CARRY } from './key-table.js';
import { moneyBigint } from './money.js';

/**
 * Read models of an Aggregate, as the API returns them: money as exact decimal strings, rankings
 * deterministic (ties broken by the other figure, then by key), top-k by one pass over the keys.
 */

export interface CategoryFigures {
  readonly category: string;
  readonly lines: number;
  readonly sales: number;
  readonly units: number;
  readonly revenue: string;
}

export interface ProductFigures {
  readonly productId: string;
  readonly lines: number;
  readonly sales: number;
  readonly units: number;
  readonly revenue: string;
}

export interface CustomerRank {
  readonly customerId: string;
  readonly sales: number;
  readonly revenue: string;
}

export interface Totals {
  readonly sales: number;
  readonly returns: number;
  readonly units: number;
  readonly grossRevenue: string;
  readonly returnedRevenue: string;
  readonly netRevenue: string;
  /** Gross revenue per sale (returns excluded), rounded half away from zero to 4 decimals; null with no sales. */
  readonly averageBasket: string | null;
  /** Customers with at least one sale or return in the window (exact: every customer key is held). */
  readonly distinctCustomers: number;
}

export interface SummaryFigures extends Totals {
  readonly categories: CategoryFigures[];
  readonly topCategoriesByCount: CategoryFigures[];
  readonly topCategoriesByRevenue: CategoryFigures[];
  readonly topProductsByRevenue: ProductFigures[];
  readonly topProductsByUnits: ProductFigures[];
  readonly topCustomers: CustomerRank[];
}

export interface SummaryLimits {
  readonly topCategories: number;
  readonly topProducts: number;
  readonly topCustomers: number;
}

export const DEFAULT_LIMITS: SummaryLimits = { topCategories: 3, topProducts: 10, topCustomers: 5 };

export function totalsOf(agg: Aggregate): Totals {
  const gross = moneyBigint(agg.gross);
  const returned = moneyBigint(agg.returned);
  return {
    sales: agg.sales,
    returns: agg.returns,
    units: agg.units,
    grossRevenue: fromUnits(gross),
    returnedRevenue: fromUnits(returned),
    netRevenue: fromUnits(gross - returned),
    averageBasket: agg.sales === 0 ? null : fromUnits(divideRounded(gross, BigInt(agg.sales))),
    distinctCustomers: agg.customers.live,
  };
}

export function summaryOf(agg: Aggregate, limits: SummaryLimits = DEFAULT_LIMITS): SummaryFigures {
  const categories = topK(agg.categories, agg.categories.live, byCountThenRevenue).map((o) =>
    categoryFigures(agg.categories, o),
  );
  return {
    ...totalsOf(agg),
    categories,
    topCategoriesByCount: categories.slice(0, limits.topCategories),
    topCategoriesByRevenue: topK(agg.categories, limits.topCategories, byRevenueThenCount).map((o) =>
      categoryFigures(agg.categories, o),
    ),
    topProductsByRevenue: topK(agg.products, limits.topProducts, byRevenueThenCount).map((o) =>
      productFigures(agg.products, o),
    ),
    topProductsByUnits: topK(agg.products, limits.topProducts, byUnitsThenRevenue).map((o) =>
      productFigures(agg.products, o),
    ),
    topCustomers: topCustomersOf(agg, limits.topCustomers),
  };
}

/** What the seed's /feedback returned: the three most common categories (by lines sold) and their revenue. */
export function topCategoriesByCount(agg: Aggregate, k = 3): CategoryFigures[] {
  return topK(agg.categories, k, byCountThenRevenue).map((o) => categoryFigures(agg.categories, o));
}

export function topCustomersOf(agg: Aggregate, k: number): CustomerRank[] {
  const t = agg.customers;
  return topK(t, k, byCustomerRevenue).map((o) => ({
    customerId: nameAt(t, o),
    sales: t.rows[o + C_SALES]!,
    revenue: fromUnits(moneyAt(t, o, C_MONEY)),
  }));
}

/** A product's figures, zero when it had no sale in the window. */
export function productOf(agg: Aggregate, productId: string): ProductFigures {
  const o = agg.products.offsetOf(productId);
  if (o < 0) return { productId, lines: 0, sales: 0, units: 0, revenue: '0' };
  return productFigures(agg.products, o);
}

function categoryFigures(t: FigureTable, o: number): CategoryFigures {
  return { category: nameAt(t, o), ...keyTotals(t, o) };
}

function productFigures(t: FigureTable, o: number): ProductFigures {
  return { productId: nameAt(t, o), ...keyTotals(t, o) };
}

/** A category's or product's figures as the API shows them. */
function keyTotals(t: FigureTable, o: number): Omit<ProductFigures, 'productId'> {
  const f = keyFiguresAt(t, o);
  return { lines: f.lines, sales: f.sales, units: f.units, revenue: fromUnits(moneyBigint(f)) };
}

/** The key name of the row at offset `o`. */
function nameAt(t: FigureTable, o: number): string {
  return t.dictionary.name(t.keys[o / t.stride]! - 1);
}

function moneyAt(t: FigureTable, o: number, col: number): bigint {
  return moneyBigint({ lo: t.rows[o + col]!, hi: t.rows[o + col + 1]! });
}

/** Orders two rows of one table: negative when the row at `a` ranks first. */
type Compare = (t: FigureTable, a: number, b: number) => number;

function compareMoney(t: FigureTable, a: number, b: number, col: number): number {
  const r = t.rows;
  const x = r[a + col + 1]! * CARRY + r[a + col]!;
  const y = r[b + col + 1]! * CARRY + r[b + col]!;
  if (x !== y) return y - x;
  const bx = moneyAt(t, a, col);
  const by = moneyAt(t, b, col);
  return bx === by ? 0 : bx > by ? -1 : 1;
}

function byName(t: FigureTable, a: number, b: number): number {
  const x = nameAt(t, a);
  const y = nameAt(t, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const byCountThenRevenue: Compare = (t, a, b) =>
  t.rows[b + K_LINES]! - t.rows[a + K_LINES]! || compareMoney(t, a, b, K_MONEY) || byName(t, a, b);
const byRevenueThenCount: Compare = (t, a, b) =>
  compareMoney(t, a, b, K_MONEY) || t.rows[b + K_LINES]! - t.rows[a + K_LINES]! || byName(t, a, b);
const byUnitsThenRevenue: Compare = (t, a, b) =>
  t.rows[b + K_UNITS]! - t.rows[a + K_UNITS]! || compareMoney(t, a, b, K_MONEY) || byName(t, a, b);
const byCustomerRevenue: Compare = (t, a, b) =>
  compareMoney(t, a, b, C_MONEY) || t.rows[b + C_SALES]! - t.rows[a + C_SALES]! || byName(t, a, b);

/** Row offsets of the k best live entries by `compare`, in order: one pass, a sorted array of at most k. */
export function topK(t: FigureTable, k: number, compare: Compare): number[] {
  const best: number[] = [];
  if (k <= 0) return best;
  t.forEachLive((_id, o) => {
    if (best.length === k && compare(t, o, best[k - 1]!) >= 0) return;
    if (best.length === k) best.pop();
    let i = best.length;
    while (i > 0 && compare(t, o, best[i - 1]!) < 0) i--;
    best.splice(i, 0, o);
  });
  return best;
}

/** n / d rounded half away from zero, for d > 0. */
function divideRounded(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if (2n * (r < 0n ? -r : r) >= d) return n < 0n ? q - 1n : q + 1n;
  return q;
}
