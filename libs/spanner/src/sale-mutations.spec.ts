import { Spanner } from '@google-cloud/spanner';
import type { Sale, StreamedSale } from '@tally/contracts';
import { makeStreamSale } from '@tally/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SALE_COLUMNS,
  SALE_LINE_COLUMNS,
  SALES_INDEXES,
  saleRows,
  saleWriteCost,
  splitIntoCommits,
  toSpannerTimestamp,
  uniqueSales,
} from './sale-mutations.js';
import { saleShard } from './shard.js';

const base = makeStreamSale({ saleId: 'base', branchId: 'b1' });

/** A stream sale with `lines` lines and ids/texts of the given sizes, without running the validator. */
function sale(id: string, lines: number, nameLength = 10): StreamedSale {
  const line = { ...base.lines[0]!, productName: 'n'.repeat(nameLength) };
  const s: Sale = {
    ...base,
    saleId: id,
    lines: Array.from({ length: lines }, (_, i) => ({ ...line, lineNo: i + 1 })),
  };
  return { sale: s, streamSeq: 1, requestId: 'r' };
}

describe('saleRows', () => {
  it('writes every column, signed money, UTC timestamps and the commit timestamp', () => {
    const ret = makeStreamSale({
      kind: 'return',
      originalSaleId: 'orig-1',
      occurredAt: '2026-03-01T00:30:00.123456789+01:00',
      lines: [{ productId: 'p', category: 'c', quantity: 2, unitPrice: '1.5', discount: '0.5' }],
    });
    const { sale: row, lines } = saleRows({ sale: ret, streamSeq: 42 });
    expect(Object.keys(row)).toEqual([...SALE_COLUMNS]);
    expect(row).toMatchObject({
      Shard: saleShard(ret.saleId),
      Kind: 'return',
      OriginalSaleId: 'orig-1',
      OccurredAt: '2026-02-28T23:30:00.123456789Z',
      NetTotal: '-2.5',
      LineCount: 1,
      StreamSeq: 42,
      RequestId: null,
      CashierId: null,
      StoredAt: Spanner.COMMIT_TIMESTAMP,
    });
    expect(lines).toEqual([
      {
        Shard: row.Shard,
        SaleId: ret.saleId,
        LineNo: 1,
        ProductId: 'p',
        ProductName: null,
        Category: 'c',
        Brand: null,
        Quantity: 2,
        UnitPrice: '1.5',
        Discount: '0.5',
        NetAmount: '-2.5',
      },
    ]);
    expect(Object.keys(lines[0]!)).toEqual([...SALE_LINE_COLUMNS]);
  });

  it('converts any RFC 3339 offset to Z and keeps every fractional digit', () => {
    expect(toSpannerTimestamp('2026-11-21T10:15:00+01:00')).toBe('2026-11-21T09:15:00Z');
    expect(toSpannerTimestamp('2026-11-21T10:15:00.5Z')).toBe('2026-11-21T10:15:00.5Z');
    expect(toSpannerTimestamp('2026-12-31T23:59:59.999999999-05:30')).toBe('2027-01-01T05:29:59.999999999Z');
    expect(toSpannerTimestamp('not a time')).toBe('not a time');
  });
});

describe('saleWriteCost', () => {
  it('counts columns x rows for both tables plus one per secondary index', () => {
    expect(saleWriteCost(sale('a', 1)).mutations).toBe(19 + 1 + 11);
    expect(saleWriteCost(sale('a', 1000)).mutations).toBe(
      SALE_COLUMNS.length + SALES_INDEXES.length + 1000 * SALE_LINE_COLUMNS.length,
    );
    expect(saleWriteCost(sale('a', 1, 200)).bytes - saleWriteCost(sale('a', 1, 10)).bytes).toBe(190);
  });
});

describe('splitIntoCommits', () => {
  it('keeps a batch within the limits in one commit', () => {
    const sales = Array.from({ length: 1000 }, (_, i) => sale(`s${i}`, 2));
    expect(splitIntoCommits(sales, { maxMutations: 80_000, maxBytes: 32 << 20 })).toEqual([sales]);
  });

  it('cuts at the mutation limit exactly: 42 mutations per 2-line sale, 4 per commit of 200', () => {
    const sales = Array.from({ length: 10 }, (_, i) => sale(`s${i}`, 2));
    const commits = splitIntoCommits(sales, { maxMutations: 200, maxBytes: 1 << 30 });
    expect(commits.map((c) => c.length)).toEqual([4, 4, 2]);
  });

  it('gives a sale that alone passes a limit a commit of its own instead of splitting it', () => {
    const sales = [sale('small-1', 1), sale('huge', 100), sale('small-2', 1)];
    const commits = splitIntoCommits(sales, { maxMutations: 500, maxBytes: 1 << 30 });
    expect(commits.map((c) => c.map((s) => s.sale.saleId))).toEqual([['small-1'], ['huge'], ['small-2']]);
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => splitIntoCommits([], { maxMutations: 0, maxBytes: 1 })).toThrow(/maxMutations/);
    expect(() => splitIntoCommits([], { maxMutations: 1, maxBytes: 1.5 })).toThrow(/maxBytes/);
  });

  it('for any sales and limits: no commit passes a limit unless it is one sale, no sale is split, all kept in order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ lines: fc.integer({ min: 1, max: 60 }), name: fc.integer({ min: 1, max: 200 }) }),
          {
            maxLength: 80,
          },
        ),
        fc.integer({ min: 1, max: 3_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        (shapes, maxMutations, maxBytes) => {
          const sales = shapes.map((s, i) => sale(`s${i}`, s.lines, s.name));
          const commits = splitIntoCommits(sales, { maxMutations, maxBytes });
          // All sales, each exactly once, in order: concatenating the commits gives the input back.
          expect(commits.flat()).toEqual(sales);
          for (const commit of commits) {
            expect(commit.length).toBeGreaterThan(0);
            const cost = commit
              .map(saleWriteCost)
              .reduce((sum, c) => ({ mutations: sum.mutations + c.mutations, bytes: sum.bytes + c.bytes }), {
                mutations: 0,
                bytes: 0,
              });
            if (commit.length > 1) {
              expect(cost.mutations).toBeLessThanOrEqual(maxMutations);
              expect(cost.bytes).toBeLessThanOrEqual(maxBytes);
            }
          }
          // Greedy: a commit is closed only when the next sale would not fit in it.
          for (let i = 0; i + 1 < commits.length; i++) {
            const next = saleWriteCost(commits[i + 1]![0]!);
            const cost = commits[i]!.map(saleWriteCost).reduce((a, c) => ({
              mutations: a.mutations + c.mutations,
              bytes: a.bytes + c.bytes,
            }));
            expect(cost.mutations + next.mutations > maxMutations || cost.bytes + next.bytes > maxBytes).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('uniqueSales', () => {
  it('keeps the first occurrence of each saleId, in order', () => {
    const first = sale('a', 1);
    const again = { ...sale('a', 3), streamSeq: 9 };
    expect(
      uniqueSales([first, sale('b', 1), again]).map((s) => [s.sale.saleId, s.sale.lines.length]),
    ).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });
});
