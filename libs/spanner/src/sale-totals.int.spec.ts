import type { StreamedSale } from '@tally/contracts';
import { SalesReadRepository, SalesWriteRepository } from '@tally/postgres';
import { makeStreamSale, PostgresFixture, SpannerEmulator, SpannerFixture } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpannerSalesRepository } from './sales.repository.js';

describe('Spanner saleTotals, and sale-level reads agreeing with Postgres (real emulator and Postgres)', () => {
  let emulator: SpannerEmulator;
  let spannerDb: SpannerFixture;
  let pg: PostgresFixture;
  let spanner: SpannerSalesRepository;
  let pgReader: SalesReadRepository;

  const original = makeStreamSale({
    branchId: 'st-a',
    occurredAt: '2026-05-01T10:15:00.123456+02:00',
    lines: [
      { productId: 'p1', category: 'c', quantity: 3, unitPrice: '1.2345', discount: '0.0005' },
      {
        productId: 'p2',
        productName: 'Two',
        brand: 'B',
        category: 'c',
        quantity: 1,
        unitPrice: '99999.9999',
      },
    ],
  });
  const sales: StreamedSale[] = [
    original,
    makeStreamSale({
      branchId: 'st-a',
      kind: 'return',
      originalSaleId: original.saleId,
      occurredAt: '2026-05-01T23:59:59.999Z',
      lines: [{ productId: 'p2', category: 'c', quantity: 1, unitPrice: '99999.9999' }],
    }),
    makeStreamSale({ branchId: 'st-a', occurredAt: '2026-05-02T00:00:00Z' }),
    makeStreamSale({ branchId: 'st-b', occurredAt: '2026-05-01T12:00:00Z' }),
  ].map((sale, i) => ({ sale, streamSeq: 100 + i, ...(i % 2 === 0 && { requestId: `r-${i}` }) }));

  beforeAll(async () => {
    emulator = await SpannerEmulator.start();
    [spannerDb, pg] = await Promise.all([SpannerFixture.create(emulator), PostgresFixture.create()]);
    spanner = new SpannerSalesRepository(spannerDb.client);
    pgReader = new SalesReadRepository(pg.client);
    await Promise.all([spanner.write(sales), new SalesWriteRepository(pg.client).insert(sales)]);
  });
  afterAll(async () => {
    await Promise.all([spannerDb?.dispose(), pg?.dispose()]);
    await emulator?.stop();
  });

  it('saleTotals: id and signed net total of one branch in [from, to), code-point order, as Postgres reports them', async () => {
    const day = {
      branchId: 'st-a',
      from: new Date('2026-05-01T00:00:00Z'),
      to: new Date('2026-05-02T00:00:00Z'),
    };
    const expected = sales
      .slice(0, 2)
      .map((s) => ({
        saleId: s.sale.saleId,
        netTotal: s.sale.kind === 'return' ? `-${s.sale.total}` : s.sale.total,
      }))
      .sort((a, b) => (a.saleId < b.saleId ? -1 : 1));
    expect(expected.map((e) => e.netTotal).sort()).toEqual(['-99999.9999', '100003.7029']);
    expect(await spanner.saleTotals(day)).toEqual(expected);
    expect(await pgReader.saleTotals(day)).toEqual(expected);
    // `to` exclusive, `from` inclusive.
    const edge = {
      branchId: 'st-a',
      from: new Date('2026-05-01T23:59:59.999Z'),
      to: new Date('2026-05-02T00:00:00Z'),
    };
    expect(await spanner.saleTotals(edge)).toEqual([expected.find((e) => e.netTotal.startsWith('-'))]);
    expect(await spanner.saleTotals({ ...day, branchId: 'nobody' })).toEqual([]);
  });

  it('findSales reads the same sales from either store, so a repair copies the same thing whichever it reads', async () => {
    const ids = sales.map((s) => s.sale.saleId);
    expect(await spanner.findSales(ids)).toEqual(await pgReader.findSales(ids));
  });
});
