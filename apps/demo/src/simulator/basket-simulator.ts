import { seededRandom } from '@tally/common';
import {
  fromUnits,
  moneyText,
  type SaleLineSubmission,
  type SaleSubmission,
  toUnits,
} from '@tally/contracts';
import {
  isLeanRegister,
  type StoreBranch,
  type StoreCatalog,
  type StoreProduct,
} from './store-catalog.model.js';

export interface SimulatorOptions {
  /** Every sale id is `<runId>-<n>`, so one run's sales can be found in any store. */
  readonly runId: string;
  readonly seed?: number;
  /** What is sold where: from the catalog CSV files (catalog/demo-catalog.loader.ts). */
  readonly catalog: StoreCatalog;
  /** Loyalty-card holders; a few of them make most of the visits (default 400). */
  readonly customers?: number;
  /** Share of receipts that return part of an earlier sale (default 0.02). */
  readonly returnRate?: number;
  /** Share of shoppers without a loyalty card, sold to anonymously (default 0.2). */
  readonly anonymousRate?: number;
  /** Share of lines on promotion, 10 % off the line (default 0.08). */
  readonly promotionRate?: number;
  /** Share of receipts that deliberately break a catalog rule (default 0: none). */
  readonly badShare?: number;
}

/** The catalog rules a deliberately bad receipt breaks, in turn. */
export const DELIBERATE_RULES = ['unknown-product', 'max-units-per-product', 'unknown-branch'] as const;
export type DeliberateRule = (typeof DELIBERATE_RULES)[number];
/** Ids the bad receipts use, which no catalog of the demo holds. */
export const UNLISTED_PRODUCT_ID = 'demo-unlisted-product';
export const UNLISTED_BRANCH_ID = 'demo-unlisted-branch';
const UNLISTED_CATEGORY = 'unlisted';

/** One receipt as a till sends it, with what the demo expects the stores to make of it. */
export interface SimulatedSale {
  /** What is sent: a lean till's lines omit name, category and brand (ingest fills them). */
  readonly sale: SaleSubmission;
  /** The category each line must be stored with: the line's own, else the catalog's. */
  readonly categories: readonly string[];
  /** Set on a deliberately rule-breaking receipt: the rule ingest must refuse it by. */
  readonly breaks?: DeliberateRule;
}

/** Basket sizes 1..8 and how often each occurs: mostly small top-up shops, some big ones. */
const BASKET_SIZE_WEIGHTS = [18, 22, 20, 15, 11, 7, 4, 3];
const TOURIST_COUNTRIES = ['FR', 'PT', 'DE', 'GB'];
const PAYMENT_METHODS: readonly [string, number][] = [
  ['card', 0.6],
  ['cash', 0.25],
  ['mobile', 0.15],
];

interface Returnable {
  readonly sold: SimulatedSale;
  /** Indexes of its lines not yet returned. */
  readonly open: number[];
}

/**
 * The demo's shoppers. Each call to next() is one receipt at one register of one branch:
 *
 * - baskets of 1–8 distinct products drawn by popularity without replacement, so a product
 *   appears at most once per purchase, with at most `maxUnitsPerProduct` units (1 in the
 *   supermarket seed: every line has quantity 1); now and then a line on promotion;
 * - registers of two kinds: most send complete lines (name, category, brand from the catalog),
 *   the branch's lean ones send only productId, quantity and price, so ingest fills the rest
 *   from its copy of the same catalog;
 * - customers who come back: a loyalty pool where a few make most of the visits, each with a
 *   home branch (80 % of their visits), plus anonymous shoppers; a few tourists (buyerCountry);
 * - a few returns: part of an earlier sale of this run, at the branch that sold it, for the same
 *   customer and payment method, each line returned at most once (its lines as first sent);
 * - with `badShare`, a few receipts that break a catalog rule on purpose, in turn: an unlisted
 *   product, one unit too many of a product, an unlisted branch. They are never returned.
 *
 * Deterministic for a seed. Money is computed in exact units of 1/10,000, never floats.
 */
export class BasketSimulator {
  private readonly random: () => number;
  private readonly catalog: StoreCatalog;
  private readonly returnable: Returnable[] = [];
  private n = 0;
  private bad = 0;

