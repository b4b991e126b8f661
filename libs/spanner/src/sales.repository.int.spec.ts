import type { StreamedSale } from '@tally/contracts';
import { sumDecimals } from '@tally/contracts';
import { makeStreamSale, SpannerEmulator, SpannerFixture } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpannerDeadLetters } from './dead-letters.repository.js';
import { SpannerSalesRepository } from './sales.repository.js';
import { saleShard } from './shard.js';

const streamed = (sale: ReturnType<typeof makeStreamSale>, streamSeq = 1): StreamedSale => ({
  sale,
  streamSeq,
  requestId: 'req-1',
});

/** Every stored column but StoredAt (the commit timestamp of the last write). */
const SALES_SQL = `SELECT Shard, SaleId, Kind, OriginalSaleId, BranchId, RegisterId, CashierId, CustomerId,
  BuyerCountry, SellerCountry, PaymentMethod, FORMAT_TIMESTAMP('%FT%H:%M:%E9SZ', OccurredAt, 'UTC') AS OccurredAt,
  FORMAT_TIMESTAMP('%FT%H:%M:%E9SZ', ReceivedAt, 'UTC') AS ReceivedAt, Currency, CAST(NetTotal AS STRING) AS NetTotal, LineCount,
  StreamSeq, RequestId FROM Sales WHERE BranchId = @branch ORDER BY SaleId`;
const LINES_SQL = `SELECT l.SaleId, l.LineNo, l.ProductId, l.ProductName, l.Category, l.Brand, l.Quantity,
  CAST(l.UnitPrice AS STRING) AS UnitPrice, CAST(l.Discount AS STRING) AS Discount,
  CAST(l.NetAmount AS STRING) AS NetAmount
  FROM Sales s JOIN SaleLines l ON l.Shard = s.Shard AND l.SaleId = s.SaleId
  WHERE s.BranchId = @branch ORDER BY l.SaleId, l.LineNo`;

