import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { NatsFixture, PostgresFixture, TEST_NATS_URL, waitFor } from '@tally/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startIngest } from '../../apps/ingest/test/ingest-app.fixture.js';
import { writerEnv } from '../../apps/writer/test/writer-app.fixture.js';
import { IngestLedger, Random, runLoad, SaleGenerator, sleep } from './load.js';
import { consumerDrained, exactlyOnce, storedCount, storedState } from './stored.js';
import { buildDist, type ChildExit, ChildOutput, WriterProcess } from './writer-process.js';

/** Sales sent at least; the load goes on until every kill is done, so each one hits a live load. */
const SALES = 20_000;
const KILLS = 6;
/** A copy of writer-postgres with a short ack_wait: what a killed writer held comes back in 2 s, not 30. */
const CONSUMER = 'writer-postgres-crash';

let nats: NatsFixture;
let db: PostgresFixture;
let ingest: NestFastifyApplication | undefined;
let children: WriterProcess[] = [];

beforeAll(async () => {
  await buildDist();
}, 120_000);

beforeEach(async () => {
  [nats, db] = await Promise.all([NatsFixture.create(), PostgresFixture.create()]);
});

afterEach(async () => {
  await Promise.allSettled([ingest?.close(), ...children.map((c) => c.stop())]);
  ingest = undefined;
  children = [];
  await Promise.all([nats?.dispose(), db?.dispose()]);
});

interface Kill {
  readonly n: number;
  /**
   * `anytime`: after the random delay, wherever the child is (often waiting on a pull, holding
   * delivered messages). `mid-write`: after the delay, at the next moment the stored count is seen
   * moving, i.e. while the child is between the transactions of a batch.
   */
  readonly mode: 'anytime' | 'mid-write';
  /** ms from the child being seen storing to the kill. */
  readonly delayMs: number;
  readonly storedAtKill: number;
  readonly sentAtKill: number;
  readonly loadRunning: boolean;
  readonly exit: ChildExit;
}