  constructor(private readonly options: SimulatorOptions) {
    this.random = seededRandom(options.seed ?? 42);
    this.catalog = options.catalog;
    if (this.catalog.branches.length === 0 || this.catalog.products.length === 0) {
      throw new Error('the simulator needs at least one branch and one product');
    }
  }

  next(now: Date = new Date()): SimulatedSale {
    this.n++;
    const saleId = `${this.options.runId}-${this.n}`;
    const badShare = this.options.badShare ?? 0;
    if (badShare > 0 && this.random() < badShare) {
      return this.badSale(saleId, now, DELIBERATE_RULES[this.bad++ % DELIBERATE_RULES.length]!);
    }
    if (this.returnable.length > 0 && this.random() < (this.options.returnRate ?? 0.02)) {
      return this.returnOf(saleId, now);
    }
    const sold = this.sale(saleId, now);
    this.returnable.push({ sold, open: sold.sale.lines.map((_, i) => i) });
    if (this.returnable.length > 500) this.returnable.shift();
    return sold;
  }

  private sale(saleId: string, now: Date): SimulatedSale {
    const customer = this.shopper();
    const branch =
      customer.home !== undefined && this.random() < 0.8 ? customer.home : this.pick(this.catalog.branches);
    const till = 1 + Math.floor(this.random() * Math.max(1, branch.registers));
    const lean = isLeanRegister(branch, till);
    const products = this.basket();
    const country = customer.country ?? branch.country;
    const sale: SaleSubmission = {
      saleId,
      kind: 'sale',
      branchId: branch.branchId,
      registerId: `${branch.branchId}-till-${till}`,
      cashierId: `${branch.branchId}-cashier-${till}`,
      ...(customer.customerId !== undefined && { customerId: customer.customerId }),
      occurredAt: now.toISOString(),
      currency: this.catalog.currency,
      ...(country !== undefined && { buyerCountry: country }),
      ...(branch.country !== undefined && { sellerCountry: branch.country }),
      paymentMethod: this.weighted(PAYMENT_METHODS),
      lines: products.map((product) => this.line(product, lean)),
    };
    return { sale, categories: products.map((p) => p.category) };
  }

  /** A receipt that breaks `rule`, otherwise like any other. */
  private badSale(saleId: string, now: Date, rule: DeliberateRule): SimulatedSale {
    const { sale, categories } = this.sale(saleId, now);
    switch (rule) {
      case 'unknown-product':
        return {
          sale: {
            ...sale,
            lines: [
              ...sale.lines,
              {
                productId: UNLISTED_PRODUCT_ID,
                productName: 'Unlisted item',
                category: UNLISTED_CATEGORY,
                quantity: 1,
                unitPrice: '0.99',
              },
            ],
          },
          categories: [...categories, UNLISTED_CATEGORY],
          breaks: rule,
        };
      case 'max-units-per-product': {
        const [first, ...rest] = sale.lines;
        const lines = [{ ...first!, quantity: this.catalog.maxUnitsPerProduct + 1 }, ...rest];
        return { sale: { ...sale, lines }, categories, breaks: rule };
      }
      case 'unknown-branch':
        return {
          sale: {
            ...sale,
            branchId: UNLISTED_BRANCH_ID,
            registerId: `${UNLISTED_BRANCH_ID}-till-1`,
            cashierId: `${UNLISTED_BRANCH_ID}-cashier-1`,
          },
          categories,
          breaks: rule,
        };
    }
  }

  /** A return of one (sometimes two) not yet returned lines of a recent sale. */
  private returnOf(saleId: string, now: Date): SimulatedSale {
    const at = Math.floor(this.random() * this.returnable.length);
    const { sold, open } = this.returnable[at]!;
    const { sale } = sold;
    const count = open.length > 1 && this.random() < 0.2 ? 2 : 1;
    const lines: SaleLineSubmission[] = [];
    const categories: string[] = [];
    for (let i = 0; i < count; i++) {
      const [index] = open.splice(Math.floor(this.random() * open.length), 1);
      lines.push(sale.lines[index!]!);
      categories.push(sold.categories[index!]!);
    }
    if (open.length === 0) this.returnable.splice(at, 1);
    const till = 1 + Math.floor(this.random() * Math.max(1, this.branch(sale.branchId).registers));
    return {
      sale: {
        saleId,
        kind: 'return',
        originalSaleId: sale.saleId,
        branchId: sale.branchId,
        registerId: `${sale.branchId}-till-${till}`,
        cashierId: `${sale.branchId}-cashier-${till}`,
        ...(sale.customerId !== undefined && { customerId: sale.customerId }),
        occurredAt: now.toISOString(),
        currency: sale.currency,
        ...(sale.buyerCountry !== undefined && { buyerCountry: sale.buyerCountry }),
        ...(sale.sellerCountry !== undefined && { sellerCountry: sale.sellerCountry }),
        ...(sale.paymentMethod !== undefined && { paymentMethod: sale.paymentMethod }),
        lines,
      },
      categories,
    };
  }

