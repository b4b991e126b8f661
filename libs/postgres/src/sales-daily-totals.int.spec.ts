import { createHash } from 'node:crypto';
import { makeStreamSale, PostgresFixture } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SalesReadRepository } from './sales-read.repository.js';
import { SalesWriteRepository } from './sales-write.repository.js';

/** The digest as specified: XOR over the ids of the first 60 bits (15 hex digits) of sha256(id). */
function digest(ids: readonly string[]): string {
  let x = 0n;
  for (const id of ids) x ^= BigInt(`0x${createHash('sha256').update(id).digest('hex').slice(0, 15)}`);
  return x.toString(16).padStart(15, '0');
}

describe('Postgres daily totals for reconciliation (real Postgres)', () => {
  let db: PostgresFixture;
  let reader: SalesReadRepository;
  const line = { productId: 'p', category: 'c', quantity: 1 };
  const sales = [
    makeStreamSale({
      branchId: 'd-a',
      occurredAt: '2026-04-01T00:00:00Z',
      lines: [{ ...line, unitPrice: '10.0001' }],
    }),
    // 2026-04-01T22:30Z in UTC, though the 2nd where it was sold.
    makeStreamSale({
      branchId: 'd-a',
      occurredAt: '2026-04-02T00:30:00+02:00',
      lines: [{ ...line, unitPrice: '0.0009' }],
    }),
    makeStreamSale({
      branchId: 'd-a',
      occurredAt: '2026-04-02T00:00:00Z',
      lines: [{ ...line, unitPrice: '5' }],
    }),
    makeStreamSale({
      branchId: 'd-b',
      occurredAt: '2026-04-01T12:00:00Z',
      lines: [{ ...line, unitPrice: '7' }],
    }),
  ];
  const ret = makeStreamSale({
    branchId: 'd-a',
    kind: 'return',
    originalSaleId: sales[0]!.saleId,
    occurredAt: '2026-04-01T23:59:59.999999Z',
    lines: [{ ...line, unitPrice: '10.0001' }],
  });

  beforeAll(async () => {
    db = await PostgresFixture.create();
    reader = new SalesReadRepository(db.client);
    await new SalesWriteRepository(db.client).insert(
      [...sales, ret].map((sale, i) => ({ sale, streamSeq: i + 1 })),
    );
  });
  afterAll(() => db?.dispose());

  it('groups by branch and UTC day: count, exact signed sum, digest of the ids; ordered by branch and day', async () => {
    const range = { from: new Date('2026-04-01T00:00:00Z'), to: new Date('2026-04-03T00:00:00Z') };
    const dayOne = [sales[0]!, sales[1]!, ret].map((s) => s.saleId);
    expect(await reader.dailyTotals(range)).toEqual([
      { branchId: 'd-a', day: '2026-04-01', count: 3, netTotal: '0.0009', digest: digest(dayOne) },
      { branchId: 'd-a', day: '2026-04-02', count: 1, netTotal: '5', digest: digest([sales[2]!.saleId]) },
      { branchId: 'd-b', day: '2026-04-01', count: 1, netTotal: '7', digest: digest([sales[3]!.saleId]) },
    ]);
    expect(await reader.dailyTotals({ ...range, branchId: 'd-b' })).toHaveLength(1);
    // `to` is exclusive, `from` inclusive.
    expect(
      await reader.dailyTotals({
        from: new Date('2026-04-01T00:00:00Z'),
        to: new Date('2026-04-02T00:00:00Z'),
        branchId: 'd-a',
      }),
    ).toEqual([expect.objectContaining({ day: '2026-04-01', count: 3 })]);
  });

  it('lists the sale ids of one branch and UTC day in code-point order', async () => {
    const ids = await reader.saleIds({ branchId: 'd-a', day: '2026-04-01' });
    expect(ids).toEqual([sales[0]!.saleId, sales[1]!.saleId, ret.saleId].sort());
    expect(await reader.saleIds({ branchId: 'd-a', day: '2026-04-03' })).toEqual([]);
    await expect(reader.saleIds({ branchId: 'd-a', day: '04/01/2026' })).rejects.toThrow(/YYYY-MM-DD/);
  });
});
