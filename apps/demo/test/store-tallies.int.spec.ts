import { jetstream } from '@nats-io/jetstream';
import { type Sale, signedToUnits } from '@tally/contracts';
import { SalesWriteRepository } from '@tally/postgres';
import { SpannerSalesRepository } from '@tally/spanner';
import {
  makeStreamSale,
  NatsFixture,
  PostgresFixture,
  SpannerEmulator,
  SpannerFixture,
} from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAgreement, formatAgreement, type Tally } from '../src/check/agreement.js';
import { PostgresTally, SpannerTally, StreamTally } from '../src/check/store-tallies.js';

/**
 * The demo's check against real stores: each reader counts only this run's sales (an earlier
 * run's are in the same stream and tables), a store that lost one sale is named with the
 * receipt and the money it lacks, and one that holds a line under another category than the
 * reference's is named with the categories that are off.
 */
describe('reading one demo run back from the stream, Postgres and Spanner', () => {
  let nats: NatsFixture;
  let postgres: PostgresFixture;
  let emulator: SpannerEmulator;
  let spanner: SpannerFixture;
  const earlier = Array.from({ length: 5 }, (_, i) => makeStreamSale({ saleId: `demo-old-${i + 1}` }));
  const run: Sale[] = Array.from({ length: 20 }, (_, i) =>
    makeStreamSale(
      i % 7 === 6
        ? { saleId: `demo-new-${i + 1}`, kind: 'return', originalSaleId: `demo-new-${i}` }
        : { saleId: `demo-new-${i + 1}` },
    ),
  );
  const sign = (s: Sale) => (s.kind === 'return' ? -1n : 1n);
  const signed = (s: Sale) => sign(s) * signedToUnits(s.total);
  const byCategory = (sales: Sale[]) => {
    const categories = new Map<string, bigint>();
    for (const s of sales) {
      for (const l of s.lines) {
        categories.set(l.category, (categories.get(l.category) ?? 0n) + sign(s) * signedToUnits(l.amount));
      }
    }
    return categories;
  };
  const expected: Tally = {
    count: run.length,
    netUnits: run.reduce((n, s) => n + signed(s), 0n),
    categories: byCategory(run),
  };
  const lost = run[3]!;
  // Spanner holds this sale with its milk line filed under another category.
  const miscategorised = run[5]!;
  const milk = miscategorised.lines[1]!;
  let fromSeq: number;

  beforeAll(async () => {
    [nats, postgres, emulator] = await Promise.all([
      NatsFixture.create(),
      PostgresFixture.create(),
      SpannerEmulator.start(),
    ]);
    spanner = await SpannerFixture.create(emulator);
    await nats.publishSales(earlier);
    fromSeq = (await nats.publishSales(run))[0]!;
    const stored = (sales: Sale[]) => sales.map((sale, i) => ({ sale, streamSeq: i + 1 }));
    // Postgres lost one sale of the run; Spanner holds them all. Both hold the earlier run.
    await new SalesWriteRepository(postgres.client).insert(
      stored([...earlier, ...run.filter((s) => s !== lost)]),
    );
    await new SpannerSalesRepository(spanner.client).write(
      stored([
        ...earlier,
        ...run.map((s) =>
          s === miscategorised
            ? { ...s, lines: s.lines.map((l) => (l === milk ? { ...l, category: 'bakery' } : l)) }
            : s,
        ),
      ]),
    );
  });

  afterAll(async () => {
    await spanner?.dispose();
    await emulator?.stop();
    await postgres?.dispose();
    await nats?.dispose();
  });

  it('counts only the run, per category too, and names the store that lost a sale and the one that miscategorised a line', async () => {
    const js = jetstream(nats.nc);
    const readings = await Promise.all(
      [
        new StreamTally(js, nats.jsm, nats.names.stream, fromSeq, 'demo-new-'),
        new PostgresTally(postgres.client, 'demo-new-'),
        new SpannerTally(spanner.client, 'demo-new-'),
      ].map(async (source) => ({ store: source.store, tally: await source.read() })),
    );
    expect(readings.find((r) => r.store === 'stream')!.tally).toEqual(expected);
    const postgresTally = readings.find((r) => r.store === 'Postgres')!.tally;
    expect(postgresTally.categories).toEqual(byCategory(run.filter((s) => s !== lost)));
    const spannerTally = readings.find((r) => r.store === 'Spanner')!.tally;
    expect(spannerTally).toMatchObject({ count: expected.count, netUnits: expected.netUnits });

    const report = checkAgreement({ store: 'acknowledged', tally: expected }, readings);
    expect(report.agree).toBe(false);
    expect(report.disagreements.map((d) => d.store)).toEqual(['Postgres', 'Spanner']);
    expect(report.disagreements[0]).toMatchObject({ countDiff: -1, netDiff: -signed(lost) });
    const moved = signedToUnits(milk.amount);
    expect(report.disagreements[1]).toMatchObject({
      countDiff: 0,
      netDiff: 0n,
      categoryDiffs: new Map([
        ['bakery', moved],
        ['dairy', -moved],
      ]),
    });
    expect(formatAgreement(report).slice(-2)).toEqual([
      expect.stringMatching(/^DISAGREE: Postgres 1 receipt short, net revenue [\d.]+ short/),
      expect.stringMatching(
        /^DISAGREE: Spanner net revenue by category differs: bakery 0\.79 too high, dairy 0\.79 short/,
      ),
    ]);
  });

  it('reads the stream on from where the last read stopped', async () => {
    const tally = new StreamTally(jetstream(nats.nc), nats.jsm, nats.names.stream, fromSeq, 'demo-new-');
    expect((await tally.read()).count).toBe(run.length);
    const more = makeStreamSale({ saleId: 'demo-new-extra' });
    await nats.publishSales([more, makeStreamSale({ saleId: 'demo-other-1' })]);
    expect(await tally.read()).toEqual({
      count: run.length + 1,
      netUnits: expected.netUnits + signed(more),
      categories: byCategory([...run, more]),
    });
  });
});
