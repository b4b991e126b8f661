import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Sale, sumDecimals } from '@tally/contracts';
import { SalesReadRepository } from '@tally/postgres';
import { migrateSpanner, SpannerClient, SpannerSalesRepository, spannerEnv } from '@tally/spanner';
import {
  makeStreamSale,
  NatsFixture,
  PostgresFixture,
  SpannerEmulator,
  SpannerFixture,
  TcpProxy,
  TEST_NATS_URL,
  waitFor,
} from '@tally/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startIngest } from '../../apps/ingest/test/ingest-app.fixture.js';
import { runReconcile } from '../../apps/reconcile/src/reconcile.command.js';
import { startWriter, writerEnv } from '../../apps/writer/test/writer-app.fixture.js';
import { IngestLedger, Random, runLoad, SaleGenerator, sleep } from './load.js';
import { consumerDrained, exactlyOnce, storedState } from './stored.js';
import { buildDist, ChildOutput, WriterProcess } from './writer-process.js';

let emulator: SpannerEmulator;
let nats: NatsFixture;
let db: PostgresFixture;
let spanner: SpannerFixture;
let writer: NestFastifyApplication | undefined;
let ingest: NestFastifyApplication | undefined;
let proxy: TcpProxy | undefined;
let children: WriterProcess[] = [];

beforeAll(async () => {
  emulator = await SpannerEmulator.start();
  await buildDist();
}, 120_000);
afterAll(() => emulator?.stop());

beforeEach(async () => {
  [nats, db, spanner] = await Promise.all([
    NatsFixture.create(),
    PostgresFixture.create(),
    SpannerFixture.create(emulator),
  ]);
});

afterEach(async () => {
  await Promise.allSettled([writer?.close(), ingest?.close(), ...children.map((c) => c.stop())]);
  writer = undefined;
  ingest = undefined;
  children = [];
  await proxy?.close();
  proxy = undefined;
  await Promise.all([nats?.dispose(), db?.dispose(), spanner?.dispose()]);
});

/** The test database's settings, reached at `host` (the emulator itself, or a proxy in front of it). */
function spannerAt(host: string): Record<string, string> {
  return spannerEnv({ ...spanner.config, emulatorHost: host });
}

const spannerState = async () => {
  const [row] = await spanner.query<{ n: string; dup: string; total: string | null }>(
    'SELECT COUNT(*) AS n, COUNT(*) - COUNT(DISTINCT SaleId) AS dup, CAST(SUM(NetTotal) AS STRING) AS total FROM Sales',
  );
  return { sales: Number(row!.n), duplicates: Number(row!.dup), netTotal: sumDecimals([row!.total ?? '0']) };
};
const pgCount = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sales'))[0]!.n;
const signedTotal = (sales: readonly Sale[]) =>
  sumDecimals(sales.map((s) => (s.kind === 'return' ? `-${s.total}` : s.total)));

