import { addMoney, type MoneySum } from './money.js';
import type { KeyContribution, SaleContribution } from './sale-contribution.js';

/**
 * Figures of one category or product within an aggregate. The record is its own revenue sum
 * (`lo`, `hi`: net revenue in units of 1/10,000, see money.ts): one object per entry, not two,
 * since memory is entries × buckets.
 */
export interface KeyFigures extends MoneySum {
  /** Sales and returns that touched the key: the entry is dropped when it falls to 0. */
  refs: number;
  /** Lines of kind = sale (returns do not count as lines sold). */
  lines: number;
  /** Receipts of kind = sale holding the key. */
  sales: number;
  /** Net units: sold minus returned. */
  units: number;
}

/** One customer's figures; the record is its own net revenue sum (`lo`, `hi`). */
export interface CustomerFigures extends MoneySum {
  refs: number;
  sales: number;
}

/**
 * The figures of one bucket, one window's running total or the all-time total of one scope:
 * counts, units and exact money, per category, product and customer. Everything is additive and
 * has an inverse, so a window is "running total += sale" as buckets fill and "running total -=
 * bucket" as they expire, and a query reads the running total without merging buckets.
 *
 * Memory is the number of keys present, never the number of sales: an entry exists while at
 * least one sale or return in the aggregate touched it (`refs`).
 */
export class Aggregate {
  sales = 0;
  returns = 0;
  units = 0;
  readonly gross: MoneySum = { lo: 0, hi: 0 };
  readonly returned: MoneySum = { lo: 0, hi: 0 };
  readonly categories = new Map<string, KeyFigures>();
  readonly products = new Map<string, KeyFigures>();
  readonly customers = new Map<string, CustomerFigures>();

  /** Adds (direction 1) or removes (direction -1) one sale's contribution. */
  apply(c: SaleContribution, direction: 1 | -1): void {
    const isSale = c.sign === 1;
    const signed = (c.sign * direction) as 1 | -1;
    if (isSale) {
      this.sales += direction;
      addMoney(this.gross, c.amount.lo, c.amount.hi, direction);
    } else {
      this.returns += direction;
      addMoney(this.returned, c.amount.lo, c.amount.hi, direction);
    }
    this.units += signed * c.units;
    for (const k of c.categories) applyKey(this.categories, k, isSale, direction, signed);
    for (const k of c.products) applyKey(this.products, k, isSale, direction, signed);
    if (c.customerId !== undefined) {
      let f = this.customers.get(c.customerId);
      if (f === undefined) {
        f = { refs: 0, sales: 0, lo: 0, hi: 0 };
        this.customers.set(c.customerId, f);
      }
      f.refs += direction;
      if (isSale) f.sales += direction;
      addMoney(f, c.amount.lo, c.amount.hi, signed);
      if (f.refs === 0) this.customers.delete(c.customerId);
    }
  }

  /** Adds (1) or removes (-1) every figure of another aggregate: a bucket entering or leaving a window. */
  merge(other: Aggregate, direction: 1 | -1): void {
    this.sales += direction * other.sales;
    this.returns += direction * other.returns;
    this.units += direction * other.units;
    addMoney(this.gross, other.gross.lo, other.gross.hi, direction);
    addMoney(this.returned, other.returned.lo, other.returned.hi, direction);
    mergeKeys(this.categories, other.categories, direction);
    mergeKeys(this.products, other.products, direction);
    for (const [id, o] of other.customers) {
      let f = this.customers.get(id);
      if (f === undefined) {
        f = { refs: 0, sales: 0, lo: 0, hi: 0 };
        this.customers.set(id, f);
      }
      f.refs += direction * o.refs;
      f.sales += direction * o.sales;
      addMoney(f, o.lo, o.hi, direction);
      if (f.refs === 0) this.customers.delete(id);
    }
  }

  get isEmpty(): boolean {
    return this.sales === 0 && this.returns === 0;
  }

  /** Entries held: what memory grows with. */
  get keyCount(): number {
    return this.categories.size + this.products.size + this.customers.size;
  }
}

function newKey(): KeyFigures {
  return { refs: 0, lines: 0, sales: 0, units: 0, lo: 0, hi: 0 };
}

function applyKey(
  map: Map<string, KeyFigures>,
  k: KeyContribution,
  isSale: boolean,
  direction: 1 | -1,
  signed: 1 | -1,
): void {
  let f = map.get(k.key);
  if (f === undefined) {
    f = newKey();
    map.set(k.key, f);
  }
  f.refs += direction;
  if (isSale) {
    f.lines += direction * k.lines;
    f.sales += direction;
  }
  f.units += signed * k.units;
  addMoney(f, k.amount.lo, k.amount.hi, signed);
  if (f.refs === 0) map.delete(k.key);
}

function mergeKeys(into: Map<string, KeyFigures>, from: Map<string, KeyFigures>, direction: 1 | -1): void {
  for (const [key, o] of from) {
    let f = into.get(key);
    if (f === undefined) {
      f = newKey();
      into.set(key, f);
    }
    f.refs += direction * o.refs;
    f.lines += direction * o.lines;
    f.sales += direction * o.sales;
    f.units += direction * o.units;
    addMoney(f, o.lo, o.hi, direction);
    if (f.refs === 0) into.delete(key);
  }
}
