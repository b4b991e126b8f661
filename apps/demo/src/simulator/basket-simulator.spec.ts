import { type SaleSubmission, signedToUnits, validateSale } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { loadDemoCatalog, sampleCatalogFiles } from '../catalog/demo-catalog.loader.js';
import {
  BasketSimulator,
  DELIBERATE_RULES,
  lineNetUnits,
  netUnits,
  type SimulatedSale,
  type SimulatorOptions,
  UNLISTED_BRANCH_ID,
  UNLISTED_PRODUCT_ID,
} from './basket-simulator.js';
import { isLeanRegister } from './store-catalog.model.js';

// The supermarket samples, read as the demo reads them: the simulator has no other catalog.
const { catalog: csv, store } = await loadDemoCatalog(sampleCatalogFiles());
const csvProducts = new Map(csv.products.map((p) => [p.productId, p]));
const lookup = (productId: string) => csvProducts.get(productId);

function generate(count: number, seed = 7, options: Partial<SimulatorOptions> = {}): SimulatedSale[] {
  const simulator = new BasketSimulator({ runId: 'demo-test', seed, catalog: store, ...options });
  const start = Date.parse('2026-11-21T10:00:00Z');
  return Array.from({ length: count }, (_, i) => simulator.next(new Date(start + i * 50)));
}

const validate = (sale: SaleSubmission) =>
  validateSale(sale, { now: Date.parse('2026-11-21T12:00:00Z'), maxFutureSkewMs: 300_000, products: lookup });

