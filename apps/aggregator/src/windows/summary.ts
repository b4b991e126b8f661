import { fromUnits } from '@tally/contracts';
import type { Aggregate, CustomerFigures, KeyFigures } from './aggregate.js';
import { type MoneySum, moneyApprox, moneyBigint } from './money.js';

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
    distinctCustomers: agg.customers.size,
  };
}

export function summaryOf(agg: Aggregate, limits: SummaryLimits = DEFAULT_LIMITS): SummaryFigures {
  const categories = [...agg.categories].sort(byCountThenRevenue).map(([key, f]) => categoryFigures(key, f));
  return {
    ...totalsOf(agg),
    categories,
    topCategoriesByCount: categories.slice(0, limits.topCategories),
    topCategoriesByRevenue: topK(agg.categories, limits.topCategories, byRevenueThenCount).map(([k, f]) =>
      categoryFigures(k, f),
    ),
    topProductsByRevenue: topK(agg.products, limits.topProducts, byRevenueThenCount).map(([k, f]) =>
      productFigures(k, f),
    ),
    topProductsByUnits: topK(agg.products, limits.topProducts, byUnitsThenRevenue).map(([k, f]) =>
      productFigures(k, f),
    ),
    topCustomers: topCustomersOf(agg, limits.topCustomers),
  };
}

/** What the seed's /feedback returned: the three most common categories (by lines sold) and their revenue. */
export function topCategoriesByCount(agg: Aggregate, k = 3): CategoryFigures[] {
  return topK(agg.categories, k, byCountThenRevenue).map(([key, f]) => categoryFigures(key, f));
}

export function topCustomersOf(agg: Aggregate, k: number): CustomerRank[] {
  return topK(agg.customers, k, byCustomerRevenue).map(([customerId, f]) => ({
    customerId,
    sales: f.sales,
    revenue: fromUnits(moneyBigint(f)),
  }));
}

/** A product's figures, zero when it had no sale in the window. */
export function productOf(agg: Aggregate, productId: string): ProductFigures {
  const f = agg.products.get(productId);
  if (f === undefined) return { productId, lines: 0, sales: 0, units: 0, revenue: '0' };
  return productFigures(productId, f);
}

function categoryFigures(category: string, f: KeyFigures): CategoryFigures {
  return {
    category,
    lines: f.lines,
    sales: f.sales,
    units: f.units,
    revenue: fromUnits(moneyBigint(f)),
  };
}

function productFigures(productId: string, f: KeyFigures): ProductFigures {
  return {
    productId,
    lines: f.lines,
    sales: f.sales,
    units: f.units,
    revenue: fromUnits(moneyBigint(f)),
  };
}

type Compare<F> = (a: [string, F], b: [string, F]) => number;

const byKey = (a: [string, unknown], b: [string, unknown]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;

function compareMoney(a: MoneySum, b: MoneySum): number {
  const x = moneyApprox(a);
  const y = moneyApprox(b);
  if (x !== y) return y - x;
  const bx = moneyBigint(a);
  const by = moneyBigint(b);
  return bx === by ? 0 : bx > by ? -1 : 1;
}

const byCountThenRevenue: Compare<KeyFigures> = (a, b) =>
  b[1].lines - a[1].lines || compareMoney(a[1], b[1]) || byKey(a, b);
const byRevenueThenCount: Compare<KeyFigures> = (a, b) =>
  compareMoney(a[1], b[1]) || b[1].lines - a[1].lines || byKey(a, b);
const byUnitsThenRevenue: Compare<KeyFigures> = (a, b) =>
  b[1].units - a[1].units || compareMoney(a[1], b[1]) || byKey(a, b);
const byCustomerRevenue: Compare<CustomerFigures> = (a, b) =>
  compareMoney(a[1], b[1]) || b[1].sales - a[1].sales || byKey(a, b);

/** The k best entries by `compare`, in order: one pass, keeping a sorted array of at most k. */
export function topK<F>(map: ReadonlyMap<string, F>, k: number, compare: Compare<F>): [string, F][] {
  const best: [string, F][] = [];
  if (k <= 0) return best;
  for (const entry of map) {
    if (best.length === k && compare(entry, best[k - 1]!) >= 0) continue;
    let i = best.length === k ? k - 1 : best.length;
    if (best.length === k) best.pop();
    while (i > 0 && compare(entry, best[i - 1]!) < 0) i--;
    best.splice(i, 0, entry);
  }
  return best;
}

/** n / d rounded half away from zero, for d > 0. */
function divideRounded(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if (2n * (r < 0n ? -r : r) >= d) return n < 0n ? q - 1n : q + 1n;
  return q;
}
