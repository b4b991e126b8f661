import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { freeLoopbackPort } from '@tally/common';
import { NatsFixture, TEST_NATS_URL, waitFor } from '@tally/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AGG_KEY_ALL,
  aggregatorEnv,
  getJson,
  type RunningAggregator,
  startAggregator,
} from '../../apps/aggregator/test/aggregator-app.fixture.js';
import { startIngest } from '../../apps/ingest/test/ingest-app.fixture.js';
import { BRANCHES, IngestLedger, Random, runLoad, SaleGenerator, sleep } from './load.js';
import { AGGREGATOR_MAIN, buildDist, type ChildExit, ChildOutput, WriterProcess } from './writer-process.js';

const SALES = 12_000;
const KILLS = 5;
/** A copy of the aggregator consumer with a short ack_wait: what a killed child held is redelivered (and must be skipped) within the test. */
const CONSUMER = 'aggregator-crash';
const WINDOWS = ['1m', '5m', '15m', '1h', '24h', 'all'] as const;

let nats: NatsFixture;
let ingest: NestFastifyApplication | undefined;
let reference: RunningAggregator | undefined;
let children: WriterProcess[] = [];

beforeAll(async () => {
  await buildDist();
}, 120_000);

beforeEach(async () => {
  nats = await NatsFixture.create();
});

afterEach(async () => {
  await Promise.allSettled([ingest?.close(), reference?.app.close(), ...children.map((c) => c.stop())]);
  ingest = undefined;
  reference = undefined;
  children = [];
  await nats.dispose();
});

interface Kill {
  readonly n: number;
  readonly mode: 'serving' | 'recovering';
  readonly appliedAtKill: number;
  readonly loadRunning: boolean;
  readonly exit: ChildExit;
}

