import { randomBytes } from 'node:crypto';
import { seededRandom } from '@tally/common';
import { formatUnits, type Sale, type SaleInput, type SaleLineInput, validateSale } from '@tally/contracts';

/**
 * Sales for the aggregator benchmark from a bounded, seeded key space, so memory and snapshot
 * sizes depend on the keys, as they do in production, and every run has the same shape:
 *
 * - 50 branches (uniform traffic), 20 categories, 2,000 products (product i is in category
 *   i mod 20, with a fixed price), 50,000 customers;
 * - 1–4 lines per sale (40/30/20/10%, 2.0 on average), 70% of lines of one unit, 15% discounted;
 * - 60% of sales carry a customerId; a customer belongs to a home branch (customer i to branch
 *   i mod 50: 1,000 each) where 90% of those sales happen, the other 10% pick any customer;
 * - about 5% returns: one line of one of the last 1,000 sales, at that sale's branch, for its
 *   customer.
 *
 * `sale()` builds the canonical `Sale` (what ingest publishes) directly; `check()` runs the real
 * validateSale on the same input and fails if the two differ by a byte of their JSON.
 */
export const KEY_SPACE = {
  branches: 50,
  categories: 20,
  products: 2_000,
  customers: 50_000,
  /** Share of sales with a customerId. */
  customerShare: 0.6,
  /** Share of a branch's customer sales made by that branch's own (home) customers. */
  homeShare: 0.9,
  returnShare: 0.05,
} as const;

/** Share of sales with 1, 2, 3, 4 lines. */
const LINE_WEIGHTS = [40, 30, 20, 10];
const MAX_LINES = LINE_WEIGHTS.length;
const RECENT = 1_000;
const COUNTRIES = ['DE', 'AT', 'NL', 'FR', 'BE'];
const BRANDS = ['acme', 'northwind', 'contoso', 'fabrikam', 'globex', 'initech'];

/** The keys one sale touches, as indexes into the key space. */
export interface SaleKeys {
  branch: number;
  /** -1: no customerId. */
  customer: number;
  /** Product indexes, one per line (a product may repeat). */
  readonly products: number[];
}

interface Product {
  readonly productId: string;
  readonly productName: string | undefined;
  readonly category: string;
  readonly brand: string | undefined;
  readonly cents: number;
}

interface Recent {
  readonly saleId: string;
  readonly branch: number;
  readonly customer: number;
  readonly line: SaleLineInput;
}

export class SaleGenerator {
  readonly runId = randomBytes(4).toString('hex');
  private readonly random: () => number;
  private readonly products: Product[];
  private readonly branchIds: string[];
  private readonly customerIds: string[];
  private readonly recent: (Recent | undefined)[] = new Array(RECENT);
  private counter = 0;
  private lastInput: SaleInput | undefined;
  private lastReceivedAt = 0;
  /** Returns generated so far. */
  returns = 0;

  constructor(seed = 20_261_121) {
    this.random = seededRandom(seed);
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    this.products = Array.from({ length: KEY_SPACE.products }, (_, i) => ({
      productId: `p-${pad(i + 1, 4)}`,
      productName: this.random() < 0.85 ? `item ${i + 1}` : undefined,
      category: `category-${pad((i % KEY_SPACE.categories) + 1, 2)}`,
      brand: this.random() < 0.7 ? BRANDS[Math.floor(this.random() * BRANDS.length)] : undefined,
      cents: 49 + Math.floor(this.random() * 4_950),
    }));
    this.branchIds = Array.from({ length: KEY_SPACE.branches }, (_, b) => `branch-${pad(b + 1, 2)}`);
    this.customerIds = Array.from({ length: KEY_SPACE.customers }, (_, c) => `cust-${pad(c + 1, 5)}`);
  }

  /** Sales generated so far. */
  get generated(): number {
    return this.counter;
  }

  /** Draws the keys of one sale (not a return) with the generator's distributions. */
  drawKeys(into?: SaleKeys): SaleKeys {
    const r = this.random;
    const keys = into ?? { branch: 0, customer: -1, products: [] };
    keys.branch = Math.floor(r() * KEY_SPACE.branches);
    keys.customer = -1;
    if (r() < KEY_SPACE.customerShare) {
      keys.customer =
        r() < KEY_SPACE.homeShare
          ? keys.branch + KEY_SPACE.branches * Math.floor((r() * KEY_SPACE.customers) / KEY_SPACE.branches)
          : Math.floor(r() * KEY_SPACE.customers);
    }
    keys.products.length = 0;
    const lines = this.lineCount();
    for (let l = 0; l < lines; l++) keys.products.push(Math.floor(r() * KEY_SPACE.products));
    return keys;
  }

  /** The next sale (about 5% returns) as a client sends it. */
  input(occurredAtMs: number): SaleInput {
    const r = this.random;
    const n = this.counter++;
    const saleId = `ab-${this.runId}-${n.toString(36)}`;
    const occurredAt = new Date(occurredAtMs).toISOString();
    const original = r() < KEY_SPACE.returnShare ? this.recent[Math.floor(r() * RECENT)] : undefined;
    let input: SaleInput;
    if (original !== undefined) {
      this.returns++;
      const branchId = this.branchIds[original.branch]!;
      input = {
        saleId,
        kind: 'return',
        originalSaleId: original.saleId,
        branchId,
        registerId: `till-${original.branch + 1}-${1 + Math.floor(r() * 8)}`,
        ...(original.customer >= 0 && { customerId: this.customerIds[original.customer]! }),
        occurredAt,
        currency: 'EUR',
        sellerCountry: COUNTRIES[original.branch % COUNTRIES.length]!,
        paymentMethod: 'card',
        lines: [{ ...original.line, quantity: 1 + Math.floor(r() * original.line.quantity) }],
      };
    } else {
      const keys = this.drawKeys();
      input = this.saleInput(saleId, keys, occurredAt);
      // A return takes back units of the first line at its unit price (no discount).
      const { discount: _, ...line } = input.lines[0]!;
      this.recent[n % RECENT] = { saleId, branch: keys.branch, customer: keys.customer, line };
    }
    return input;
  }

