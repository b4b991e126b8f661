import type { Sale, StreamedSale } from '@tally/contracts';
import { SalesReadRepository, SalesWriteRepository } from '@tally/postgres';
import { SpannerSalesRepository, spannerEnv } from '@tally/spanner';
import {
  makeStreamSale,
  NatsFixture,
  PostgresFixture,
  SpannerEmulator,
  SpannerFixture,
  TEST_NATS_URL,
  waitFor,
} from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReconcile } from '../src/reconcile.command.js';
import { ReconcileService } from '../src/reconcile.service.js';
import { JetStreamSaleStream, postgresStore, spannerStore } from '../src/store-adapters.js';

// Postgres, the Spanner emulator and JetStream, each isolated under names of this file's own.
const RANGE = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-04T00:00:00Z') };
const RANGE_ARGS = ['--from', '2026-03-01', '--to', '2026-03-04'];
const BRANCHES = ['rc-a', 'rc-b', 'rc-c'];
const DAYS = ['2026-03-01', '2026-03-02', '2026-03-03'];
/** Two sales per message, so a repair reads one message for two sales (all sales of a message share a branch). */
const PER_MESSAGE = 2;

/**
 * 3 branches × 3 UTC days × 2 sales: a sale at microsecond precision, and its return sold just
 * before local midnight in UTC+1, which is still the same UTC day (23:59:59.999Z).
 */
function salesOfTheWeek(): Sale[] {
  return BRANCHES.flatMap((branchId) =>
    DAYS.flatMap((day, d) => {
      const sale = makeStreamSale({
        branchId,
        occurredAt: `${day}T08:15:00.123456Z`,
        lines: [
          { productId: 'p1', category: 'c', quantity: d + 1, unitPrice: '12.3456', discount: '0.0006' },
        ],
      });
      const nextDay = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const ret = makeStreamSale({
        branchId,
        kind: 'return',
        originalSaleId: sale.saleId,
        occurredAt: `${nextDay}T00:59:59.999+01:00`,
        lines: [{ productId: 'p1', category: 'c', quantity: 1, unitPrice: '12.3456' }],
      });
      return [sale, ret];
    }),
  );
}

async function run(argv: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReconcile(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err, text: out.join('\n') };
}