describe('Spanner sales repository (real emulator)', () => {
  let emulator: SpannerEmulator;
  let db: SpannerFixture;
  let repo: SpannerSalesRepository;

  beforeAll(async () => {
    emulator = await SpannerEmulator.start();
    db = await SpannerFixture.create(emulator);
    repo = new SpannerSalesRepository(db.client);
  });
  afterAll(async () => {
    await db?.dispose();
    await emulator?.stop();
  });

  it('stores sales and lines once: writing the same batch twice leaves the same rows, sums exact and signed', async () => {
    const original = makeStreamSale({
      branchId: 'b-once',
      occurredAt: '2026-03-01T10:15:00.123456789+01:00',
    });
    const batch = [
      original,
      makeStreamSale({
        branchId: 'b-once',
        customerId: undefined,
        lines: [{ productId: 'p', category: 'c', quantity: 3, unitPrice: '0.1' }],
      }),
      makeStreamSale({
        branchId: 'b-once',
        kind: 'return',
        originalSaleId: original.saleId,
        lines: [{ productId: 'p-apple', category: 'fruit', quantity: 1, unitPrice: '1.99' }],
      }),
    ].map((s, i) => streamed(s, i + 1));

    expect(await repo.write(batch)).toEqual({ sales: 3, lines: 4, commits: 1 });
    const sales = await db.query(SALES_SQL, { branch: 'b-once' });
    const lines = await db.query(LINES_SQL, { branch: 'b-once' });
    expect(await repo.write(batch)).toEqual({ sales: 3, lines: 4, commits: 1 });
    expect(await db.query(SALES_SQL, { branch: 'b-once' })).toEqual(sales);
    expect(await db.query(LINES_SQL, { branch: 'b-once' })).toEqual(lines);

    expect(sales).toHaveLength(3);
    expect(lines).toHaveLength(4);
    const first = sales.find((s) => s.SaleId === original.saleId)!;
    expect(first).toMatchObject({
      Shard: saleShard(original.saleId),
      OccurredAt: '2026-03-01T09:15:00.123456789Z',
      StreamSeq: 1,
      RequestId: 'req-1',
      LineCount: 2,
    });
    const [sums] = await db.query<{ Total: string; Lines: string }>(
      `SELECT CAST(SUM(NetTotal) AS STRING) AS Total,
              (SELECT CAST(SUM(l.NetAmount) AS STRING) FROM Sales s JOIN SaleLines l USING (Shard, SaleId)
               WHERE s.BranchId = 'b-once') AS Lines
       FROM Sales WHERE BranchId = 'b-once'`,
    );
    const expected = sumDecimals(
      batch.map(({ sale }) => (sale.kind === 'return' ? `-${sale.total}` : sale.total)),
    );
    expect(expected).toBe('3.08'); // 2 x 1.99 + (0.89 - 0.10) + 3 x 0.1 - 1.99
    expect(sumDecimals([sums!.Total])).toBe(expected);
    expect(sumDecimals([sums!.Lines])).toBe(expected);
    const [stored] = await db.query<{ StoredAt: Date }>('SELECT StoredAt FROM Sales WHERE SaleId = @id', {
      id: original.saleId,
    });
    expect(Math.abs(stored!.StoredAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('writes a saleId repeated within one call once, first occurrence wins', async () => {
    const sale = makeStreamSale({ branchId: 'b-dup' });
    const changed = { ...sale, lines: [sale.lines[0]!], total: sale.lines[0]!.amount };
    expect(await repo.write([streamed(sale, 5), streamed(changed, 6)])).toEqual({
      sales: 1,
      lines: 2,
      commits: 1,
    });
    expect(await db.query(SALES_SQL, { branch: 'b-dup' })).toEqual([
      expect.objectContaining({ SaleId: sale.saleId, StreamSeq: 5, LineCount: 2 }),
    ]);
  });

  it('takes several commits for a batch over the mutation limit, and stores everything', async () => {
    // 19 + 1 + 2 x 11 = 42 mutations per 2-line sale: 4 sales per commit of at most 200.
    const small = new SpannerSalesRepository(db.client, { maxMutations: 200 });
    const batch = Array.from({ length: 18 }, (_, i) =>
      streamed(makeStreamSale({ branchId: 'b-split' }), i + 1),
    );
    expect(await small.write(batch)).toEqual({ sales: 18, lines: 36, commits: 5 });
    const [counts] = await db.query<{ Sales: number; Lines: number }>(
      `SELECT COUNT(*) AS Sales, (SELECT COUNT(*) FROM Sales s JOIN SaleLines l USING (Shard, SaleId)
         WHERE s.BranchId = 'b-split') AS Lines FROM Sales WHERE BranchId = 'b-split'`,
    );
    expect(counts).toEqual({ Sales: 18, Lines: 36 });
    expect(await small.write([])).toEqual({ sales: 0, lines: 0, commits: 0 });
  });

  it('reads sales back as the stream carried them, for a repair to copy', async () => {
    const sale = makeStreamSale({
      branchId: 'b-find',
      cashierId: 'c-7',
      buyerCountry: 'DE',
      paymentMethod: 'card',
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
        { productId: 'p2', category: 'c', quantity: 1, unitPrice: '3' },
      ],
    });
    const ret = makeStreamSale({
      branchId: 'b-find',
      kind: 'return',
      originalSaleId: sale.saleId,
      occurredAt: '2026-03-01T10:15:00.1234567Z',
      lines: [{ productId: 'p2', category: 'c', quantity: 1, unitPrice: '3' }],
    });
    await repo.write([streamed(sale, 11), { sale: ret, streamSeq: 12 }]);
    const found = await repo.findSales([ret.saleId, 'no-such-sale', sale.saleId]);
    expect(found).toEqual([
      { sale: ret, streamSeq: 12 },
      { sale, streamSeq: 11, requestId: 'req-1' },
    ]);
    expect(await repo.findSales([])).toEqual([]);
  });

  it('records a dead letter once per (sink, stream, sequence, sale), keeping the first', async () => {
    const deadLetters = new SpannerDeadLetters(db.client);
    const letter = {
      sink: 'spanner',
      stream: 'SALES',
      streamSeq: 7,
      saleId: 'x'.repeat(100),
      subject: 'sales.b1',
      requestId: null,
      deliveries: 1,
      reason: 'Spanner FAILED_PRECONDITION (9): New value exceeds the maximum size limit',
      payload: new TextEncoder().encode('{"v":1}'),
    };
    await deadLetters.record(letter);
    await deadLetters.record({ ...letter, deliveries: 2, reason: 'again' });
    await deadLetters.record({ ...letter, saleId: '' });
    const listed = await deadLetters.list({ sink: 'spanner' });
    expect(listed).toHaveLength(2);
    expect(listed.find((l) => l.saleId === letter.saleId)).toMatchObject({
      ...letter,
      payload: letter.payload,
    });
  });
});