describe('the Spanner sink under crashes and outages (real emulator)', () => {
  it('sales through ingest reach Spanner exactly once with the same totals as Postgres, and reconciliation reports zero drift', async () => {
    const random = new Random(Random.seedFromEnv());
    const started = await startIngest(nats.names);
    ingest = started.app;
    writer = (
      await startWriter(nats.names, db.url, {
        WRITER_SINKS: 'postgres,spanner',
        ...spannerAt(emulator.host),
      })
    ).app;
    const generator = new SaleGenerator(random, `through-ingest-${random.seed}`);
    const ledger = new IngestLedger(started.url);
    await runLoad(generator, ledger, random, {
      batchSize: [20, 120],
      singleShare: 0.2,
      concurrency: 4,
      pauseMs: 0,
      more: () => generator.count < 1500,
    });
    expect(ledger.failures()).toEqual([]);
    const expected = ledger.expected();
    await consumerDrained(nats, 'writer-postgres');
    await consumerDrained(nats, 'writer-spanner');
    expect(await storedState(db)).toEqual(exactlyOnce(expected));
    expect(await spannerState()).toEqual({
      sales: expected.sales,
      duplicates: 0,
      netTotal: expected.netTotal,
    });

    const out: string[] = [];
    const day = 86_400_000;
    const code = await runReconcile(
      [
        '--from',
        new Date(Date.now() - 400 * day).toISOString().slice(0, 10),
        '--to',
        new Date(Date.now() + 2 * day).toISOString().slice(0, 10),
      ],
      {
        DATABASE_URL: db.url,
        NATS_URL: TEST_NATS_URL,
        TALLY_STREAM: nats.names.stream,
        ...spannerAt(emulator.host),
      },
      { out: (line) => out.push(line), err: (line) => out.push(line) },
    );
    expect({ code, out: out.join('\n') }).toMatchObject({ code: 0 });
    // It compared real days (every branch-day the load touched), not an empty range.
    const compared = Number(/(\d+) days? compared, the stores agree/.exec(out.join('\n'))?.[1] ?? 0);
    expect(compared).toBeGreaterThan(0);
  }, 120_000);

  it('SIGKILL of the Spanner writer at random points during a load of 20,000 sales loses nothing and duplicates nothing', async () => {
    const random = new Random(Random.seedFromEnv());
    console.info(`spanner-crash: seed ${random.seed} (rerun with E2E_SEED=${random.seed})`);
    await nats.copyConsumer('writer-spanner', 'writer-spanner-crash', { ackWaitMs: 2000 });
    const output = new ChildOutput();
    const env = {
      NATS_URL: TEST_NATS_URL,
      ...writerEnv(nats.names, db.url, {
        WRITER_SINKS: 'spanner',
        WRITER_SPANNER_CONSUMER: 'writer-spanner-crash',
        WRITER_BATCH_MAX_SALES: '200',
        LOG_LEVEL: 'warn',
        ...spannerAt(emulator.host),
      }),
    };
    const launch = () => {
      const child = WriterProcess.start(`writer#${children.length + 1}`, env, output);
      children.push(child);
      return child;
    };

    const sales = Array.from({ length: 20_000 }, (_, i) => makeStreamSale({ branchId: `b${i % 5}` }));
    let published = 0;
    const load = (async () => {
      for (let i = 0; i < sales.length; i += 500) {
        await nats.publishSales(sales.slice(i, i + 500), { perMessage: random.int(1, 50) });
        published = i + 500;
        await sleep(60);
      }
    })();
    try {
      let child = launch();
      for (let kill = 1; kill <= 4; kill++) {
        const before = (await spannerState()).sales;
        await waitFor(
          `${child.tag} storing`,
          async () => (await spannerState()).sales > before || undefined,
          {
            timeoutMs: 30_000,
            intervalMs: 50,
          },
        );
        await sleep(random.int(100, 900));
        const exit = await child.kill();
        expect(exit).toMatchObject({ signal: 'SIGKILL', expected: true });
        child = launch();
      }
      await load;
      expect(published).toBeGreaterThanOrEqual(sales.length);
      await consumerDrained(nats, 'writer-spanner-crash', 60_000);
      expect(await spannerState()).toEqual({
        sales: sales.length,
        duplicates: 0,
        netTotal: signedTotal(sales),
      });
      const [lines] = await spanner.query<{ n: string }>('SELECT COUNT(*) AS n FROM SaleLines');
      expect(Number(lines!.n)).toBe(sales.reduce((n, s) => n + s.lines.length, 0));
      // The kills interrupted real work: JetStream had to deliver some messages again.
      const info = await nats.consumerInfo('writer-spanner-crash');
      expect(info.delivered.consumer_seq).toBeGreaterThan(info.delivered.stream_seq);
    } catch (error) {
      console.error(`spanner-crash failed (seed ${random.seed}); writer output:\n${output.text || '(none)'}`);
      throw error;
    }
  }, 120_000);

  it('when the emulator is stopped mid-load and started again (empty), Postgres keeps pace, the Spanner sink resumes once the database is back, and reconcile --repair restores what the restart erased', async () => {
    // An emulator of this test's own: stopping it erases everything it holds (it keeps data in memory only).
    const own = await SpannerEmulator.start();
    const target = SpannerFixture.newConfig(own);
    await migrateSpanner(target);
    const env = spannerEnv(target);
    const client = SpannerClient.create(target);
    const count = async () => {
      const [rows] = await client.database.run({ sql: 'SELECT COUNT(*) AS n FROM Sales', json: true });
      return Number((rows[0] as { n: string }).n);
    };
    try {
      writer = (await startWriter(nats.names, db.url, { WRITER_SINKS: 'postgres,spanner', ...env })).app;
      const all: Sale[] = [];
      const send = async (n: number) => {
        const batch = Array.from({ length: n }, (_, i) => makeStreamSale({ branchId: `b${i % 3}` }));
        all.push(...batch);
        await nats.publishSales(batch, { perMessage: 20 });
      };
      await send(400);
      await waitFor(
        'both stores caught up',
        async () => ((await pgCount()) === 400 && (await count()) === 400) || undefined,
      );

      await own.stop();
      for (let i = 0; i < 4; i++) {
        await send(300);
        await sleep(150);
      }
      await waitFor(
        'Postgres has everything while Spanner is down',
        async () => (await pgCount()) === all.length || undefined,
        {
          timeoutMs: 10_000,
        },
      );
      await own.restart();
      await migrateSpanner(target); // the restarted emulator is empty: instance and database again
      await waitFor(
        'the Spanner sink stored what came during the outage',
        async () => (await count()) === 1200 || undefined,
        {
          timeoutMs: 60_000,
        },
      );

      const day = 86_400_000;
      const argv = [
        '--from',
        new Date(Date.now() - 2 * day).toISOString().slice(0, 10),
        '--to',
        new Date(Date.now() + 2 * day).toISOString().slice(0, 10),
      ];
      const reconcileEnv = {
        DATABASE_URL: db.url,
        NATS_URL: TEST_NATS_URL,
        TALLY_STREAM: nats.names.stream,
        ...env,
      };
      const out: string[] = [];
      const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
      expect(await runReconcile(argv, reconcileEnv, io)).toBe(1);
      expect(out.join('\n')).toMatch(/400 missing in spanner/);
      expect(await runReconcile([...argv, '--repair'], reconcileEnv, io)).toBe(0);
      expect(await count()).toBe(all.length);
      expect(await runReconcile(argv, reconcileEnv, io)).toBe(0);
      expect(await nats.deadLetters()).toEqual([]);
    } catch (error) {
      console.error(`reconcile output:\n${error instanceof Error ? error.message : error}`);
      throw error;
    } finally {
      await writer?.close();
      writer = undefined;
      await client.close();
      await own.stop();
    }
  }, 150_000);

  it('while Spanner is unreachable the Postgres sink keeps pace, and afterwards Spanner catches up and both agree', async () => {
    // A cut link instead of a stopped emulator: the emulator keeps its data in memory only, so
    // stopping it would also erase the database. For the client the two look the same.
    proxy = await TcpProxy.start('127.0.0.1', emulator.port);
    const started = await startWriter(nats.names, db.url, {
      WRITER_SINKS: 'postgres,spanner',
      ...spannerAt(proxy.url),
    });
    writer = started.app;
    const all: Sale[] = [];
    const send = async (n: number) => {
      const batch = Array.from({ length: n }, (_, i) => makeStreamSale({ branchId: `b${i % 3}` }));
      all.push(...batch);
      await nats.publishSales(batch, { perMessage: 20 });
    };

    await send(500);
    await waitFor(
      'both stores caught up',
      async () => ((await pgCount()) === 500 && (await spannerState()).sales === 500) || undefined,
    );
    proxy.cut();
    for (let i = 0; i < 5; i++) {
      await send(400);
      await sleep(200);
    }
    // Postgres keeps pace during the outage; Spanner stores nothing and reports itself down.
    await waitFor('Postgres has everything', async () => (await pgCount()) === all.length || undefined, {
      timeoutMs: 10_000,
    });
    await waitFor('spanner down in /health/ready', async () => {
      const ready = (await (await fetch(`${started.url}/health/ready`)).json()) as {
        checks: { sinks: Record<string, string> };
      };
      return (ready.checks.sinks.spanner === 'down' && ready.checks.sinks.postgres === 'up') || undefined;
    });
    proxy.heal();
    await waitFor(
      'Spanner caught up',
      async () => ((await spannerState()).sales === all.length ? true : undefined),
      // A commit sent into the cut link is retried inside the Spanner client until its 60 s
      // deadline before the sink sees the failure and retries the batch: allow for one.
      { timeoutMs: 110_000 },
    );
    expect(await spannerState()).toEqual({ sales: all.length, duplicates: 0, netTotal: signedTotal(all) });
    const range = { from: new Date(Date.now() - 86_400_000 * 2), to: new Date(Date.now() + 86_400_000) };
    const [pg, sp] = await Promise.all([
      new SalesReadRepository(db.client).dailyTotals(range),
      new SpannerSalesRepository(spanner.client).dailyTotals(range),
    ]);
    expect(sp).toEqual(pg);
    expect(await nats.deadLetters()).toEqual([]);
  }, 180_000);
});