  /** A sale (kind = sale) with exactly these keys, one line per product. */
  inputWith(keys: SaleKeys, occurredAtMs: number): SaleInput {
    const saleId = `ab-${this.runId}-${(this.counter++).toString(36)}`;
    return this.saleInput(saleId, keys, new Date(occurredAtMs).toISOString());
  }

  /** The next sale in canonical form, as ingest would publish it (received at `receivedAtMs`). */
  sale(occurredAtMs: number, receivedAtMs: number): Sale {
    return this.canonical(this.input(occurredAtMs), receivedAtMs);
  }

  /** A canonical sale with exactly these keys. */
  saleWith(keys: SaleKeys, occurredAtMs: number, receivedAtMs: number): Sale {
    return this.canonical(this.inputWith(keys, occurredAtMs), receivedAtMs);
  }

  /** The next sale through the real validateSale. */
  validatedSale(occurredAtMs: number, receivedAtMs: number): Sale {
    const input = this.input(occurredAtMs);
    const result = validateSale(input, { now: receivedAtMs, maxFutureSkewMs: 60_000 });
    if (!result.ok)
      throw new Error(`generated sale ${input.saleId} is invalid: ${JSON.stringify(result.errors)}`);
    return result.sale;
  }

  /**
   * Validates the input of the last canonical sale with validateSale and throws if its result
   * differs from `sale` (JSON text, key order included).
   */
  check(sale: Sale): void {
    const input = this.lastInput!;
    const result = validateSale(input, { now: this.lastReceivedAt, maxFutureSkewMs: 60_000 });
    if (!result.ok)
      throw new Error(`generated sale ${input.saleId} is invalid: ${JSON.stringify(result.errors)}`);
    const expected = JSON.stringify(result.sale);
    const actual = JSON.stringify(sale);
    if (expected !== actual)
      throw new Error(`canonical sale differs from validateSale's:\n${actual}\n${expected}`);
  }

  private lineCount(): number {
    let x = this.random() * 100;
    for (let i = 0; i < MAX_LINES; i++) {
      x -= LINE_WEIGHTS[i]!;
      if (x < 0) return i + 1;
    }
    return MAX_LINES;
  }

  private saleInput(saleId: string, keys: SaleKeys, occurredAt: string): SaleInput {
    const r = this.random;
    const lines: SaleLineInput[] = [];
    for (const p of keys.products) {
      const product = this.products[p]!;
      const quantity = r() < 0.7 ? 1 : 2 + Math.floor(r() * 5);
      const gross = product.cents * quantity;
      const line: SaleLineInput = {
        productId: product.productId,
        ...(product.productName !== undefined && { productName: product.productName }),
        category: product.category,
        ...(product.brand !== undefined && { brand: product.brand }),
        quantity,
        unitPrice: cents(product.cents),
      };
      if (r() < 0.15) line.discount = cents(Math.floor(gross * 0.05 * (1 + Math.floor(r() * 4))));
      lines.push(line);
    }
    return {
      saleId,
      kind: 'sale',
      branchId: this.branchIds[keys.branch]!,
      registerId: `till-${keys.branch + 1}-${1 + Math.floor(r() * 8)}`,
      ...(r() < 0.8 && { cashierId: `cashier-${1 + Math.floor(r() * 400)}` }),
      ...(keys.customer >= 0 && { customerId: this.customerIds[keys.customer]! }),
      occurredAt,
      currency: 'EUR',
      ...(r() < 0.3 && { buyerCountry: COUNTRIES[Math.floor(r() * COUNTRIES.length)]! }),
      sellerCountry: COUNTRIES[keys.branch % COUNTRIES.length]!,
      paymentMethod: r() < 0.7 ? 'card' : 'cash',
      lines,
    };
  }

  /** What validateSale makes of a valid input: the same fields and order, money canonical. */
  private canonical(input: SaleInput, receivedAtMs: number): Sale {
    this.lastInput = input;
    this.lastReceivedAt = receivedAtMs;
    let total = 0;
    const lines = input.lines.map((line, i) => {
      const unitPrice = centsOf(line.unitPrice as string);
      const discount = line.discount === undefined ? 0 : centsOf(line.discount as string);
      const amount = unitPrice * line.quantity - discount;
      total += amount;
      return {
        lineNo: i + 1,
        productId: line.productId,
        ...(line.productName !== undefined && { productName: line.productName }),
        category: line.category,
        ...(line.brand !== undefined && { brand: line.brand }),
        quantity: line.quantity,
        unitPrice: formatUnits(unitPrice * 100),
        discount: formatUnits(discount * 100),
        amount: formatUnits(amount * 100),
      };
    });
    return {
      ...input,
      lines,
      total: formatUnits(total * 100),
      receivedAt: new Date(receivedAtMs).toISOString(),
    };
  }
}

function cents(n: number): string {
  return (n / 100).toFixed(2);
}

/** Cents of a "12.34" string this generator wrote. */
function centsOf(text: string): number {
  const dot = text.indexOf('.');
  return Number(text.slice(0, dot)) * 100 + Number(text.slice(dot + 1));
}
