import type { DailyTotal, StreamedSale } from '@tally/contracts';
import { SalesReadRepository, SalesWriteRepository } from '@tally/postgres';
import { makeStreamSale, PostgresFixture, SpannerEmulator, SpannerFixture } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpannerSalesRepository } from './sales.repository.js';
import { saleIdsDigest, saleShard } from './shard.js';

const RANGE = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-03T00:00:00Z') };

/** Sales of two branches over two UTC days, with returns, 4-decimal prices and local offsets near midnight. */
function salesForReconciliation(): StreamedSale[] {
  const at = [
    '2026-03-01T08:00:00Z',
    '2026-03-02T00:30:00+01:00', // 2026-03-01T23:30Z: still the 1st in UTC
    '2026-03-01T23:59:59.999Z',
    '2026-03-01T19:00:00-05:00', // 2026-03-02T00:00Z: the 2nd
    '2026-03-02T12:34:56.789Z',
  ];
  const sales = ['rc-a', 'rc-b'].flatMap((branchId) =>
    at.map((occurredAt, i) =>
      makeStreamSale({
        branchId,
        occurredAt,
        lines: [
          { productId: 'p1', category: 'c', quantity: i + 1, unitPrice: '1.2345', discount: '0.0005' },
          { productId: 'p2', category: 'c', quantity: 3, unitPrice: '99999.9999' },
        ],
      }),
    ),
  );
  const returns = [sales[0]!, sales[1]!, sales[5]!].map((original) =>
    makeStreamSale({
      branchId: original.branchId,
      kind: 'return',
      originalSaleId: original.saleId,
      occurredAt: '2026-03-02T09:00:00Z',
      lines: [{ productId: 'p2', category: 'c', quantity: 1, unitPrice: '99999.9999' }],
    }),
  );
  return [...sales, ...returns].map((sale, i) => ({ sale, streamSeq: i + 1, requestId: `r-${i}` }));
}

