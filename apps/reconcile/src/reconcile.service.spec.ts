import { type Sale, type StreamedSale, sumDecimals } from '@tally/contracts';
import { saleIdsDigest } from '@tally/spanner';
import { makeStreamSale } from '@tally/testing';
import { describe, expect, it } from 'vitest';
import {
  clampDay,
  compareDailyTotals,
  compareSaleTotals,
  type DailyTotal,
  EMPTY_DIGEST,
  type ReconcileQuery,
  ReconcileService,
  type ReconcileStore,
  type SaleStream,
  type StreamMessage,
  versionOf,
} from './reconcile.service.js';

const row = (branchId: string, day: string, count: number, netTotal: string, digest: string): DailyTotal => ({
  branchId,
  day,
  count,
  netTotal,
  digest,
});

describe('compareDailyTotals', () => {
  it('pairs the rows by branch and day: equal figures agree, each differing figure is named', () => {
    const pg = [
      row('b1', '2026-03-01', 3, '10.5', 'aaa'),
      row('b1', '2026-03-02', 2, '4', 'bbb'),
      row('b2', '2026-03-01', 1, '1', 'ccc'),
    ];
    const sp = [
      row('b2', '2026-03-01', 1, '1.0000', 'ddd'), // same count and sum (as numbers), other ids
      row('b1', '2026-03-01', 3, '10.5', 'aaa'),
      row('b1', '2026-03-02', 1, '3', 'eee'),
    ];
    expect(compareDailyTotals(pg, sp).map((c) => [c.branchId, c.day, c.differences])).toEqual([
      ['b1', '2026-03-01', []],
      ['b1', '2026-03-02', ['count', 'total', 'digest']],
      ['b2', '2026-03-01', ['digest']],
    ]);
  });

  it('reads a day only one store has as no sales in the other: count 0, total 0, empty digest', () => {
    const [only] = compareDailyTotals([], [row('b1', '2026-03-01', 2, '-3.5', 'abc')]);
    expect(only).toEqual({
      branchId: 'b1',
      day: '2026-03-01',
      postgres: { count: 0, netTotal: '0', digest: EMPTY_DIGEST },
      spanner: { count: 2, netTotal: '-3.5', digest: 'abc' },
      differences: ['count', 'total', 'digest'],
    });
    expect(EMPTY_DIGEST).toBe(saleIdsDigest([]));
    expect(compareDailyTotals([], [])).toEqual([]);
  });

  it('refuses a store reporting one day twice (the rows would not be comparable)', () => {
    const twice = [row('b1', '2026-03-01', 1, '1', 'a'), row('b1', '2026-03-01', 1, '1', 'a')];
    expect(() => compareDailyTotals(twice, [])).toThrow(/postgres reported b1 2026-03-01 twice/);
  });
});

describe('compareSaleTotals', () => {
  it('names the ids each side lacks and those both hold with different net totals, in code-point order', () => {
    const pg = [
      { saleId: 'b', netTotal: '2' },
      { saleId: 'a', netTotal: '1' },
      { saleId: 'Z', netTotal: '-5' },
      { saleId: 'c', netTotal: '3.10' },
      { saleId: 'd', netTotal: '4' },
    ];
    const sp = [
      { saleId: 'c', netTotal: '3.1' },
      { saleId: 'd', netTotal: '4.0001' },
      { saleId: 'y', netTotal: '9' },
      { saleId: 'a', netTotal: '1' },
      { saleId: 'x', netTotal: '8' },
    ];
    expect(compareSaleTotals(pg, sp)).toEqual({
      missingInPostgres: ['x', 'y'],
      missingInSpanner: ['Z', 'b'],
      differs: [{ saleId: 'd', postgres: '4', spanner: '4.0001' }],
    });
    expect(compareSaleTotals(pg, pg)).toEqual({ missingInPostgres: [], missingInSpanner: [], differs: [] });
  });
});

describe('clampDay', () => {
  it('is the UTC day within the range: whole days inside, cut at a bound that falls inside the day', () => {
    const query = { from: new Date('2026-03-01T06:00:00Z'), to: new Date('2026-03-03T00:00:00Z') };
    expect(clampDay('2026-03-01', query)).toEqual({
      from: new Date('2026-03-01T06:00:00Z'),
      to: new Date('2026-03-02T00:00:00Z'),
    });
    expect(clampDay('2026-03-02', query)).toEqual({
      from: new Date('2026-03-02T00:00:00Z'),
      to: new Date('2026-03-03T00:00:00Z'),
    });
  });
});

