import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '@tally/common';
import { NatsFixture, TEST_NATS_URL } from '@tally/testing';
import { round } from '../common/bench-math.js';
import type { Cleanup, Line } from '../common/bench-output.js';
import { ChildService } from '../ingest/child-service.js';
import { machineCpuSeconds, processCpuSeconds } from '../ingest/cpu.js';
import type { BenchOptions } from './options.js';
import {
  difference,
  type Histogram,
  perBucket,
  quantile,
  readCounter,
  readHistogram,
} from './prom-histogram.js';
import { SaleGenerator } from './sale-generator.js';
import { runSteadyLoad, type SteadyLoadResult } from './steady-load.js';

const INGEST_MAIN = fileURLToPath(new URL('../../apps/ingest/src/main.js', import.meta.url));
const AGGREGATOR_MAIN = fileURLToPath(new URL('../../apps/aggregator/src/main.js', import.meta.url));
const API_KEY = 'bench-key';
const FRESHNESS = 'tally_aggregator_freshness_seconds';
const SALES = 'tally_aggregator_sales_total';
const CHECKPOINT = 'tally_aggregator_checkpoint_seconds';
const GC = 'nodejs_gc_duration_seconds_sum';
const BATCH = 'tally_aggregator_batch_messages';
/** From the issue: freshness p99 at 5,000 sales/s. */
export const FRESHNESS_GOAL_P99_MS = 100;
/** Longest wait for the aggregator to fold what ingest accepted. */
const DRAIN_TIMEOUT_MS = 120_000;

/**
 * The freshness case: an isolated stream (the real definitions, the aggregator's consumer
 * included), ingest and the aggregator each in a child process of its own, and an open-loop
 * sender in this process posting `rate` sales/s to /v1/sales/batch. Freshness is the
 * aggregator's own histogram (receivedAt stamped by ingest → the sale counted), read from its
 * /metrics before and after the measured window, each time once it has folded every sale
 * accepted so far, so the difference holds exactly the measured window's sales.
 */