  private shopper(): { customerId?: string; home?: StoreBranch; country?: string } {
    if (this.random() < (this.options.anonymousRate ?? 0.2)) return {};
    const pool = this.options.customers ?? 400;
    // Squaring a uniform draw favours low numbers: a quarter of the pool makes half the visits.
    const k = Math.floor(pool * this.random() ** 2);
    const branches = this.catalog.branches;
    return {
      customerId: `C${String(k).padStart(5, '0')}`,
      home: branches[k % branches.length]!,
      ...(k % 25 === 7 && { country: TOURIST_COUNTRIES[k % TOURIST_COUNTRIES.length]! }),
    };
  }

  /** Distinct products, drawn by popularity without replacement. */
  private basket(): StoreProduct[] {
    const size = Math.min(this.catalog.products.length, 1 + this.weightedIndex(BASKET_SIZE_WEIGHTS));
    const left = [...this.catalog.products];
    const chosen: StoreProduct[] = [];
    while (chosen.length < size) {
      const index = this.weightedIndex(left.map((product) => product.popularity));
      chosen.push(left.splice(index, 1)[0]!);
    }
    return chosen;
  }

  /** A complete line, or a lean till's: productId, quantity and price only (and a discount). */
  private line(product: StoreProduct, lean: boolean): SaleLineSubmission {
    const max = Math.max(1, this.catalog.maxUnitsPerProduct);
    const quantity = max > 1 && this.random() < 0.2 ? 1 + Math.floor(this.random() * Math.min(max, 3)) : 1;
    const line: SaleLineSubmission = lean
      ? { productId: product.productId, quantity, unitPrice: product.listPrice }
      : {
          productId: product.productId,
          productName: product.name,
          category: product.category,
          ...(product.brand !== undefined && { brand: product.brand }),
          quantity,
          unitPrice: product.listPrice,
        };
    if (this.random() < (this.options.promotionRate ?? 0.08)) {
      // 10 % off the line, rounded down to the cent.
      const discount = ((toUnits(product.listPrice) * BigInt(quantity)) / 1000n) * 100n;
      if (discount > 0n) return { ...line, discount: fromUnits(discount) };
    }
    return line;
  }

  private branch(branchId: string): StoreBranch {
    return this.catalog.branches.find((b) => b.branchId === branchId) ?? this.catalog.branches[0]!;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private weighted<T>(options: readonly (readonly [T, number])[]): T {
    return options[this.weightedIndex(options.map(([, w]) => w))]![0];
  }

  private weightedIndex(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = this.random() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

/**
 * Signed net total of a receipt in units of 1/10,000 (negative for a return), by the contract's
 * rule: each line's explicit amount, else quantity × unitPrice − discount. What every store must
 * sum this run's sales to.
 */
export function netUnits(sale: SaleSubmission): bigint {
  let total = 0n;
  for (const line of sale.lines) total += lineUnits(line);
  return sale.kind === 'return' ? -total : total;
}

/** Signed net amount of each line of a receipt (negative for a return), in line order. */
export function lineNetUnits(sale: SaleSubmission): bigint[] {
  const sign = sale.kind === 'return' ? -1n : 1n;
  return sale.lines.map((line) => sign * lineUnits(line));
}

function lineUnits(line: SaleLineSubmission): bigint {
  return line.amount !== undefined
    ? money(line.amount)
    : money(line.unitPrice) * BigInt(line.quantity) -
        (line.discount !== undefined ? money(line.discount) : 0n);
}

function money(value: string | number): bigint {
  const text = moneyText(value);
  if (text === undefined) throw new Error(`${JSON.stringify(value)} is not a money amount`);
  return toUnits(text);
}
