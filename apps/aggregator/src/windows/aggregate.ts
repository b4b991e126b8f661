import { KEYS, type KeyDictionary } from './key-dictionary.js';
import { KeyTable } from './key-table.js';
import { addMoney, type MoneySum } from './money.js';
import type { KeyContribution, SaleContribution } from './sale-contribution.js';

/** Columns of a category or product row. */
export const K_REFS = 0;
export const K_LINES = 1;
export const K_SALES = 2;
export const K_UNITS = 3;
/** Net revenue, lo + hi × 2^40 units of 1/10,000 (columns 4 and 5). */
export const K_MONEY = 4;
export const KEY_STRIDE = 6;

/** Columns of a customer row. */
export const C_REFS = 0;
export const C_SALES = 1;
/** Net revenue (columns 2 and 3). */
export const C_MONEY = 2;
export const CUSTOMER_STRIDE = 4;

/** An aggregate's figures as stored: `length` float64s at `offset` in the body of checkpoint object `object`. */
export interface StoredPart {
  readonly object: string;
  readonly offset: number;
  readonly length: number;
}

/** Figures of one category or product within an aggregate, as read out of its row. */
export interface KeyFigures extends MoneySum {
  /** Sales and returns that touched the key: the entry is gone when it falls to 0. */
  refs: number;
  /** Lines of kind = sale (returns do not count as lines sold). */
  lines: number;
  /** Receipts of kind = sale holding the key. */
  sales: number;
  /** Net units: sold minus returned. */
  units: number;
}

/** One customer's figures, as read out of its row. */
export interface CustomerFigures extends MoneySum {
  refs: number;
  sales: number;
}

/**
 * A KeyTable whose keys are names in one dictionary: the Map-like reads (by name) the API and
 * tests use. The hot path works on `slot`/`rows` directly.
 */
export class FigureTable extends KeyTable {
  constructor(
    stride: number,
    readonly dictionary: KeyDictionary,
    capacity?: number,
  ) {
    super(stride, capacity);
  }

  /** Entries that exist (refs ≠ 0). */
  get size(): number {
    return this.live;
  }

  /** The offset of `name`'s live row, or -1. */
  offsetOf(name: string): number {
    const id = this.dictionary.find(name);
    if (id < 0) return -1;
    const o = this.find(id);
    return o >= 0 && this.rows[o] !== 0 ? o : -1;
  }

  has(name: string): boolean {
    return this.offsetOf(name) >= 0;
  }

  /** A live row read as an object (KeyFigures or CustomerFigures by the table's stride), or undefined. */
  get(name: string): KeyFigures | CustomerFigures | undefined {
    const o = this.offsetOf(name);
    if (o < 0) return undefined;
    return this.stride === KEY_STRIDE ? keyFiguresAt(this, o) : customerFiguresAt(this, o);
  }

  /** Writes a row from an object (tests, fixtures): refs ≠ 0 makes it live. */
  set(name: string, f: KeyFigures | CustomerFigures): void {
    const o = this.slot(this.dictionary.id(name));
    const wasLive = this.rows[o] !== 0;
    const row =
      this.stride === KEY_STRIDE
        ? [f.refs, (f as KeyFigures).lines, f.sales, (f as KeyFigures).units, f.lo, f.hi]
        : [f.refs, f.sales, f.lo, f.hi];
    for (let c = 0; c < row.length; c++) this.rows[o + c] = row[c]!;
    this.live += (f.refs !== 0 ? 1 : 0) - (wasLive ? 1 : 0);
  }

  /** The live rows as a Map by name (tests compare tables with it). */
  toMap(): Map<string, KeyFigures | CustomerFigures> {
    const out = new Map<string, KeyFigures | CustomerFigures>();
    for (const name of this.names()) out.set(name, this.get(name)!);
    return out;
  }

  /** Names of the live entries, in table order. */
  names(): string[] {
    const out: string[] = [];
    this.forEachLive((id) => out.push(this.dictionary.name(id)));
    return out;
  }
}

/** Reads a category/product row as an object. */
export function keyFiguresAt(table: KeyTable, o: number): KeyFigures {
  const r = table.rows;
  return {
    refs: r[o + K_REFS]!,
    lines: r[o + K_LINES]!,
    sales: r[o + K_SALES]!,
    units: r[o + K_UNITS]!,
    lo: r[o + K_MONEY]!,
    hi: r[o + K_MONEY + 1]!,
  };
}

