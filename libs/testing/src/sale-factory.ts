import { type Sale, type SaleInput, validateSale } from '@tally/contracts';

let counter = 0;

/** A valid sale as a client would send it; override any field. Ids are unique per process. */
export function makeSale(overrides: Partial<SaleInput> = {}): SaleInput {
  counter++;
  return {
    saleId: `sale-${process.pid}-${Date.now().toString(36)}-${counter}`,
    kind: 'sale',
    branchId: 'branch-1',
    registerId: 'till-1',
    customerId: `cust-${counter % 17}`,
    occurredAt: new Date(Date.now() - 1000).toISOString(),
    currency: 'EUR',
    lines: [
      { productId: 'p-apple', productName: 'Apples 1kg', category: 'fruit', quantity: 2, unitPrice: '1.99' },
      { productId: 'p-milk', category: 'dairy', quantity: 1, unitPrice: '0.89', discount: '0.10' },
    ],
    ...overrides,
  };
}

/** A sale as the stream carries it: makeSale(overrides) through the real validator. */
export function makeStreamSale(overrides: Partial<SaleInput> = {}, now: number = Date.now()): Sale {
  const result = validateSale(makeSale(overrides), { now, maxFutureSkewMs: 60_000 });
  if (!result.ok) throw new Error(`makeStreamSale: invalid sale: ${JSON.stringify(result.errors)}`);
  return result.sale;
}
