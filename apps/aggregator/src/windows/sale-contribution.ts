import { type Sale, timestampMs, unitsOf } from '@tally/contracts';
import { KEYS, type KeyDictionaries } from './key-dictionary.js';
import { CARRY } from './key-table.js';

/** What one line group (a category or a product within one sale) adds to the figures. */
export interface KeyContribution {
  /** The key's id in its dictionary. */
  readonly id: number;
  /** Lines of this key in the sale (counted as lines only for kind = sale). */
  lines: number;
  /** Units, unsigned: the sale's `sign` says whether they add or subtract. */
  units: number;
  /** Net amount in units of 1/10,000 as lo + hi × 2^40, unsigned. */
  lo: number;
  hi: number;
}

/**
 * A sale reduced, once, to what it adds to every aggregate it lands in: key ids instead of
 * names, money as integers. The windows then apply the same small record to each bucket
 * instead of walking the sale's lines again.
 */
export interface SaleContribution {
  readonly saleId: string;
  readonly branchId: string;
  /** The customer's id in its dictionary, or -1 for an anonymous sale. */
  readonly customer: number;
  readonly occurredAtMs: number;
  readonly receivedAtMs: number;
  /** +1 for a sale, -1 for a return: returns subtract revenue and units. */
  readonly sign: 1 | -1;
  readonly units: number;
  /** The sale's net amount, lo + hi × 2^40 units of 1/10,000, unsigned. */
  readonly lo: number;
  readonly hi: number;
  readonly categories: readonly KeyContribution[];
  readonly products: readonly KeyContribution[];
}

export function contributionOf(sale: Sale): SaleContribution {
  const keys = KEYS;
  const categories: KeyContribution[] = [];
  const products: KeyContribution[] = [];
  let units = 0;
  let lo = 0;
  let hi = 0;
  for (const line of sale.lines) {
    const lineUnits = unitsOf(line.amount);
    lo += lineUnits;
    if (lo >= CARRY) {
      const q = Math.trunc(lo / CARRY);
      hi += q;
      lo -= q * CARRY;
    }
    units += line.quantity;
    const product = keys.products.id(line.productId);
    addTo(categories, categoryId(keys, product, line.category), line.quantity, lineUnits);
    addTo(products, product, line.quantity, lineUnits);
  }
  return {
    saleId: sale.saleId,
    branchId: sale.branchId,
    customer: sale.customerId === undefined ? -1 : keys.customers.id(sale.customerId),
    occurredAtMs: timestampMs(sale.occurredAt),
    receivedAtMs: timestampMs(sale.receivedAt),
    sign: sale.kind === 'return' ? -1 : 1,
    units,
    lo,
    hi,
    categories,
    products,
  };
}

/**
 * Per product id, the id + 1 of the category its last line named (0: none yet). A product keeps
 * its category, so a line's category is found by comparing its text with that category's name
 * instead of hashing it into the dictionary again; a product that moved category is looked up
 * and remembered anew.
 */
let lastCategory = new Int32Array(1024);

function categoryId(keys: KeyDictionaries, product: number, category: string): number {
  const known = product < lastCategory.length ? lastCategory[product]! - 1 : -1;
  if (known >= 0 && keys.categories.name(known) === category) return known;
  const id = keys.categories.id(category);
  if (product >= lastCategory.length) {
    const grown = new Int32Array(Math.max(product + 1, lastCategory.length * 2));
    grown.set(lastCategory);
    lastCategory = grown;
  }
  lastCategory[product] = id + 1;
  return id;
}

/** Sales have a handful of lines: a linear scan beats a Map here. */
function addTo(list: KeyContribution[], id: number, quantity: number, lineUnits: number): void {
  for (let i = 0; i < list.length; i++) {
    const entry = list[i]!;
    if (entry.id === id) {
      entry.lines++;
      entry.units += quantity;
      entry.lo += lineUnits;
      if (entry.lo >= CARRY) {
        const q = Math.trunc(entry.lo / CARRY);
        entry.hi += q;
        entry.lo -= q * CARRY;
      }
      return;
    }
  }
  list.push({ id, lines: 1, units: quantity, lo: lineUnits, hi: 0 });
}