/** Reads a customer row as an object. */
export function customerFiguresAt(table: KeyTable, o: number): CustomerFigures {
  const r = table.rows;
  return { refs: r[o + C_REFS]!, sales: r[o + C_SALES]!, lo: r[o + C_MONEY]!, hi: r[o + C_MONEY + 1]! };
}

/**
 * The figures of one bucket, one window's running total or the all-time total of one scope:
 * counts, units and exact money, per category, product and customer. Everything is additive and
 * has an inverse, so a window is "running total += sale" as buckets fill and "running total -=
 * bucket" as they expire, and a query reads the running total without merging buckets.
 *
 * Memory is the number of keys present, never the number of sales: a row exists while at least
 * one sale or return in the aggregate touched its key (`refs`), plus rows fallen to 0 until the
 * next compact().
 */
export class Aggregate {
  sales = 0;
  returns = 0;
  units = 0;
  readonly gross: MoneySum = { lo: 0, hi: 0 };
  readonly returned: MoneySum = { lo: 0, hi: 0 };
  readonly categories: FigureTable;
  readonly products: FigureTable;
  readonly customers: FigureTable;
  /**
   * Set while a snapshot that includes this aggregate is being encoded and has not encoded it
   * yet: every change calls it first (copy-on-write, see SnapshotWriter).
   */
  pendingSnapshot: { capture(agg: Aggregate): void } | undefined = undefined;
  /** This aggregate's place in that snapshot. */
  snapshotSlot = 0;
  /**
   * Where a checkpoint stored these figures, as long as they have not changed since: the next
   * checkpoint refers to them there instead of writing them again (see SnapshotWriter). Every
   * change clears it.
   */
  saved: StoredPart | undefined = undefined;

  /** `like`: an aggregate of similar size (the previous bucket), whose key counts size the tables up front. */
  constructor(like?: Aggregate) {
    const size = (t: KeyTable | undefined) => (t === undefined ? undefined : Math.ceil((t.live * 4) / 3) + 1);
    this.categories = new FigureTable(KEY_STRIDE, KEYS.categories, size(like?.categories));
    this.products = new FigureTable(KEY_STRIDE, KEYS.products, size(like?.products));
    this.customers = new FigureTable(CUSTOMER_STRIDE, KEYS.customers, size(like?.customers));
  }

  /** Adds (direction 1) or removes (direction -1) one sale's contribution. */
  apply(c: SaleContribution, direction: 1 | -1): void {
    this.changing();
    const isSale = c.sign === 1;
    const signed = c.sign * direction;
    if (isSale) {
      this.sales += direction;
      addMoney(this.gross, c.lo, c.hi, direction);
    } else {
      this.returns += direction;
      addMoney(this.returned, c.lo, c.hi, direction);
    }
    this.units += signed * c.units;
    const categories = c.categories;
    for (let i = 0; i < categories.length; i++)
      applyKey(this.categories, categories[i]!, isSale, direction, signed);
    const products = c.products;
    for (let i = 0; i < products.length; i++)
      applyKey(this.products, products[i]!, isSale, direction, signed);
    if (c.customer >= 0) {
      const t = this.customers;
      const o = t.slot(c.customer);
      t.ref(o, direction);
      if (isSale) t.rows[o + C_SALES]! += direction;
      t.addMoney(o, C_MONEY, c.lo, c.hi, signed);
    }
  }

  /** Adds (1) or removes (-1) every figure of another aggregate: a bucket entering or leaving a window. */
  merge(other: Aggregate, direction: 1 | -1): void {
    this.changing();
    this.sales += direction * other.sales;
    this.returns += direction * other.returns;
    this.units += direction * other.units;
    addMoney(this.gross, other.gross.lo, other.gross.hi, direction);
    addMoney(this.returned, other.returned.lo, other.returned.hi, direction);
    mergeTable(this.categories, other.categories, direction);
    mergeTable(this.products, other.products, direction);
    mergeTable(this.customers, other.customers, direction);
  }

  /** Back to empty, keeping the tables' capacity. */
  clear(): void {
    this.changing();
    this.sales = 0;
    this.returns = 0;
    this.units = 0;
    this.gross.lo = this.gross.hi = 0;
    this.returned.lo = this.returned.hi = 0;
    this.categories.clear();
    this.products.clear();
    this.customers.clear();
  }