/** A store in memory computing the same figures as the real ones; first-write-wins (Postgres) or last (Spanner). */
class MemoryStore implements ReconcileStore {
  readonly sales = new Map<string, StreamedSale>();
  writes = 0;

  constructor(private readonly wins: 'first' | 'last') {}

  async dailyTotals(query: ReconcileQuery): Promise<DailyTotal[]> {
    const groups = new Map<string, Sale[]>();
    for (const { sale } of this.inRange(query)) {
      const key = `${sale.branchId} ${versionOf(sale).day}`;
      groups.set(key, [...(groups.get(key) ?? []), sale]);
    }
    return [...groups.entries()].map(([key, sales]) => {
      const [branchId, day] = key.split(' ') as [string, string];
      return {
        branchId,
        day,
        count: sales.length,
        netTotal: sumDecimals(sales.map((s) => versionOf(s).netTotal)),
        digest: saleIdsDigest(sales.map((s) => s.saleId)),
      };
    });
  }

  async saleTotals(query: { branchId: string; from: Date; to: Date }) {
    return this.inRange(query).map(({ sale }) => ({
      saleId: sale.saleId,
      netTotal: versionOf(sale).netTotal,
    }));
  }

  async findSales(ids: readonly string[]): Promise<StreamedSale[]> {
    return ids.flatMap((id) => this.sales.get(id) ?? []);
  }

  async write(sales: readonly StreamedSale[]): Promise<void> {
    this.writes++;
    for (const s of sales) {
      if (this.wins === 'last' || !this.sales.has(s.sale.saleId)) this.sales.set(s.sale.saleId, s);
    }
  }

  private inRange(query: { from: Date; to: Date; branchId?: string | undefined }): StreamedSale[] {
    return [...this.sales.values()].filter(({ sale }) => {
      const at = Date.parse(sale.occurredAt);
      return (
        at >= query.from.getTime() &&
        at < query.to.getTime() &&
        (query.branchId === undefined || sale.branchId === query.branchId)
      );
    });
  }
}

class MemoryStream implements SaleStream {
  readonly messages = new Map<number, StreamMessage>();
  reads = 0;
  failWith: Error | undefined;

  async message(seq: number): Promise<StreamMessage | undefined> {
    this.reads++;
    if (this.failWith) throw this.failWith;
    return this.messages.get(seq);
  }
}

const RANGE = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-03T00:00:00Z') };

/** Six sales over two branches and two days, published two to a message, stored in both stores. */
function world() {
  const postgres = new MemoryStore('first');
  const spanner = new MemoryStore('last');
  const stream = new MemoryStream();
  const sales = ['m-a', 'm-b'].flatMap((branchId) =>
    ['2026-03-01T10:00:00Z', '2026-03-01T23:00:00+02:00', '2026-03-02T08:00:00Z'].map((occurredAt) =>
      makeStreamSale({ branchId, occurredAt }),
    ),
  );
  const streamed = sales.map((sale, i) => ({
    sale,
    streamSeq: Math.floor(i / 2) + 1,
    requestId: `r${i >> 1}`,
  }));
  for (let i = 0; i < sales.length; i += 2) {
    stream.messages.set(i / 2 + 1, { sales: sales.slice(i, i + 2), requestId: `r${i / 2}` });
  }
  for (const s of streamed) {
    postgres.sales.set(s.sale.saleId, s);
    spanner.sales.set(s.sale.saleId, s);
  }
  return { postgres, spanner, stream, sales, streamed };
}