describe('npm run reconcile: Postgres vs Spanner, repaired from the stream (real Postgres, emulator, JetStream)', () => {
  let emulator: SpannerEmulator;
  let spannerDb: SpannerFixture;
  let pg: PostgresFixture;
  let nats: NatsFixture;
  let service: ReconcileService;
  let env: Record<string, string>;
  let pgReader: SalesReadRepository;
  let spannerRepo: SpannerSalesRepository;
  const sales = salesOfTheWeek();
  let streamed: StreamedSale[];
  const ids = (picked: readonly number[]) => picked.map((i) => sales[i]!.saleId);

  const deleteInPostgres = async (saleIds: readonly string[]) => {
    await pg.query('DELETE FROM sale_lines WHERE sale_id = ANY($1::text[])', [saleIds]);
    await pg.query('DELETE FROM sales WHERE sale_id = ANY($1::text[])', [saleIds]);
  };
  const deleteInSpanner = async (saleIds: readonly string[]) => {
    // Lines are interleaved ON DELETE CASCADE: deleting the sale deletes them.
    await spannerDb.client.database.runTransactionAsync(async (tx) => {
      await tx.runUpdate({ sql: 'DELETE FROM Sales WHERE SaleId IN UNNEST(@ids)', params: { ids: saleIds } });
      await tx.commit();
    });
  };

  beforeAll(async () => {
    emulator = await SpannerEmulator.start();
    [spannerDb, pg, nats] = await Promise.all([
      SpannerFixture.create(emulator),
      PostgresFixture.create(),
      NatsFixture.create(),
    ]);
    // Publish first, then store each sale with the sequence and request id its message got, as
    // the writer's two consumers would.
    const seqs = await nats.publishSales(sales, { perMessage: PER_MESSAGE });
    streamed = sales.map((sale, i) => {
      const first = i - (i % PER_MESSAGE);
      return { sale, streamSeq: seqs[first / PER_MESSAGE]!, requestId: `test-${first}` };
    });
    pgReader = new SalesReadRepository(pg.client);
    spannerRepo = new SpannerSalesRepository(spannerDb.client);
    await Promise.all([new SalesWriteRepository(pg.client).insert(streamed), spannerRepo.write(streamed)]);
    service = new ReconcileService(
      { postgres: postgresStore(pg.client, pg.url), spanner: spannerStore(spannerDb.client) },
      new JetStreamSaleStream(nats.jsm, nats.names.stream),
    );
    env = {
      DATABASE_URL: pg.url,
      ...spannerEnv(spannerDb.config),
      NATS_URL: TEST_NATS_URL,
      TALLY_STREAM: nats.names.stream,
    };
  });
  afterAll(async () => {
    await Promise.all([spannerDb?.dispose(), pg?.dispose(), nats?.dispose()]);
    await emulator?.stop();
  });

  it('(1) reports zero drift for the same sales in both stores, and exits 0', async () => {
    const report = await service.reconcile(RANGE);
    expect(report).toMatchObject({ agree: true, daysCompared: 9, days: [], differing: [] });
    expect(report.missing).toEqual({ postgres: 0, spanner: 0 });

    const cli = await run(RANGE_ARGS, env);
    expect(cli).toMatchObject({ code: 0, err: [] });
    expect(cli.out).toEqual([
      'Postgres vs Spanner: 2026-03-01T00:00:00.000Z to 2026-03-04T00:00:00.000Z (exclusive), all branches',
      '9 days compared, the stores agree',
    ]);
    // --to is exclusive: the last day is not compared.
    expect((await run(['--from', '2026-03-01', '--to', '2026-03-03', '--branch', 'rc-b'], env)).out[1]).toBe(
      '2 days compared, the stores agree',
    );
  });

  it('(2) finds exactly the rows deleted behind the pipeline in each store (ids and days), and exits 1', async () => {
    // sales[i]: branch = floor(i / 6), day = floor(i % 6 / 2), return when i is odd.
    const goneFromPostgres = ids([0, 9]); // rc-a 03-01 sale; rc-b 03-02 return
    const goneFromSpanner = ids([1, 14, 15]); // rc-a 03-01 return; rc-c 03-02 sale and its return
    await deleteInPostgres(goneFromPostgres);
    await deleteInSpanner(goneFromSpanner);

    const report = await service.reconcile(RANGE);
    expect(report.agree).toBe(false);
    expect(report.missing).toEqual({ postgres: 2, spanner: 3 });
    expect(report.differing).toEqual([]);
    expect(
      report.days.map((d) => [d.branchId, d.day, d.missingInPostgres, d.missingInSpanner, d.differs]),
    ).toEqual([
      ['rc-a', '2026-03-01', ids([0]), ids([1]), []],
      ['rc-b', '2026-03-02', ids([9]), [], []],
      ['rc-c', '2026-03-02', [], ids([14, 15]).sort(), []],
    ]);
    const rcA = report.days[0]!;
    expect(rcA.postgres.count).toBe(1);
    expect(rcA.spanner.count).toBe(1);
    expect(rcA.differences).toEqual(['total', 'digest']); // one sale each way: same count

    const cli = await run([...RANGE_ARGS, '--json'], env);
    expect(cli.code).toBe(1);
    const lines = cli.out.map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'day').map((l) => [l.branchId, l.day])).toEqual([
      ['rc-a', '2026-03-01'],
      ['rc-b', '2026-03-02'],
      ['rc-c', '2026-03-02'],
    ]);
    expect(lines.at(-1)).toMatchObject({
      type: 'summary',
      agree: false,
      daysCompared: 9,
      daysDiffering: 3,
      missingInPostgres: 2,
      missingInSpanner: 3,
      differing: 0,
    });

    const table = await run(RANGE_ARGS, env);
    expect(table.code).toBe(1);
    expect(table.out).toContain(`  rc-c 2026-03-02 missing in spanner: ${ids([14, 15]).sort().join(', ')}`);
    expect(table.out.at(-1)).toBe(
      '9 days compared, 3 differ: 2 sales missing in postgres, 3 missing in spanner, 0 differing',
    );
  });

  it('(3) --repair copies them back from the stream, says so, and a second run reports zero drift', async () => {
    const cli = await run([...RANGE_ARGS, '--repair'], env);
    expect(cli.err).toEqual([]);
    expect(cli.out).toContain(
      `repaired spanner: copied 3 sales (3 from the stream, 0 from postgres)\n  from the stream: ${ids([1, 14, 15]).join(', ')}`,
    );
    expect(cli.out).toContain(
      `repaired postgres: copied 2 sales (2 from the stream, 0 from spanner)\n  from the stream: ${ids([0, 9]).join(', ')}`,
    );
    expect(cli.out.at(-1)).toBe('after repair: 9 days compared, the stores agree');
    expect(cli.code).toBe(0);

    // The copies are the sales as published, with their sequence and request id, in both stores.
    const all = sales.map((s) => s.saleId);
    expect(await pgReader.findSales(all)).toEqual(await spannerRepo.findSales(all));
    const restored = await pgReader.findSales(ids([0, 9]));
    expect(restored.map((s) => [s.streamSeq, s.requestId])).toEqual(
      [streamed[0]!, streamed[9]!].map((s) => [s.streamSeq, s.requestId]),
    );

    expect(await run(RANGE_ARGS, env)).toMatchObject({ code: 0 });
    expect((await service.reconcile(RANGE)).agree).toBe(true);
  });

  it('(4) copies from the other store when the stream no longer holds the sale: a message without it, a purged stream', async () => {
    // A sale stored in Postgres only, under the sequence of a message that does not carry it
    // (it was never published).
    const never = makeStreamSale({ branchId: 'rc-b', occurredAt: '2026-03-02T10:00:00Z' });
    await new SalesWriteRepository(pg.client).insert([{ sale: never, streamSeq: streamed[0]!.streamSeq }]);
    await deleteInSpanner(ids([2]));
    let report = await service.reconcile(RANGE);
    expect(report.days.map((d) => [d.branchId, d.day, d.missingInSpanner])).toEqual([
      ['rc-a', '2026-03-02', ids([2])],
      ['rc-b', '2026-03-02', [never.saleId]],
    ]);
    expect((await service.repair(report)).repairs).toEqual([
      { into: 'spanner', from: 'postgres', fromStream: ids([2]), fromStore: [never.saleId], notFound: [] },
    ]);
    expect(await spannerRepo.findSales([never.saleId])).toEqual([
      { sale: { ...never, occurredAt: '2026-03-02T10:00:00.000Z' }, streamSeq: streamed[0]!.streamSeq },
    ]);

    // Every message gone (a purge; in production, messages past the stream's 7 days).
    await nats.jsm.streams.purge(nats.names.stream);
    expect(await nats.messageCount()).toBe(0);
    await deleteInPostgres(ids([6, 7]));
    await deleteInSpanner(ids([17]));
    report = await service.reconcile(RANGE);
    expect(report.missing).toEqual({ postgres: 2, spanner: 1 });
    const repair = await service.repair(report);
    expect(repair).toEqual({
      repairs: [
        { into: 'spanner', from: 'postgres', fromStream: [], fromStore: ids([17]), notFound: [] },
        { into: 'postgres', from: 'spanner', fromStream: [], fromStore: ids([6, 7]).sort(), notFound: [] },
      ],
    });
    expect((await service.reconcile(RANGE)).agree).toBe(true);
    const all = [...sales.map((s) => s.saleId), never.saleId];
    expect(await pgReader.findSales(all)).toEqual(await spannerRepo.findSales(all));

    // Through the CLI: the source is reported as the other store.
    await deleteInSpanner(ids([3]));
    const cli = await run([...RANGE_ARGS, '--repair'], env);
    expect(cli.out).toContain(
      `repaired spanner: copied 1 sale (0 from the stream, 1 from postgres)\n  from postgres: ${ids([3])[0]}`,
    );
    expect(cli.code).toBe(0);
  });

  it('reports a sale id both stores hold in different versions as differing, never repairs it, and exits 1', async () => {
    // A client reused a sale id for another receipt after the duplicate window: Spanner's upsert
    // keeps the last version, Postgres the first.
    const original = streamed[4]!;
    const reused: Sale = {
      ...original.sale,
      total: '1',
      lines: [{ ...original.sale.lines[0]!, quantity: 1, unitPrice: '1', discount: '0', amount: '1' }],
    };
    await spannerRepo.write([{ sale: reused, streamSeq: 999 }]);
    const report = await service.reconcile(RANGE);
    expect(report.days.map((d) => [d.branchId, d.day, d.differences, d.differs])).toEqual([
      ['rc-a', '2026-03-03', ['total'], [reused.saleId]],
    ]);
    expect(report.differing).toEqual([
      {
        saleId: reused.saleId,
        postgres: { branchId: 'rc-a', day: '2026-03-03', netTotal: original.sale.total },
        spanner: { branchId: 'rc-a', day: '2026-03-03', netTotal: '1' },
      },
    ]);
    const cli = await run([...RANGE_ARGS, '--repair'], env);
    expect(cli.out).toContain('nothing to repair: differing sales are reported, never overwritten');
    expect(cli.code).toBe(1);
    expect((await spannerRepo.findSales([reused.saleId]))[0]!.sale.total).toBe('1');
    await spannerRepo.write([original]); // as it was, for the tests below
  });

  it('with --metrics-port serves the figures of each run as Prometheus gauges until stopped', async () => {
    await deleteInSpanner(ids([5]));
    const stop = new AbortController();
    let url: string | undefined;
    const out: string[] = [];
    const running = runReconcile([...RANGE_ARGS, '--metrics-port', '0', '--every', '1s'], env, {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      signal: stop.signal,
      onMetricsListening: (u) => {
        url = u;
      },
    });
    try {
      const body = await waitFor('a completed run on /metrics', async () => {
        if (url === undefined) return undefined;
        const text = await (await fetch(url)).text();
        return text.includes('tally_reconcile_last_run_ok 1') && text;
      });
      expect(body).toContain('tally_reconcile_days_compared 9');
      expect(body).toContain('tally_reconcile_days_differing 1');
      expect(body).toContain('tally_reconcile_sales_missing{store="spanner"} 1');
      expect(body).toContain('tally_reconcile_sales_missing{store="postgres"} 0');
      expect(body).toContain('tally_reconcile_sales_differing 0');
      expect(body).toMatch(/tally_reconcile_last_run_timestamp_seconds \d+/);
      expect((await fetch(url!.replace('/metrics', '/other'))).status).toBe(404);
      // Read-only: the missing sale stays missing.
      expect(await spannerRepo.findSales(ids([5]))).toEqual([]);
    } finally {
      stop.abort();
    }
    expect(await running).toBe(0);
    expect(out[0]).toMatch(/^reconcile: metrics on http:\/\/127\.0\.0\.1:\d+\/metrics, comparing every 1s$/);
  });

  it('exits 2 naming the flag and rule for bad arguments, and 3 naming the store it cannot read', async () => {
    expect(await run(['--from', '2026-03-04', '--to', '2026-03-01'], env)).toMatchObject({
      code: 2,
      err: [expect.stringMatching(/^reconcile: --to: must be after --from/)],
    });
    expect(await run(['--from', 'yesterday', '--to', '2026-03-01'], env)).toMatchObject({
      code: 2,
      err: [expect.stringMatching(/^reconcile: --from: must be a date YYYY-MM-DD or RFC 3339 instant/)],
    });
    expect(await run(RANGE_ARGS, { ...env, SPANNER_DATABASE_ID: 'Bad!' })).toMatchObject({
      code: 2,
      err: [expect.stringMatching(/^reconcile: configuration error: SPANNER_DATABASE_ID=Bad!/)],
    });
    const down = await run(RANGE_ARGS, { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/tally' });
    expect(down.code).toBe(3);
    expect(down.err.join('\n')).toMatch(
      /^reconcile: postgres \(postgres:\/\/postgres@127\.0\.0\.1:1\/tally\): /,
    );
  });
});