export async function runFreshnessCase(
  options: BenchOptions,
  cleanup: Cleanup,
  log: (m: string) => void,
): Promise<Line> {
  const fixture = await NatsFixture.create();
  const dispose = cleanup.add(`stream ${fixture.names.stream}`, () => fixture.dispose());
  const common = {
    ...process.env,
    NATS_URL: TEST_NATS_URL,
    TALLY_STREAM: fixture.names.stream,
    TALLY_SUBJECT_PREFIX: fixture.names.subjectPrefix,
    TALLY_AUTH: 'enabled',
    TALLY_API_KEYS: `${API_KEY}=*`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const ingestPort = await freeLoopbackPort();
  const ingestUrl = `http://127.0.0.1:${ingestPort}`;
  log(`freshness: starting ingest on ${ingestUrl}, stream ${fixture.names.stream}`);
  const ingest = await ChildService.start(
    'ingest',
    INGEST_MAIN,
    { ...common, INGEST_HOST: '127.0.0.1', INGEST_PORT: String(ingestPort) },
    `${ingestUrl}/health/ready`,
  );
  const stopIngest = cleanup.add('ingest', () => ingest.stop());
  // The aggregator runs as deployed, flushing to ClickHouse (embedded chdb unless CLICKHOUSE_URL
  // or AGGREGATOR_CLICKHOUSE=off say otherwise), into a folder of its own removed at the end.
  const chdbPath = await mkdtemp(join(tmpdir(), 'bench-aggregator-chdb-'));
  cleanup.add(`folder ${chdbPath}`, () => rm(chdbPath, { recursive: true, force: true }));
  const aggregatorPort = await freeLoopbackPort();
  const aggregatorUrl = `http://127.0.0.1:${aggregatorPort}`;
  log(`freshness: starting the aggregator on ${aggregatorUrl}`);
  const aggregator = await ChildService.start(
    'aggregator',
    AGGREGATOR_MAIN,
    {
      ...common,
      AGGREGATOR_HOST: '127.0.0.1',
      AGGREGATOR_PORT: String(aggregatorPort),
      AGGREGATOR_INSTANCE_ID: `bench-${fixture.names.subjectPrefix}`,
      CLICKHOUSE_DATA_PATH: process.env.CLICKHOUSE_DATA_PATH ?? chdbPath,
    },
    `${aggregatorUrl}/health/ready`,
  );
  const stopAggregator = cleanup.add('aggregator', () => aggregator.stop());
  const aggregatorEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => /^(AGGREGATOR|INGEST|CLICKHOUSE)_/.test(k) && k !== 'CLICKHOUSE_PASSWORD',
    ),
  );

  const generator = new SaleGenerator(options.seed);
  const body = (n: number) => {
    const now = Date.now();
    const sales: string[] = new Array(n);
    for (let i = 0; i < n; i++) sales[i] = JSON.stringify(generator.input(now - 500));
    return `[${sales.join(',')}]`;
  };
  const load = {
    url: ingestUrl,
    headers: { authorization: `Bearer ${API_KEY}` },
    rate: options.rate,
    batchSize: options.batchSize,
    body,
  };
  let stop = false;
  cleanup.stopLoad = () => {
    stop = true;
  };
  let acceptedSoFar = 0;
  if (options.warmupS > 0) {
    log(`freshness: warming up for ${options.warmupS} s at ${options.rate} sales/s`);
    const warm = await runSteadyLoad({ ...load, durationS: options.warmupS }, () => stop);
    acceptedSoFar += warm.accepted;
  }
  const beforeDrain = await drained(aggregatorUrl, acceptedSoFar);
  const before = readHistogram(beforeDrain.text, FRESHNESS);

  log(
    `freshness: ${options.durationS} s at ${options.rate} sales/s, ${options.batchSize} sales per request ` +
      `(a request every ${round((options.batchSize / options.rate) * 1000, 2)} ms)`,
  );
  const cpu = cpuWindow([ingest.pid, aggregator.pid]);
  const reader = options.readEveryMs > 0 ? startReader(aggregatorUrl, options.readEveryMs) : undefined;
  const r = await runSteadyLoad({ ...load, durationS: options.durationS }, () => stop);
  const reads = await reader?.stop();
  const [ingestCpu = null, aggregatorCpu = null, benchCpu = null, machineCpu = null] = cpu(r.durationS);
  cleanup.stopLoad = undefined;
  acceptedSoFar += r.accepted;
  const sentDone = performance.now();
  const afterDrain = await drained(aggregatorUrl, acceptedSoFar);
  const drainS = (performance.now() - sentDone) / 1000;
  const diff = difference(readHistogram(afterDrain.text, FRESHNESS), before);
  const delta = (name: string) => readCounter(afterDrain.text, name) - readCounter(beforeDrain.text, name);
  const checkpoints = delta(`${CHECKPOINT}_count`);
  const aggregatorFacts = {
    checkpoints,
    checkpoint_mean_s: checkpoints === 0 ? null : round(delta(`${CHECKPOINT}_sum`) / checkpoints, 3),
    checkpoint_bytes: readCounter(afterDrain.text, 'tally_aggregator_checkpoint_bytes'),
    state_keys: readCounter(afterDrain.text, 'tally_aggregator_state_keys'),
    gc_s: round(delta(GC), 2),
    // Pulls from the durable consumer in the window, and messages per pull.
    batches: delta(`${BATCH}_count`),
    messages_per_batch: round(delta(`${BATCH}_sum`) / Math.max(1, delta(`${BATCH}_count`)), 1),
  };
  await stopAggregator();
  await stopIngest();
  await dispose();

  return freshnessLine(options, r, diff, aggregatorFacts, {
    reads,
    drained: afterDrain.ok,
    drainS,
    ingestCpu,
    aggregatorCpu,
    benchCpu,
    machineCpu,
    env: aggregatorEnv,
  });
}