describe('ReconcileService over stores in memory', () => {
  it('agrees on identical stores after one daily read per store, without listing any sale', async () => {
    const { postgres, spanner, stream } = world();
    const report = await new ReconcileService({ postgres, spanner }, stream).reconcile(RANGE);
    expect(report).toMatchObject({ agree: true, daysCompared: 4, days: [], differing: [] });
    expect(report.missing).toEqual({ postgres: 0, spanner: 0 });
  });

  it('finds exactly the sales each side lacks, by branch and day; a repair copies them from the stream', async () => {
    const { postgres, spanner, stream, sales, streamed } = world();
    // 2026-03-01T23:00+02:00 is 21:00Z: still the 1st.
    spanner.sales.delete(sales[1]!.saleId);
    postgres.sales.delete(sales[5]!.saleId);
    const service = new ReconcileService({ postgres, spanner }, stream);
    const report = await service.reconcile(RANGE);
    expect(report.agree).toBe(false);
    expect(
      report.days.map((d) => [d.branchId, d.day, d.differences, d.missingInPostgres, d.missingInSpanner]),
    ).toEqual([
      ['m-a', '2026-03-01', ['count', 'total', 'digest'], [], [sales[1]!.saleId]],
      ['m-b', '2026-03-02', ['count', 'total', 'digest'], [sales[5]!.saleId], []],
    ]);
    expect(report.missing).toEqual({ postgres: 1, spanner: 1 });

    const repair = await service.repair(report);
    expect(repair).toEqual({
      repairs: [
        { into: 'spanner', from: 'postgres', fromStream: [sales[1]!.saleId], fromStore: [], notFound: [] },
        { into: 'postgres', from: 'spanner', fromStream: [sales[5]!.saleId], fromStore: [], notFound: [] },
      ],
    });
    expect(spanner.sales.get(sales[1]!.saleId)).toEqual(streamed[1]);
    expect(postgres.sales.get(sales[5]!.saleId)).toEqual(streamed[5]);
    expect((await service.reconcile(RANGE)).agree).toBe(true);
  });

  it('copies from the other store when the stream no longer holds the message, or cannot be read', async () => {
    const { postgres, spanner, stream, sales, streamed } = world();
    spanner.sales.delete(sales[0]!.saleId);
    spanner.sales.delete(sales[1]!.saleId); // same message as sales[0]: read once
    spanner.sales.delete(sales[2]!.saleId);
    stream.messages.delete(2); // sales[2] and [3]: aged out
    const service = new ReconcileService({ postgres, spanner }, stream);
    const report = await service.reconcile(RANGE);
    expect(report.missing).toEqual({ postgres: 0, spanner: 3 });
    const repair = await service.repair(report);
    expect(repair.repairs).toEqual([
      {
        into: 'spanner',
        from: 'postgres',
        fromStream: [sales[0]!.saleId, sales[1]!.saleId],
        fromStore: [sales[2]!.saleId],
        notFound: [],
      },
    ]);
    expect(stream.reads).toBe(2);
    expect(spanner.sales.get(sales[2]!.saleId)).toEqual(streamed[2]);

    // A stream that fails: said once, every sale copied from the other store.
    spanner.sales.delete(sales[3]!.saleId);
    spanner.sales.delete(sales[4]!.saleId);
    stream.failWith = new Error('NATS is down');
    const again = await service.repair(await service.reconcile(RANGE));
    expect(again).toEqual({
      repairs: [
        {
          into: 'spanner',
          from: 'postgres',
          fromStream: [],
          fromStore: [sales[3]!.saleId, sales[4]!.saleId].sort(),
          notFound: [],
        },
      ],
      streamError: 'NATS is down',
    });
    expect((await service.reconcile(RANGE)).agree).toBe(true);

    // No stream at all.
    postgres.sales.delete(sales[0]!.saleId);
    const noStream = new ReconcileService({ postgres, spanner });
    expect((await noStream.repair(await noStream.reconcile(RANGE))).repairs).toEqual([
      { into: 'postgres', from: 'spanner', fromStream: [], fromStore: [sales[0]!.saleId], notFound: [] },
    ]);
  });

  it('reports a sale both hold with different totals as differing, and never repairs it', async () => {
    const { postgres, spanner, sales, streamed } = world();
    // The same id reused for another receipt after the duplicate window: Spanner kept the last.
    const reused: Sale = { ...sales[3]!, total: '999', lines: [{ ...sales[3]!.lines[0]!, amount: '999' }] };
    await spanner.write([{ sale: reused, streamSeq: 9 }]);
    const service = new ReconcileService({ postgres, spanner });
    const report = await service.reconcile(RANGE);
    expect(report.days).toMatchObject([
      {
        branchId: 'm-b',
        day: '2026-03-01',
        differences: ['total'],
        missingInPostgres: [],
        missingInSpanner: [],
        differs: [reused.saleId],
      },
    ]);
    expect(report.differing).toEqual([
      {
        saleId: reused.saleId,
        postgres: { branchId: 'm-b', day: '2026-03-01', netTotal: sales[3]!.total },
        spanner: { branchId: 'm-b', day: '2026-03-01', netTotal: '999' },
      },
    ]);
    expect(await service.repair(report)).toEqual({ repairs: [] });
    expect(spanner.sales.get(reused.saleId)?.sale.total).toBe('999');
    expect(postgres.sales.get(reused.saleId)).toEqual(streamed[3]);
  });

  it('reports a sale stored under another day or branch in one store as differing, not missing, with both versions', async () => {
    const { postgres, spanner, sales } = world();
    const moved: Sale = { ...sales[0]!, occurredAt: '2026-03-02T12:00:00Z' };
    const elsewhere: Sale = { ...sales[4]!, branchId: 'm-z' };
    await spanner.write([
      { sale: moved, streamSeq: 7 },
      { sale: elsewhere, streamSeq: 8 },
    ]);
    const service = new ReconcileService({ postgres, spanner });
    // One branch: the other version of `elsewhere` lies outside the query, and is read by key.
    const mB = await service.reconcile({ ...RANGE, branchId: 'm-b' });
    expect(mB.days.map((d) => [d.day, d.missingInSpanner, d.differs])).toEqual([
      ['2026-03-01', [], [elsewhere.saleId]],
    ]);
    expect(mB.differing).toEqual([
      {
        saleId: elsewhere.saleId,
        postgres: versionOf(sales[4]!),
        spanner: { ...versionOf(sales[4]!), branchId: 'm-z' },
      },
    ]);

    const all = await service.reconcile(RANGE);
    expect(
      all.days.map((d) => [d.branchId, d.day, d.missingInPostgres, d.missingInSpanner, d.differs]),
    ).toEqual([
      ['m-a', '2026-03-01', [], [], [moved.saleId]],
      ['m-a', '2026-03-02', [], [], [moved.saleId]],
      ['m-b', '2026-03-01', [], [], [elsewhere.saleId]],
      ['m-z', '2026-03-01', [], [], [elsewhere.saleId]],
    ]);
    expect(all.differing.map((d) => [d.saleId, d.postgres.day, d.spanner.day])).toEqual(
      [
        [moved.saleId, '2026-03-01', '2026-03-02'],
        [elsewhere.saleId, '2026-03-01', '2026-03-01'],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    expect(all.missing).toEqual({ postgres: 0, spanner: 0 });
    expect(await service.repair(all)).toEqual({ repairs: [] });
  });

  it('treats a day whose sales agree when listed (a writer raced the daily read) as agreeing', async () => {
    const { postgres, spanner, sales } = world();
    spanner.sales.delete(sales[0]!.saleId);
    const racing: ReconcileStore = {
      ...spanner,
      dailyTotals: (q) => spanner.dailyTotals(q),
      saleTotals: async (q) => {
        spanner.sales.set(sales[0]!.saleId, postgres.sales.get(sales[0]!.saleId)!); // caught up
        return spanner.saleTotals(q);
      },
      findSales: (ids) => spanner.findSales(ids),
      write: (s) => spanner.write(s),
    };
    const report = await new ReconcileService({ postgres, spanner: racing }).reconcile(RANGE);
    expect(report).toMatchObject({ agree: true, days: [], daysCompared: 4 });
  });

  it('reports a sale gone from the other store since the comparison as not found, copying nothing', async () => {
    const { postgres, spanner, sales } = world();
    spanner.sales.delete(sales[0]!.saleId);
    const service = new ReconcileService({ postgres, spanner });
    const report = await service.reconcile(RANGE);
    postgres.sales.delete(sales[0]!.saleId);
    expect(await service.repair(report)).toEqual({
      repairs: [
        { into: 'spanner', from: 'postgres', fromStream: [], fromStore: [], notFound: [sales[0]!.saleId] },
      ],
    });
    expect(spanner.writes).toBe(0);
  });
});
