import { type Sale, unitsOf } from '@tally/contracts';
import { addMoney, type MoneySum } from './money.js';

/** What one line group (a category or a product within one sale) adds to the figures. */
export interface KeyContribution {
  readonly key: string;
  /** Lines of this key in the sale (counted as lines only for kind = sale). */
  lines: number;
  /** Units, unsigned: the sale's `sign` says whether they add or subtract. */
  units: number;
  /** Net amount in units of 1/10,000, unsigned: `sign` says whether it adds or subtracts. */
  readonly amount: MoneySum;
}

/**
 * A sale reduced, once, to what it adds to every aggregate it lands in: the windows then apply
 * the same small record to each bucket instead of walking the sale's lines again.
 */
export interface SaleContribution {
  readonly saleId: string;
  readonly branchId: string;
  readonly customerId: string | undefined;
  readonly occurredAtMs: number;
  readonly receivedAtMs: number;
  /** +1 for a sale, -1 for a return: returns subtract revenue and units. */
  readonly sign: 1 | -1;
  readonly units: number;
  readonly amount: MoneySum;
  readonly categories: readonly KeyContribution[];
  readonly products: readonly KeyContribution[];
}

/**
 * One string object per key for the whole process. JSON.parse makes a new string for every
 * occurrence, and each bucket's map would keep its own copy; with millions of entries the
 * copies cost more than the figures. Grows with the key space (branches, categories, products,
 * customers), like the all-time figures do.
 */
const interned = new Map<string, string>();

function intern(key: string): string {
  const known = interned.get(key);
  if (known !== undefined) return known;
  interned.set(key, key);
  return key;
}

export function contributionOf(sale: Sale): SaleContribution {
  const sign = sale.kind === 'return' ? -1 : 1;
  const amount: MoneySum = { lo: 0, hi: 0 };
  const categories: KeyContribution[] = [];
  const products: KeyContribution[] = [];
  let units = 0;
  for (const line of sale.lines) {
    const lineUnits = unitsOf(line.amount);
    addMoney(amount, lineUnits, 0, 1);
    units += line.quantity;
    addTo(categories, line.category, line.quantity, lineUnits);
    addTo(products, line.productId, line.quantity, lineUnits);
  }
  return {
    saleId: sale.saleId,
    branchId: intern(sale.branchId),
    customerId: sale.customerId === undefined ? undefined : intern(sale.customerId),
    occurredAtMs: Date.parse(sale.occurredAt),
    receivedAtMs: Date.parse(sale.receivedAt),
    sign,
    units,
    amount,
    categories,
    products,
  };
}

/** Sales have a handful of lines: a linear scan beats a Map here. */
function addTo(list: KeyContribution[], key: string, quantity: number, lineUnits: number): void {
  for (const entry of list) {
    if (entry.key === key) {
      entry.lines++;
      entry.units += quantity;
      addMoney(entry.amount, lineUnits, 0, 1);
      return;
    }
  }
  list.push({ key: intern(key), lines: 1, units: quantity, amount: { lo: lineUnits, hi: 0 } });
}