describe('the aggregator process killed with SIGKILL under load', () => {
  it('SIGKILL while serving and while recovering, several times during a load, ends with the same figures as an aggregator that never crashed', {
    timeout: 120_000,
  }, async ({ onTestFailed }) => {
    const seed = Random.seedFromEnv();
    console.info(`aggregator-crash: seed ${seed} (rerun with E2E_SEED=${seed})`);
    const salesRandom = new Random(seed);
    const killRandom = new Random(seed ^ 0x2545f491);
    const output = new ChildOutput();
    const kills: Kill[] = [];
    onTestFailed(() => {
      console.error(`aggregator-crash failed (seed ${seed}); kills: ${JSON.stringify(kills, null, 1)}`);
      console.error(`aggregator output:\n${output.text || '(none)'}`);
    });

    ingest = (await startIngest(nats.names)).app;
    const ingestUrl = await ingest.getUrl();
    await nats.copyConsumer('aggregator', 'aggregator-ref');
    await nats.copyConsumer('aggregator', CONSUMER, { ackWaitMs: 2000 });
    // Sales of the last 24 h all enter the windows (the generator spreads occurredAt over a day).
    const lateness = { AGGREGATOR_ALLOWED_LATENESS: '24h' };
    reference = await startAggregator(nats.names, {
      ...lateness,
      AGGREGATOR_CONSUMER: 'aggregator-ref',
      AGGREGATOR_CHECKPOINT_BUCKET: `${nats.names.stream}_ref`,
      AGGREGATOR_INSTANCE_ID: 'reference',
    });
    const port = await freeLoopbackPort();
    const childUrl = `http://127.0.0.1:${port}`;
    const env = {
      NATS_URL: TEST_NATS_URL,
      ...aggregatorEnv(nats.names, {
        ...lateness,
        AGGREGATOR_CONSUMER: CONSUMER,
        AGGREGATOR_PORT: String(port),
        AGGREGATOR_CHECKPOINT_INTERVAL: '1s',
        AGGREGATOR_INSTANCE_ID: 'crash-child',
        LOG_LEVEL: 'warn',
      }),
    };
    const launch = () => {
      const child = WriterProcess.start(`aggregator#${children.length + 1}`, env, output, AGGREGATOR_MAIN);
      children.push(child);
      return child;
    };
    const applied = async (url: string): Promise<number> =>
      (await getJson(`${url}/v1/analytics/summary?window=1m`)).body.appliedThrough ?? -1;

    const generator = new SaleGenerator(salesRandom, `aggcrash-${seed}`);
    const ledger = new IngestLedger(ingestUrl);
    let abort = false;
    let loading = true;
    const load = runLoad(generator, ledger, salesRandom, {
      batchSize: [50, 250],
      singleShare: 0.05,
      concurrency: 2,
      pauseMs: 150,
      more: () => !abort && (generator.count < SALES || kills.length < KILLS),
    }).finally(() => {
      loading = false;
    });

    try {
      let child = launch();
      for (let n = 1; n <= KILLS; n++) {
        const mode = n % 3 === 2 ? 'recovering' : 'serving';
        let appliedAtKill = -1;
        if (mode === 'serving') {
          // Serving and folding: its applied sequence moves. Then kill it at a random moment.
          const before = await applied(childUrl).catch(() => -1);
          await waitFor(
            `${child.tag} folding`,
            async () => {
              if (!child.running) throw new Error(`${child.tag} exited on its own`);
              return (await applied(childUrl)) > before || undefined;
            },
            { timeoutMs: 30_000, intervalMs: 50 },
          );
          await sleep(killRandom.int(200, 2500));
          appliedAtKill = await applied(childUrl).catch(() => -1);
        } else {
          // Mid-recovery: restoring the snapshot or replaying the stream after it.
          await sleep(killRandom.int(50, 600));
        }
        const exit = await child.kill();
        kills.push({ n, mode, appliedAtKill, loadRunning: loading, exit });
        child = launch();
      }
    } finally {
      abort = kills.length < KILLS;
      await load;
    }
    expect(ledger.failures()).toEqual([]);

    // Load over: both aggregators fold up to the stream's last message.
    const { last_seq: lastSeq } = (await nats.jsm.streams.info(nats.names.stream)).state;
    await waitFor(
      'both aggregators at the stream head',
      async () => {
        return (
          ((await applied(childUrl).catch(() => -1)) === lastSeq &&
            (await applied(reference!.url)) === lastSeq) ||
          undefined
        );
      },
      { timeoutMs: 30_000 },
    );
    // Give the redeliveries of what the killed children held (ack_wait 2 s) time to arrive and be skipped.
    await sleep(3000);

    for (const branchId of [undefined, ...BRANCHES]) {
      for (const window of WINDOWS) {
        const [crashed, uninterrupted] = await sameInstant(childUrl, reference.url, window, branchId);
        expect(crashed, `${window} ${branchId ?? 'all branches'}`).toEqual(uninterrupted);
      }
    }
    // And the all-time figures are what ingest accepted, independently computed.
    const expected = ledger.expected();
    const all = (await getJson(`${childUrl}/v1/analytics/summary?window=all`)).body;
    expect(all.sales + all.returns).toBe(expected.sales);
    expect(all.returns).toBe(expected.returns);
    expect(all.netRevenue).toBe(expected.netTotal);

    // The kills were real: SIGKILL, while the load ran, some of them after the child had folded sales.
    expect(kills).toHaveLength(KILLS);
    for (const kill of kills) {
      expect(kill.exit).toEqual({ code: null, signal: 'SIGKILL', expected: true });
      expect(kill.loadRunning).toBe(true);
    }
    expect(kills.filter((k) => k.mode === 'serving' && k.appliedAtKill > 0).length).toBeGreaterThanOrEqual(2);
    const metrics = await (await fetch(`${childUrl}/metrics`)).text();
    // Its checkpoints were incremental: the last one referred to aggregates stored by earlier ones.
    const referred = Number(
      metrics.match(/^tally_aggregator_checkpoint_aggregates\{part="referred"\} (\d+)/m)?.[1] ?? 0,
    );
    expect(referred).toBeGreaterThan(0);
    console.info(
      `aggregator-crash: ${expected.sales} sales, ${lastSeq} messages; kills at applied seq ${kills.map((k) => `${k.mode}:${k.appliedAtKill}`).join(', ')}; ` +
        `last child: ${metrics.match(/^tally_aggregator_messages_total\{outcome="skipped"\} \d+/m)?.[0] ?? 'no skips'}, ` +
        `recovery ${metrics.match(/^tally_aggregator_recovery_seconds \S+/m)?.[0]}`,
    );
  });
});

/** Both summaries of one window, read until both were taken with the window at the same buckets. */
// biome-ignore lint/suspicious/noExplicitAny: compared as JSON
async function sameInstant(a: string, b: string, window: string, branchId?: string): Promise<[any, any]> {
  const path = `/v1/analytics/summary?window=${window}${branchId ? `&branchId=${branchId}` : ''}`;
  for (let attempt = 0; ; attempt++) {
    const [x, y] = await Promise.all([
      getJson(`${a}${path}`, AGG_KEY_ALL),
      getJson(`${b}${path}`, AGG_KEY_ALL),
    ]);
    const { asOf: _a, ...left } = x.body;
    const { asOf: _b, ...right } = y.body;
    if (left.from === right.from || attempt >= 5) return [left, right];
  }
}
