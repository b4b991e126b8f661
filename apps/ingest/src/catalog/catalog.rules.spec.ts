import { type SaleInput, type SaleLineSubmission, validateSale } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { type CatalogRulesConfig, catalogChecks } from './catalog.rules.js';

const catalog = {
  product: (id: string) => (['P001', 'P002'].includes(id) ? { id } : undefined),
  branch: (id: string) => (id === 'branch-north' ? { id } : undefined),
};
const OFF: CatalogRulesConfig = {
  catalogEnforce: { products: false, branches: false },
  maxUnitsPerProduct: undefined,
};

function sale(lines: SaleLineSubmission[], overrides: Partial<SaleInput> = {}): unknown {
  return {
    saleId: 'S-1',
    kind: 'sale',
    branchId: 'branch-north',
    occurredAt: '2026-06-15T10:00:00Z',
    currency: 'EUR',
    lines,
    ...overrides,
  };
}
const line = (productId: string, quantity = 1): SaleLineSubmission => ({
  productId,
  category: 'c',
  quantity,
  unitPrice: '1',
});

/** The rule breaches validateSale reports for `input` under `config`. */
function breaches(config: CatalogRulesConfig, input: unknown) {
  const result = validateSale(input, {
    now: Date.parse('2026-06-15T12:00:00Z'),
    maxFutureSkewMs: 0,
    checks: catalogChecks(config, catalog),
  });
  return result.ok ? [] : result.errors;
}
const rules = (errors: readonly { pointer: string; rule: string }[]) =>
  errors.map(({ pointer, rule }) => ({ pointer, rule }));

describe('catalog rules off (the default)', () => {
  it('accept unknown products and branches and any quantity', () => {
    expect(catalogChecks(OFF, catalog)).toEqual([]);
    expect(breaches(OFF, sale([line('P404', 5), line('P404', 5)], { branchId: 'branch-x' }))).toEqual([]);
  });
});

describe('CATALOG_ENFORCE', () => {
  const on = { ...OFF, catalogEnforce: { products: true, branches: true } };

  it('rejects an unknown product at its line and an unknown branch, naming the rule and the id', () => {
    const errors = breaches(on, sale([line('P001'), line('P404')], { branchId: 'branch-x' }));
    expect(errors).toEqual([
      { pointer: '/branchId', rule: 'unknown-branch', message: 'branch branch-x is not in the catalog' },
      {
        pointer: '/lines/1/productId',
        rule: 'unknown-product',
        message: 'product P404 is not in the catalog',
      },
    ]);
  });

  it('accepts a sale of known products at a known branch', () => {
    expect(breaches(on, sale([line('P001'), line('P002')]))).toEqual([]);
  });

  it('enforces only the ids it is set to', () => {
    const productsOnly = { ...OFF, catalogEnforce: { products: true, branches: false } };
    expect(rules(breaches(productsOnly, sale([line('P404')], { branchId: 'branch-x' })))).toEqual([
      { pointer: '/lines/0/productId', rule: 'unknown-product' },
    ]);
    const branchesOnly = { ...OFF, catalogEnforce: { products: false, branches: true } };
    expect(rules(breaches(branchesOnly, sale([line('P404')], { branchId: 'branch-x' })))).toEqual([
      { pointer: '/branchId', rule: 'unknown-branch' },
    ]);
  });
});

describe('MAX_UNITS_PER_PRODUCT', () => {
  const one = { ...OFF, maxUnitsPerProduct: 1 };

  it('with 1, accepts each product once with quantity 1', () => {
    expect(breaches(one, sale([line('P001'), line('P002'), line('P404')]))).toEqual([]);
  });

  it('with 1, rejects quantity 2 at the quantity', () => {
    expect(breaches(one, sale([line('P001'), line('P002', 2)]))).toEqual([
      {
        pointer: '/lines/1/quantity',
        rule: 'max-units-per-product',
        message: 'at most 1 unit of a product per sale: 2 units of product P002',
      },
    ]);
  });

  it('with 1, rejects a product repeated in one sale at the repeat, once per product', () => {
    const errors = breaches(one, sale([line('P001'), line('P002'), line('P001'), line('P001')]));
    expect(errors).toEqual([
      {
        pointer: '/lines/2/productId',
        rule: 'max-units-per-product',
        message: 'at most 1 unit of a product per sale: product P001 is already at /lines/0 (2 units in all)',
      },
    ]);
  });

  it('sums quantities per product against N', () => {
    const three = { ...OFF, maxUnitsPerProduct: 3 };
    expect(breaches(three, sale([line('P001', 2), line('P001', 1)]))).toEqual([]);
    expect(rules(breaches(three, sale([line('P001', 2), line('P002', 3), line('P001', 2)])))).toEqual([
      { pointer: '/lines/2/productId', rule: 'max-units-per-product' },
    ]);
  });

  it('exempts returns', () => {
    const input = sale([line('P001', 3), line('P001')], { kind: 'return', originalSaleId: 'S-0' });
    expect(breaches(one, input)).toEqual([]);
  });

  it('is reported together with the contract errors of the same sale', () => {
    const errors = breaches(one, sale([line('P001', 2)], { currency: 'XXY' }));
    expect(rules(errors)).toEqual([
      { pointer: '/currency', rule: 'iso4217' },
      { pointer: '/lines/0/quantity', rule: 'max-units-per-product' },
    ]);
  });
});