/** What both stores must report, computed here from the sales themselves. */
function expectedTotals(sales: readonly StreamedSale[]): DailyTotal[] {
  const groups = new Map<string, StreamedSale[]>();
  for (const s of sales) {
    const key = `${s.sale.branchId}|${new Date(s.sale.occurredAt).toISOString().slice(0, 10)}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.entries()]
    .map(([key, group]) => {
      const [branchId, day] = key.split('|') as [string, string];
      let units = 0n;
      for (const { sale } of group) {
        const [whole, frac = ''] = sale.total.split('.');
        const magnitude = BigInt(whole!) * 10_000n + BigInt(frac.padEnd(4, '0'));
        units += sale.kind === 'return' ? -magnitude : magnitude;
      }
      const sign = units < 0n ? '-' : '';
      const abs = units < 0n ? -units : units;
      const frac = (abs % 10_000n).toString().padStart(4, '0').replace(/0+$/, '');
      return {
        branchId,
        day,
        count: group.length,
        netTotal: `${sign}${abs / 10_000n}${frac ? `.${frac}` : ''}`,
        digest: saleIdsDigest(group.map((s) => s.sale.saleId)),
      };
    })
    .sort((a, b) =>
      a.branchId === b.branchId ? a.day.localeCompare(b.day) : a.branchId < b.branchId ? -1 : 1,
    );
}

describe('reconciliation: Postgres and Spanner report comparable daily totals (real Postgres and emulator)', () => {
  let emulator: SpannerEmulator;
  let spannerDb: SpannerFixture;
  let pg: PostgresFixture;
  let spanner: SpannerSalesRepository;
  let pgReader: SalesReadRepository;
  let pgWriter: SalesWriteRepository;
  const sales = salesForReconciliation();

  beforeAll(async () => {
    emulator = await SpannerEmulator.start();
    [spannerDb, pg] = await Promise.all([SpannerFixture.create(emulator), PostgresFixture.create()]);
    spanner = new SpannerSalesRepository(spannerDb.client);
    pgReader = new SalesReadRepository(pg.client);
    pgWriter = new SalesWriteRepository(pg.client);
    await Promise.all([spanner.write(sales), pgWriter.insert(sales)]);
  });
  afterAll(async () => {
    await Promise.all([spannerDb?.dispose(), pg?.dispose()]);
    await emulator?.stop();
  });

  it('agree for the same sales: per branch and UTC day, the same count, exact signed sum and id digest', async () => {
    const expected = expectedTotals(sales);
    expect(expected.map((t) => [t.branchId, t.day, t.count])).toEqual([
      ['rc-a', '2026-03-01', 3],
      ['rc-a', '2026-03-02', 4],
      ['rc-b', '2026-03-01', 3],
      ['rc-b', '2026-03-02', 3],
    ]);
    expect(await spanner.dailyTotals(RANGE)).toEqual(expected);
    expect(await pgReader.dailyTotals(RANGE)).toEqual(expected);
    expect(await spanner.dailyTotals({ ...RANGE, branchId: 'rc-b' })).toEqual(
      expected.filter((t) => t.branchId === 'rc-b'),
    );
    expect(await pgReader.dailyTotals({ ...RANGE, branchId: 'rc-b' })).toEqual(
      expected.filter((t) => t.branchId === 'rc-b'),
    );
    const day = { branchId: 'rc-a', day: '2026-03-02' };
    expect(await spanner.saleIds(day)).toEqual(await pgReader.saleIds(day));
    expect(await spanner.saleIds(day)).toHaveLength(4);
  });

  it('differ exactly where a row was deleted from one side, and a repair from the other side makes them agree', async () => {
    const lostInSpanner = sales.find(
      (s) => s.sale.branchId === 'rc-a' && s.sale.occurredAt.startsWith('2026-03-01T08'),
    )!;
    const lostInPostgres = sales.find((s) => s.sale.branchId === 'rc-b' && s.sale.kind === 'return')!;
    await spannerDb.client.database
      .table('Sales')
      .deleteRows([[String(saleShard(lostInSpanner.sale.saleId)), lostInSpanner.sale.saleId]]);
    await pg.query('DELETE FROM sale_lines WHERE sale_id = $1', [lostInPostgres.sale.saleId]);
    await pg.query('DELETE FROM sales WHERE sale_id = $1', [lostInPostgres.sale.saleId]);

    const [inSpanner, inPostgres] = await Promise.all([
      spanner.dailyTotals(RANGE),
      pgReader.dailyTotals(RANGE),
    ]);
    const differing = inSpanner
      .filter((s, i) => JSON.stringify(s) !== JSON.stringify(inPostgres[i]))
      .map((s) => [s.branchId, s.day]);
    expect(differing).toEqual([
      ['rc-a', '2026-03-01'],
      ['rc-b', '2026-03-02'],
    ]);
    // Each differing group is off by exactly the one sale: count, sum and digest.
    const a = (rows: DailyTotal[]) => rows.find((r) => r.branchId === 'rc-a' && r.day === '2026-03-01')!;
    expect(a(inPostgres).count - a(inSpanner).count).toBe(1);
    expect(a(inSpanner).digest).toBe(
      saleIdsDigest(
        (await pgReader.saleIds({ branchId: 'rc-a', day: '2026-03-01' })).filter(
          (id) => id !== lostInSpanner.sale.saleId,
        ),
      ),
    );

    // The ids tell which sale each side lacks.
    const missing = async (branchId: string, day: string) => {
      const [s, p] = await Promise.all([
        spanner.saleIds({ branchId, day }),
        pgReader.saleIds({ branchId, day }),
      ]);
      return { inSpanner: p.filter((id) => !s.includes(id)), inPostgres: s.filter((id) => !p.includes(id)) };
    };
    expect(await missing('rc-a', '2026-03-01')).toEqual({
      inSpanner: [lostInSpanner.sale.saleId],
      inPostgres: [],
    });
    expect(await missing('rc-b', '2026-03-02')).toEqual({
      inSpanner: [],
      inPostgres: [lostInPostgres.sale.saleId],
    });

    // Repair: Spanner's copy of the sale goes into Postgres as the stream carried it; the stream's
    // copy goes back into Spanner.
    const copied = await spanner.findSales([lostInPostgres.sale.saleId]);
    // The same sale; its instant reads back in toISOString() form (sent as ...T09:00:00Z).
    expect(copied).toEqual([
      { ...lostInPostgres, sale: { ...lostInPostgres.sale, occurredAt: '2026-03-02T09:00:00.000Z' } },
    ]);
    await pgWriter.insert(copied);
    await spanner.write([lostInSpanner]);
    const expected = expectedTotals(sales);
    expect(await spanner.dailyTotals(RANGE)).toEqual(expected);
    expect(await pgReader.dailyTotals(RANGE)).toEqual(expected);
  });
});
