import type { StreamedSale } from '@tally/contracts';
import { makeStreamSale, PostgresFixture } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SalesReadRepository } from './sales-read.repository.js';
import { SalesWriteRepository } from './sales-write.repository.js';

describe('Postgres reads for reconciliation and repair (real Postgres)', () => {
  let db: PostgresFixture;
  let reader: SalesReadRepository;
  let writer: SalesWriteRepository;

  const sale = makeStreamSale({
    branchId: 'rr-a',
    cashierId: 'c-7',
    buyerCountry: 'DE',
    sellerCountry: 'AT',
    paymentMethod: 'card',
    occurredAt: '2026-05-01T10:15:00.123456+02:00',
    lines: [
      {
        productId: 'p1',
        productName: 'Milk',
        category: 'dairy',
        brand: 'Cow',
        quantity: 2,
        unitPrice: '10.5',
        discount: '1',
      },
      { productId: 'p2', category: 'c', quantity: 1, unitPrice: '3.0001' },
    ],
  });
  const ret = makeStreamSale({
    branchId: 'rr-a',
    kind: 'return',
    originalSaleId: sale.saleId,
    customerId: undefined,
    registerId: undefined,
    occurredAt: '2026-05-01T23:59:59.999Z',
    lines: [{ productId: 'p2', category: 'c', quantity: 1, unitPrice: '3.0001' }],
  });
  const other = makeStreamSale({ branchId: 'rr-b', occurredAt: '2026-05-01T12:00:00Z' });
  const nextDay = makeStreamSale({ branchId: 'rr-a', occurredAt: '2026-05-02T00:00:00Z' });
  const stored: StreamedSale[] = [
    { sale, streamSeq: 41, requestId: 'req-41' },
    { sale: ret, streamSeq: 9_007_199_254_740_000 },
    { sale: other, streamSeq: 43 },
    { sale: nextDay, streamSeq: 44 },
  ];

  beforeAll(async () => {
    db = await PostgresFixture.create();
    reader = new SalesReadRepository(db.client);
    writer = new SalesWriteRepository(db.client);
    await writer.insert(stored);
  });
  afterAll(() => db?.dispose());

  it('saleTotals: id and signed net total of one branch in [from, to), in code-point order', async () => {
    const day = { from: new Date('2026-05-01T00:00:00Z'), to: new Date('2026-05-02T00:00:00Z') };
    expect(await reader.saleTotals({ branchId: 'rr-a', ...day })).toEqual(
      [
        { saleId: sale.saleId, netTotal: '23.0001' },
        { saleId: ret.saleId, netTotal: '-3.0001' },
      ].sort((a, b) => (a.saleId < b.saleId ? -1 : 1)),
    );
    expect(await reader.saleTotals({ branchId: 'rr-b', ...day })).toEqual([
      { saleId: other.saleId, netTotal: other.total },
    ]);
    // `from` inclusive, `to` exclusive, to the millisecond.
    expect(
      await reader.saleTotals({
        branchId: 'rr-a',
        from: new Date('2026-05-01T23:59:59.999Z'),
        to: new Date('2026-05-02T00:00:00.001Z'),
      }),
    ).toEqual(
      [
        { saleId: ret.saleId, netTotal: '-3.0001' },
        { saleId: nextDay.saleId, netTotal: nextDay.total },
      ].sort((a, b) => (a.saleId < b.saleId ? -1 : 1)),
    );
  });

  it('findSales: the sales as the stream carried them, with stream sequence and request id, in the order asked', async () => {
    const found = await reader.findSales([ret.saleId, 'no-such-sale', sale.saleId, ret.saleId]);
    expect(found).toEqual([
      // Instants come back in UTC, in toISOString() form; Postgres keeps the microseconds.
      { sale: { ...ret, occurredAt: '2026-05-01T23:59:59.999Z' }, streamSeq: 9_007_199_254_740_000 },
      {
        sale: { ...sale, occurredAt: '2026-05-01T08:15:00.123456Z' },
        streamSeq: 41,
        requestId: 'req-41',
      },
    ]);
    expect(await reader.findSales([])).toEqual([]);
  });

  it('findSales output stores again unchanged: a copy written to a fresh database reads back the same', async () => {
    const copy = await reader.findSales(stored.map((s) => s.sale.saleId));
    const fresh = await PostgresFixture.create();
    try {
      await new SalesWriteRepository(fresh.client).insert(copy);
      const freshReader = new SalesReadRepository(fresh.client);
      expect(await freshReader.findSales(stored.map((s) => s.sale.saleId))).toEqual(copy);
      const range = { from: new Date('2026-05-01T00:00:00Z'), to: new Date('2026-05-03T00:00:00Z') };
      expect(await freshReader.dailyTotals(range)).toEqual(await reader.dailyTotals(range));
    } finally {
      await fresh.dispose();
    }
  });
});