function freshnessLine(
  options: BenchOptions,
  r: SteadyLoadResult,
  h: Histogram,
  aggregator: Record<string, number | null>,
  extra: {
    reads: ReaderFigures | undefined;
    drained: boolean;
    drainS: number;
    ingestCpu: number | null;
    aggregatorCpu: number | null;
    benchCpu: number | null;
    machineCpu: number | null;
    env: Record<string, string | undefined>;
  },
): Line {
  const p50 = quantile(h, 0.5);
  const p99 = quantile(h, 0.99);
  const ms = (q: typeof p50) => (q.seconds === null ? null : round(q.seconds * 1000, 1));
  const sentRate = r.salesSent / r.durationS;
  const acceptedRate = r.accepted / r.durationS;
  const sustained =
    r.skipped === 0 &&
    r.non202 === 0 &&
    r.errors === 0 &&
    r.accepted === r.salesSent &&
    acceptedRate >= 0.98 * options.rate &&
    extra.drained;
  return {
    case: 'freshness',
    target_sales_per_s: options.rate,
    sent_sales_per_s: Math.round(sentRate),
    accepted_sales_per_s: Math.round(acceptedRate),
    sustained,
    duration_s: round(r.durationS, 2),
    batch_size: options.batchSize,
    requests: r.requests,
    accepted_sales: r.accepted,
    non_202: r.non202,
    errors: r.errors,
    skipped_requests: r.skipped,
    sender_max_behind_ms: r.maxBehindMs,
    request_p50_ms: r.p50Ms,
    request_p99_ms: r.p99Ms,
    ...(r.samples.length > 0 && { first_problem: r.samples[0] }),
    observed_sales: h.count,
    freshness_p50_ms: ms(p50),
    freshness_p99_ms: ms(p99),
    ...((p50.aboveLastBound || p99.aboveLastBound) && { freshness_above_last_bucket: true }),
    freshness_mean_ms: h.count === 0 ? null : round((h.sum / h.count) * 1000, 1),
    freshness_buckets: perBucket(h),
    interpolation:
      'linear within the histogram bucket holding the quantile (as histogram_quantile); exact only at bucket bounds',
    drained_after_s: round(extra.drainS, 2),
    ...(extra.reads !== undefined && { reader: extra.reads }),
    aggregator,
    ingest_cpu_pct: extra.ingestCpu,
    aggregator_cpu_pct: extra.aggregatorCpu,
    bench_cpu_pct: extra.benchCpu,
    machine_cpu_pct: extra.machineCpu,
    // NATS and whatever else ran on the box meanwhile.
    others_cpu_pct:
      extra.machineCpu === null ||
      extra.ingestCpu === null ||
      extra.aggregatorCpu === null ||
      extra.benchCpu === null
        ? null
        : extra.machineCpu - extra.ingestCpu - extra.aggregatorCpu - extra.benchCpu,
    aggregator_clickhouse:
      process.env.AGGREGATOR_CLICKHOUSE === 'off'
        ? 'off'
        : process.env.CLICKHOUSE_URL
          ? 'server (CLICKHOUSE_URL)'
          : 'embedded chdb, a temporary folder',
    ...(Object.keys(extra.env).length > 0 && { service_env: extra.env }),
    goal_p99_ms: FRESHNESS_GOAL_P99_MS,
    meets_goal:
      sustained && p99.seconds !== null && !p99.aboveLastBound && p99.seconds * 1000 <= FRESHNESS_GOAL_P99_MS,
  };
}

interface ReaderFigures {
  readonly every_ms: number;
  readonly what: string;
  readonly reads: number;
  readonly failed: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly max_ms: number | null;
}

/**
 * A dashboard: GET /v1/analytics/summary?window=1h every `everyMs` (the next one once the last
 * replied and the interval is over), each reply's latency kept.
 */
function startReader(url: string, everyMs: number): { stop(): Promise<ReaderFigures> } {
  const latencies: number[] = [];
  let failed = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const reply = await fetch(`${url}/v1/analytics/summary?window=1h`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        });
        await reply.arrayBuffer();
        if (reply.ok) latencies.push(performance.now() - started);
        else failed++;
      } catch {
        failed++;
      }
      const wait = everyMs - (performance.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q: number) =>
        sorted.length === 0
          ? null
          : round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!, 1);
      return {
        every_ms: everyMs,
        what: 'GET /v1/analytics/summary?window=1h, reply latency',
        reads: latencies.length,
        failed,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: sorted.length === 0 ? null : round(sorted.at(-1)!, 1),
      };
    },
  };
}

/** Polls /metrics until the aggregator has folded `accepted` sales (live + late); its last body. */
async function drained(url: string, accepted: number): Promise<{ text: string; ok: boolean }> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const folded = readCounter(text, SALES);
    if (folded >= accepted) return { text, ok: true };
    if (Date.now() > deadline) return { text, ok: false };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** CPU in % of one core over a window, per process and for the machine; null where unreadable. */
function cpuWindow(pids: readonly (number | undefined)[]): (seconds: number) => (number | null)[] {
  const before = pids.map((pid) => processCpuSeconds(pid));
  const bench = process.cpuUsage();
  const machine = machineCpuSeconds();
  return (seconds) => {
    const pct = (from: number | null, to: number | null) =>
      from === null || to === null ? null : Math.round(((to - from) / seconds) * 100);
    const used = process.cpuUsage(bench);
    return [
      ...pids.map((pid, i) => pct(before[i]!, processCpuSeconds(pid))),
      Math.round(((used.user + used.system) / 1e6 / seconds) * 100),
      pct(machine, machineCpuSeconds()),
    ];
  };
}