describe('the demo basket simulator', () => {
  const simulated = generate(5000);
  const sales = simulated.map((s) => s.sale);
  const byId = new Map(sales.map((s) => [s.saleId, s]));

  it('sells the catalog CSV: its 3 branches, 10 products, their prices and currency', () => {
    expect(store.branches.map((b) => b.branchId)).toEqual(['branch-north', 'branch-centre', 'branch-south']);
    expect(store.products).toHaveLength(10);
    expect(store.currency).toBe('EUR');
    expect(new Set(sales.map((s) => s.branchId))).toEqual(new Set(store.branches.map((b) => b.branchId)));
    for (const sale of sales) {
      for (const line of sale.lines) {
        expect(line.unitPrice).toBe(csvProducts.get(line.productId)?.listPrice);
      }
    }
  });

  it('produces receipts that pass the sale contract, with unique ids carrying the run id', () => {
    for (const sale of sales) {
      const result = validate(sale);
      expect(result.ok ? [] : result.errors).toEqual([]);
      // The stores' net total is the contract's total, signed by kind: what the check compares.
      if (result.ok) {
        const total = signedToUnits(result.sale.total);
        expect(netUnits(sale)).toBe(sale.kind === 'return' ? -total : total);
      }
    }
    expect(byId.size).toBe(sales.length);
    expect(sales.every((s) => s.saleId.startsWith('demo-test-'))).toBe(true);
  });

  it("sends lines without category from the lean registers only, which the catalog completes with the product's category", () => {
    let lean = 0;
    for (const { sale, categories } of simulated.filter((s) => s.sale.kind === 'sale')) {
      const branch = store.branches.find((b) => b.branchId === sale.branchId)!;
      const till = Number(sale.registerId!.slice(`${sale.branchId}-till-`.length));
      const leanTill = isLeanRegister(branch, till);
      if (leanTill) lean++;
      for (const line of sale.lines) {
        const product = csvProducts.get(line.productId)!;
        if (leanTill) {
          const extra = Object.keys(line).filter(
            (k) => !['productId', 'quantity', 'unitPrice', 'discount'].includes(k),
          );
          expect(extra).toEqual([]);
        } else {
          expect(line).toMatchObject({
            productName: product.name,
            category: product.category,
            brand: product.brand,
          });
        }
      }
      // The category the demo expects each line stored with is the CSV's; ingest fills the same.
      expect(categories).toEqual(sale.lines.map((l) => csvProducts.get(l.productId)!.category));
      const result = validate(sale);
      expect(result.ok && result.sale.lines.map((l) => l.category)).toEqual(categories);
    }
    // 4 of the 13 registers are lean: about a quarter to a third of the receipts.
    expect(lean / sales.length).toBeGreaterThan(0.2);
    expect(lean / sales.length).toBeLessThan(0.45);
  });

  it('keeps the supermarket rule: a product at most once per purchase, one unit each', () => {
    for (const sale of sales) {
      const ids = sale.lines.map((l) => l.productId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(sale.lines.every((l) => l.quantity === 1)).toBe(true);
    }
  });

  it('makes baskets of varying size and rings them up at the registers of the branch', () => {
    const sizes = new Set(sales.filter((s) => s.kind === 'sale').map((s) => s.lines.length));
    expect(sizes.size).toBeGreaterThanOrEqual(6);
    for (const sale of sales) {
      const branch = store.branches.find((b) => b.branchId === sale.branchId)!;
      const till = Number(sale.registerId?.slice(`${sale.branchId}-till-`.length));
      expect(sale.registerId?.startsWith(`${sale.branchId}-till-`)).toBe(true);
      expect(till).toBeGreaterThanOrEqual(1);
      expect(till).toBeLessThanOrEqual(branch.registers);
    }
    const registers = new Set(sales.map((s) => s.registerId));
    expect(registers.size).toBe(store.branches.reduce((n, b) => n + b.registers, 0));
  });

  it('has customers who come back, mostly to their home branch, and some anonymous shoppers', () => {
    const visits = new Map<string, SaleSubmission[]>();
    for (const sale of sales.filter((s) => s.kind === 'sale' && s.customerId)) {
      visits.set(sale.customerId!, [...(visits.get(sale.customerId!) ?? []), sale]);
    }
    const counts = [...visits.values()].map((v) => v.length).sort((a, b) => b - a);
    expect(counts[0]).toBeGreaterThanOrEqual(20);
    expect(counts.filter((c) => c >= 2).length).toBeGreaterThan(100);
    const [, loyal] = [...visits].sort((a, b) => b[1].length - a[1].length)[0]!;
    const branches = new Map<string, number>();
    for (const s of loyal) branches.set(s.branchId, (branches.get(s.branchId) ?? 0) + 1);
    expect(Math.max(...branches.values()) / loyal.length).toBeGreaterThan(0.6);
    const anonymous = sales.filter((s) => s.kind === 'sale' && !s.customerId).length;
    expect(anonymous / sales.length).toBeGreaterThan(0.1);
  });

  it('returns a few earlier sales, at their branch, each line at most once and never more than was sold', () => {
    const returns = simulated.filter((s) => s.sale.kind === 'return');
    expect(returns.length / sales.length).toBeGreaterThan(0.005);
    expect(returns.length / sales.length).toBeLessThan(0.05);
    const returned = new Map<string, string[]>();
    for (const { sale: ret, categories } of returns) {
      const original = byId.get(ret.originalSaleId!)!;
      expect(original.kind).toBe('sale');
      expect(sales.indexOf(original)).toBeLessThan(sales.indexOf(ret));
      expect(ret.branchId).toBe(original.branchId);
      expect(ret.customerId).toBe(original.customerId);
      expect(netUnits(ret)).toBeLessThan(0n);
      expect(categories).toEqual(ret.lines.map((l) => csvProducts.get(l.productId)!.category));
      const before = returned.get(original.saleId) ?? [];
      const now = ret.lines.map((l) => l.productId);
      for (const line of ret.lines) expect(original.lines).toContainEqual(line);
      returned.set(original.saleId, [...before, ...now]);
    }
    for (const [, products] of returned) expect(new Set(products).size).toBe(products.length);
  });

  it('sends no rule-breaking receipt unless asked to', () => {
    expect(simulated.filter((s) => s.breaks !== undefined)).toEqual([]);
  });

  it('with a bad share, breaks each catalog rule in turn, in receipts otherwise within the contract, never returned', () => {
    const mixed = generate(3000, 11, { badShare: 0.03 });
    const bad = mixed.filter((s) => s.breaks !== undefined);
    expect(bad.length / mixed.length).toBeGreaterThan(0.015);
    expect(bad.length / mixed.length).toBeLessThan(0.05);
    expect(bad.slice(0, 6).map((s) => s.breaks)).toEqual([...DELIBERATE_RULES, ...DELIBERATE_RULES]);
    const badIds = new Set(bad.map((s) => s.sale.saleId));
    for (const { sale, breaks, categories } of bad) {
      expect(sale.kind).toBe('sale');
      const result = validate(sale);
      expect(result.ok ? [] : result.errors).toEqual([]);
      expect(categories).toHaveLength(sale.lines.length);
      const units = new Map<string, number>();
      for (const l of sale.lines) units.set(l.productId, (units.get(l.productId) ?? 0) + l.quantity);
      const unlisted = sale.lines.filter((l) => !csvProducts.has(l.productId));
      const branchKnown = store.branches.some((b) => b.branchId === sale.branchId);
      // Each receipt breaks exactly its rule and no other.
      expect(unlisted.map((l) => l.productId)).toEqual(
        breaks === 'unknown-product' ? [UNLISTED_PRODUCT_ID] : [],
      );
      expect(Math.max(...units.values())).toBe(breaks === 'max-units-per-product' ? 2 : 1);
      expect(branchKnown).toBe(breaks !== 'unknown-branch');
      if (breaks === 'unknown-branch') expect(sale.branchId).toBe(UNLISTED_BRANCH_ID);
    }
    for (const { sale } of mixed.filter((s) => s.sale.kind === 'return')) {
      expect(badIds.has(sale.originalSaleId!)).toBe(false);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(generate(200, 99)).toEqual(generate(200, 99));
    expect(generate(200, 99)).not.toEqual(generate(200, 100));
  });

  it('computes exact signed net totals and line amounts, discounts included', () => {
    const sale: SaleSubmission = {
      saleId: 'x',
      kind: 'sale',
      branchId: 'b',
      occurredAt: '2026-11-21T10:00:00Z',
      currency: 'EUR',
      lines: [
        { productId: 'P1', category: 'c', quantity: 1, unitPrice: '0.1' },
        { productId: 'P2', quantity: 1, unitPrice: '0.2', discount: '0.02' },
        { productId: 'P3', category: 'c', quantity: 3, unitPrice: 1.15 },
      ],
    };
    expect(netUnits(sale)).toBe(1_000n + 1_800n + 34_500n);
    expect(lineNetUnits(sale)).toEqual([1_000n, 1_800n, 34_500n]);
    const ret = { ...sale, kind: 'return' as const, originalSaleId: 'y' };
    expect(netUnits(ret)).toBe(-37_300n);
    expect(lineNetUnits(ret)).toEqual([-1_000n, -1_800n, -34_500n]);
  });
});