  /** A detached copy of the figures: what a snapshot keeps of an aggregate about to change. */
  copy(): Aggregate {
    const c = new Aggregate();
    c.sales = this.sales;
    c.returns = this.returns;
    c.units = this.units;
    c.gross.lo = this.gross.lo;
    c.gross.hi = this.gross.hi;
    c.returned.lo = this.returned.lo;
    c.returned.hi = this.returned.hi;
    c.categories.copyFrom(this.categories);
    c.products.copyFrom(this.products);
    c.customers.copyFrom(this.customers);
    return c;
  }

  /**
   * Restoring a snapshot: gives the (empty) tables room for `categories`, `products` and
   * `customers` rows without growing, their nine arrays carved out of one block. One allocation
   * per aggregate where reserve() makes nine, and one buffer for the garbage collector to track:
   * a restore makes tens of thousands of aggregates. For aggregates that will not grow (closed
   * buckets): a table that grows later leaves its part of the block to the others.
   */
  reserveInOneBlock(categories: number, products: number, customers: number): void {
    const tables = [this.categories, this.products, this.customers];
    const sizes = [categories, products, customers].map((n) => KeyTable.sizedFor(n));
    let bytes = 0;
    tables.forEach((t, i) => {
      const { capacity, order } = sizes[i]!;
      bytes += capacity * t.stride * 8 + (capacity + order) * 4;
    });
    const block = new ArrayBuffer(bytes);
    // Float64 rows first (8-aligned), then the Int32 keys and orders.
    let at = 0;
    const rows = tables.map((t, i) => {
      const view = new Float64Array(block, at, sizes[i]!.capacity * t.stride);
      at += view.byteLength;
      return view;
    });
    tables.forEach((t, i) => {
      const { capacity, order } = sizes[i]!;
      const keys = new Int32Array(block, at, capacity);
      at += keys.byteLength;
      const slots = new Int32Array(block, at, order);
      at += slots.byteLength;
      t.adopt(keys, rows[i]!, slots);
    });
  }

  /** Drops rows fallen to 0 once they are the majority (running totals, as keys come and go). */
  compact(): void {
    // Same figures either way; only a real compaction is a change (a stored copy stays good).
    const { categories, products, customers } = this;
    if (!categories.wantsCompaction && !products.wantsCompaction && !customers.wantsCompaction) return;
    this.changing();
    this.categories.compact();
    this.products.compact();
    this.customers.compact();
  }

  /** Before any change: a snapshot being encoded takes the figures first; a stored copy goes stale. */
  private changing(): void {
    this.pendingSnapshot?.capture(this);
    this.saved = undefined;
  }

  get isEmpty(): boolean {
    return this.sales === 0 && this.returns === 0;
  }

  /** Entries held: what memory grows with. */
  get keyCount(): number {
    return this.categories.live + this.products.live + this.customers.live;
  }
}

function applyKey(t: KeyTable, k: KeyContribution, isSale: boolean, direction: number, signed: number): void {
  const o = t.slot(k.id);
  const rows = t.rows;
  t.ref(o, direction);
  if (isSale) {
    rows[o + K_LINES]! += direction * k.lines;
    rows[o + K_SALES]! += direction;
  }
  rows[o + K_UNITS]! += signed * k.units;
  t.addMoney(o, K_MONEY, k.lo, k.hi, signed);
}

/**
 * into += direction × from, row by row: every column is a count but the last two, which are a
 * money pair (lo, hi) whose lo is carried into hi.
 */
function mergeTable(into: KeyTable, from: KeyTable, direction: number): void {
  // A new bucket's first slot: sized once, instead of growing (and rehashing) on the way.
  if (into.used === 0) into.reserve(from.live);
  const stride = from.stride;
  const money = stride - 2;
  const keys = from.keys;
  const src = from.rows;
  const order = from.order;
  for (let j = 0; j < from.used; j++) {
    const i = order[j]!;
    const s = i * stride;
    if (src[s] === 0) continue;
    const k = keys[i]!;
    const o = into.slot(k - 1);
    into.ref(o, direction * src[s]!);
    const dst = into.rows;
    for (let c = 1; c < money; c++) dst[o + c]! += direction * src[s + c]!;
    into.addMoney(o, money, src[s + money]!, src[s + money + 1]!, direction);
  }
}
