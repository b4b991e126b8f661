import { type SaleInput, signedToUnits, validateSale } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { BasketSimulator, netUnits } from './basket-simulator.js';
import { SUPERMARKET_CATALOG } from './catalog.js';

function generate(count: number, seed = 7): SaleInput[] {
  const simulator = new BasketSimulator({ runId: 'demo-test', seed });
  const start = Date.parse('2026-11-21T10:00:00Z');
  return Array.from({ length: count }, (_, i) => simulator.next(new Date(start + i * 50)));
}

describe('the demo basket simulator', () => {
  const sales = generate(5000);
  const byId = new Map(sales.map((s) => [s.saleId, s]));

  it('sells from the supermarket seed: 3 branches, 10 products, its currency', () => {
    expect(SUPERMARKET_CATALOG.branches).toHaveLength(3);
    expect(SUPERMARKET_CATALOG.products).toHaveLength(10);
    expect(new Set(sales.map((s) => s.branchId))).toEqual(
      new Set(SUPERMARKET_CATALOG.branches.map((b) => b.branchId)),
    );
    const products = new Set(SUPERMARKET_CATALOG.products.map((p) => p.productId));
    expect(sales.every((s) => s.lines.every((l) => products.has(l.productId)))).toBe(true);
  });

  it('produces receipts that pass the sale contract, with unique ids carrying the run id', () => {
    const now = Date.parse('2026-11-21T12:00:00Z');
    for (const sale of sales) {
      const result = validateSale(sale, { now, maxFutureSkewMs: 300_000 });
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
      const branch = SUPERMARKET_CATALOG.branches.find((b) => b.branchId === sale.branchId)!;
      const till = Number(sale.registerId?.slice(`${sale.branchId}-till-`.length));
      expect(sale.registerId?.startsWith(`${sale.branchId}-till-`)).toBe(true);
      expect(till).toBeGreaterThanOrEqual(1);
      expect(till).toBeLessThanOrEqual(branch.registers);
    }
    const registers = new Set(sales.map((s) => s.registerId));
    expect(registers.size).toBe(SUPERMARKET_CATALOG.branches.reduce((n, b) => n + b.registers, 0));
  });

  it('has customers who come back, mostly to their home branch, and some anonymous shoppers', () => {
    const visits = new Map<string, SaleInput[]>();
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
    const returns = sales.filter((s) => s.kind === 'return');
    expect(returns.length / sales.length).toBeGreaterThan(0.005);
    expect(returns.length / sales.length).toBeLessThan(0.05);
    const returned = new Map<string, string[]>();
    for (const ret of returns) {
      const original = byId.get(ret.originalSaleId!)!;
      expect(original.kind).toBe('sale');
      expect(sales.indexOf(original)).toBeLessThan(sales.indexOf(ret));
      expect(ret.branchId).toBe(original.branchId);
      expect(ret.customerId).toBe(original.customerId);
      expect(netUnits(ret)).toBeLessThan(0n);
      const before = returned.get(original.saleId) ?? [];
      const now = ret.lines.map((l) => l.productId);
      for (const line of ret.lines) expect(original.lines).toContainEqual(line);
      returned.set(original.saleId, [...before, ...now]);
    }
    for (const [, products] of returned) expect(new Set(products).size).toBe(products.length);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(generate(200, 99)).toEqual(generate(200, 99));
    expect(generate(200, 99)).not.toEqual(generate(200, 100));
  });

  it('computes exact signed net totals, discounts included', () => {
    const sale: SaleInput = {
      saleId: 'x',
      kind: 'sale',
      branchId: 'b',
      occurredAt: '2026-11-21T10:00:00Z',
      currency: 'EUR',
      lines: [
        { productId: 'P1', category: 'c', quantity: 1, unitPrice: '0.1' },
        { productId: 'P2', category: 'c', quantity: 1, unitPrice: '0.2', discount: '0.02' },
        { productId: 'P3', category: 'c', quantity: 3, unitPrice: 1.15 },
      ],
    };
    expect(netUnits(sale)).toBe(1_000n + 1_800n + 34_500n);
    expect(netUnits({ ...sale, kind: 'return', originalSaleId: 'y' })).toBe(-37_300n);
  });
});