describe('the writer process killed with SIGKILL under load', () => {
  it('SIGKILL at random points during a load of 20,000 sales, several times, loses nothing and duplicates nothing', {
    timeout: 90_000,
  }, async ({ onTestFailed }) => {
    const seed = Random.seedFromEnv();
    console.info(`writer-crash: seed ${seed} (rerun with E2E_SEED=${seed})`);
    const salesRandom = new Random(seed);
    const killRandom = new Random(seed ^ 0x5bd1e995);
    const output = new ChildOutput();
    const kills: Kill[] = [];
    onTestFailed(() => {
      console.error(`writer-crash failed (seed ${seed}); kills: ${JSON.stringify(kills, null, 1)}`);
      console.error(`writer output:\n${output.text || '(none)'}`);
    });

    const started = await startIngest(nats.names);
    ingest = started.app;
    await nats.copyConsumer('writer-postgres', CONSUMER, { ackWaitMs: 2000 });
    const env = {
      NATS_URL: TEST_NATS_URL,
      ...writerEnv(nats.names, db.url, {
        WRITER_POSTGRES_CONSUMER: CONSUMER,
        // Small transactions: a pulled batch takes many, so a mid-write kill lands between two
        // of them, where a writer acking before its commit would lose the rest. (A writer mutated
        // that way lost sales in each of 6 runs of this test; with larger transactions and kills
        // at any moment only, it often got away with it.)
        WRITER_BATCH_MAX_SALES: '100',
        LOG_LEVEL: 'warn',
        WRITER_PORT: '0',
      }),
    };
    const launch = () => {
      const child = WriterProcess.start(`writer#${children.length + 1}`, env, output);
      children.push(child);
      return child;
    };

    const generator = new SaleGenerator(salesRandom, `crash-${seed}`);
    const ledger = new IngestLedger(started.url);
    let abort = false;
    let loading = true;
    const loadStarted = Date.now();
    const load = runLoad(generator, ledger, salesRandom, {
      batchSize: [50, 250],
      singleShare: 0.05,
      concurrency: 2,
      pauseMs: 200,
      more: () => !abort && (generator.count < SALES || kills.length < KILLS),
    }).finally(() => {
      loading = false;
    });

    try {
      let writer = launch();
      for (let n = 1; n <= KILLS; n++) {
        // Wait until this child stores (it has booted and is mid-stream), then kill it at a random moment.
        const before = await storedCount(db);
        await waitFor(
          `${writer.tag} storing sales`,
          async () => {
            if (!writer.running) throw new Error(`${writer.tag} exited on its own`);
            return (await storedCount(db)) > before || undefined;
          },
          { timeoutMs: 20_000, intervalMs: 50 },
        );
        const seen = Date.now();
        const mode = n % 2 === 1 ? 'anytime' : 'mid-write';
        await sleep(killRandom.int(300, 1500));
        let storedAtKill = await storedCount(db);
        if (mode === 'mid-write') {
          const from = storedAtKill;
          const deadline = Date.now() + 5000;
          while (storedAtKill === from && Date.now() < deadline) {
            await sleep(10);
            storedAtKill = await storedCount(db);
          }
        }
        const sentAtKill = generator.count;
        const exit = await writer.kill();
        const delayMs = Date.now() - seen;
        kills.push({ n, mode, delayMs, storedAtKill, sentAtKill, loadRunning: loading, exit });
        writer = launch();
      }
    } finally {
      abort = kills.length < KILLS; // the kill loop failed: stop the load too
      await load;
    }
    const loadMs = Date.now() - loadStarted;

    // Nothing is sent any more: the last child must store the rest, including everything the
    // killed ones held (redelivered after ack_wait).
    const drainStarted = Date.now();
    const info = await consumerDrained(nats, CONSUMER, 45_000);
    const drainMs = Date.now() - drainStarted;

    expect(ledger.failures()).toEqual([]);
    const expected = ledger.expected();
    expect(expected.sales).toBeGreaterThanOrEqual(SALES);
    const stored = await storedState(db);
    console.info(
      `writer-crash: ${expected.sales} sales sent in ${loadMs} ms, drained ${drainMs} ms later; ` +
        `kills at stored/sent ${kills.map((k) => `${k.storedAtKill}/${k.sentAtKill}`).join(', ')}; ` +
        `deliveries ${info.delivered.consumer_seq} for ${info.delivered.stream_seq} messages`,
    );
    expect(stored).toEqual(exactlyOnce(expected));
    expect(await storedCount(db, 'dead_letters')).toBe(0);

    // The kills were real: each hit a child while the load ran, some while sales were still
    // unstored (the writer keeps up with this load, so it is not behind at every kill), the
    // stored count moved between them, and the killed children left deliveries unacked that
    // JetStream delivered again.
    expect(kills).toHaveLength(KILLS);
    for (const kill of kills) {
      expect(kill.exit).toEqual({ code: null, signal: 'SIGKILL', expected: true });
      expect(kill.loadRunning).toBe(true);
      expect(kill.storedAtKill).toBeGreaterThan(0);
      expect(kill.storedAtKill).toBeLessThanOrEqual(kill.sentAtKill);
    }
    expect(kills.filter((k) => k.storedAtKill < k.sentAtKill).length).toBeGreaterThan(0);
    for (let i = 1; i < kills.length; i++) {
      expect(kills[i]!.storedAtKill).toBeGreaterThan(kills[i - 1]!.storedAtKill);
    }
    expect(info.delivered.consumer_seq).toBeGreaterThan(info.delivered.stream_seq);
    // No child died on its own, and the last one is still working.
    const last = children[children.length - 1]!;
    expect(last.running).toBe(true);
    expect(children.slice(0, -1).every((c) => !c.running)).toBe(true);
  });
});
