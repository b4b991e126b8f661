import { seededRandom } from '@tally/common';
import type { SaleInput } from '@tally/contracts';
import { type CatalogProduct, DEFAULT_BRANCHES, DEFAULT_PRODUCTS } from './catalog.js';

export interface SimulatorOptions {
  readonly seed?: number;
  readonly branches?: readonly string[];
  readonly products?: readonly CatalogProduct[];
  /** Share of receipts that are returns of an earlier sale. */
  readonly returnRate?: number;
  readonly registersPerBranch?: number;
  readonly customers?: number;
}

/**
 * Generates realistic receipts: baskets of 1–5 distinct products (one unit each, the
 * supermarket seed's rule), loyal customers who come back, cash or card, and a few returns
 * that reverse an earlier sale. Sale ids are unique per run (`<runId>-<n>`).
 */
export class BasketSimulator {
  private readonly random: () => number;
  private readonly branches: readonly string[];
  private readonly products: readonly CatalogProduct[];
  private readonly recent: SaleInput[] = [];
  private n = 0;

  constructor(
    private readonly runId: string,
    private readonly options: SimulatorOptions = {},
  ) {
    this.random = seededRandom(options.seed ?? 42);
    this.branches = options.branches ?? DEFAULT_BRANCHES;
    this.products = options.products ?? DEFAULT_PRODUCTS;
  }

  next(now = new Date()): SaleInput {
    this.n++;
    const saleId = `${this.runId}-${this.n}`;
    const occurredAt = now.toISOString();
    const original = this.recent[Math.floor(this.random() * this.recent.length)];
    if (original !== undefined && this.random() < (this.options.returnRate ?? 0.03)) {
      const line = original.lines[0]!;
      return {
        ...original,
        saleId,
        kind: 'return',
        originalSaleId: original.saleId,
        occurredAt,
        lines: [line],
      };
    }
    const branchId = this.pick(this.branches);
    const size = 1 + Math.floor(this.random() * 5);
    const basket = [...this.products].sort(() => this.random() - 0.5).slice(0, size);
    const customers = this.options.customers ?? 500;
    const sale: SaleInput = {
      saleId,
      kind: 'sale',
      branchId,
      registerId: `${branchId}-till-${1 + Math.floor(this.random() * (this.options.registersPerBranch ?? 4))}`,
      // Loyal customers: a quarter of the pool makes most of the visits.
      customerId: `C${String(Math.floor(customers * this.random() ** 2)).padStart(5, '0')}`,
      occurredAt,
      currency: 'EUR',
      paymentMethod: this.random() < 0.7 ? 'card' : 'cash',
      lines: basket.map((p) => ({
        productId: p.productId,
        productName: p.name,
        category: p.category,
        brand: p.brand,
        quantity: 1,
        unitPrice: p.listPrice,
      })),
    };
    this.recent.push(sale);
    if (this.recent.length > 1000) this.recent.shift();
    return sale;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
}
