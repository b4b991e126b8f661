import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '@tally/common';
import type { StoredSummary, StoreTimeline } from './bench-database.js';
import { type CpuSeconds, cpuWindow } from './cpu-window.js';
import { NATS_URL, type SalesStream } from './sales-stream.js';

const WRITER_MAIN = fileURLToPath(new URL('../../apps/writer/src/main.js', import.meta.url));
const POLL_MS = 50;
/** Give up when the writer acks nothing for this long (it is not draining, however slowly). */
const STALL_MS = 60_000;

/**
 * The store a writer drains into: how to point the writer at it, and what it holds. BenchDatabase
 * (Postgres) is one; the Spanner benchmark has its own.
 */
export interface DrainTarget<T extends StoreTimeline = StoreTimeline> {
  /** The writer's sink settings for this store (WRITER_SINKS, its consumer, where it is). */
  writerEnv(): NodeJS.ProcessEnv;
  /** The sink's durable consumer, watched for the drain's end. */
  readonly consumer: string;
  /** Store processes whose CPU is counted (see cpuWindow); default every `postgres` process. */
  readonly cpuProcesses?: Readonly<Record<string, string>>;
  /** Sales stored so far. */
  storedSales(): Promise<number>;
  timeline(): Promise<T>;
  summary(): Promise<StoredSummary>;
}

export interface WriterDrainRun<T extends StoreTimeline = StoreTimeline> {
  /** Wall-clock ms since the epoch (the store stamps its rows on the same clock). */
  readonly spawnedAtMs: number;
  /** Spawn → GET /health/ready answered 200. */
  readonly readySeconds: number;
  /** Spawn → the poll that saw the consumer with nothing pending or unacked and every sale stored. */
  readonly totalSeconds: number;
  readonly drainedAtMs: number;
  readonly timeline: T;
  readonly stored: StoredSummary;
  readonly deadLetters: number;
  readonly cpu: CpuSeconds;
  /** The writer's GET /metrics (Prometheus text) once drained, with `scrapeMetrics`. */
  readonly metrics?: string;
}

export interface WriterDrainOptions {
  readonly sales: number;
  readonly batch: number;
  /** Extra node flags for the writer process (e.g. --cpu-prof). */
  readonly nodeArgs: readonly string[];
  /** Called with a function that kills the writer, for clean-up on error and Ctrl-C. */
  readonly onSpawn: (kill: () => Promise<void>) => void;
  /** Progress every 10 s, for stderr. */
  readonly onProgress?: (message: string) => void;
  /** The writer's main script; default the build's dist/apps/writer/src/main.js. */
  readonly writerMain?: string | undefined;
  /** Read the writer's /metrics once drained, before stopping it (after the clock stops). */
  readonly scrapeMetrics?: boolean;
}

/**
 * The real writer (`dist/apps/writer/src/main.js`) in a process of its own, as in production,
 * consuming the preloaded stream into the target (database B). The clock starts at spawn; every
 * 50 ms the target's consumer is read, and once it has nothing pending and nothing awaiting an
 * ack, the stored sales are counted; the run ends at the poll that sees all sales stored. The
 * writer is then stopped (SIGTERM, as a deployment would).
 */
export async function runWriterDrain<T extends StoreTimeline>(
  stream: SalesStream,
  db: DrainTarget<T>,
  options: WriterDrainOptions,
): Promise<WriterDrainRun<T>> {
  const port = await freeLoopbackPort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL,
    TALLY_STREAM: stream.names.stream,
    TALLY_SUBJECT_PREFIX: stream.names.subjectPrefix,
    ...db.writerEnv(),
    WRITER_HOST: '127.0.0.1',
    WRITER_PORT: String(port),
    WRITER_BATCH_MAX_SALES: String(options.batch),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const spawnedAtMs = Date.now();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...options.nodeArgs, '--enable-source-maps', options.writerMain ?? WRITER_MAIN],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // stdout stays the benchmark's: the writer's logs go to stderr.
  child.stdout!.pipe(process.stderr, { end: false });
  child.stderr!.pipe(process.stderr, { end: false });
  const cpu = cpuWindow(child.pid, db.cpuProcesses);
  options.onSpawn(() => stop(child));

  try {
    let readySeconds: number | undefined;
    const readiness = (async () => {
      const readyBy = started + 60_000;
      while (readySeconds === undefined && !exited(child) && performance.now() < readyBy) {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/health/ready`, {
            signal: AbortSignal.timeout(1_000),
          });
          await response.arrayBuffer();
          if (response.status === 200) readySeconds = (performance.now() - started) / 1000;
        } catch {
          // Not listening yet.
        }
        if (readySeconds === undefined) await sleep(10);
      }
    })();

    let totalSeconds: number | undefined;
    let drainedAtMs = 0;
    let ackFloor = -1;
    let progressAt = performance.now();
    let reportedAt = performance.now();
    while (totalSeconds === undefined) {
      if (exited(child)) {
        throw new Error(`the writer exited while draining (code ${child.exitCode}, ${child.signalCode})`);
      }
      const info = await stream.consumerInfo(db.consumer);
      const now = performance.now();
      if (info.ack_floor.stream_seq !== ackFloor) {
        ackFloor = info.ack_floor.stream_seq;
        progressAt = now;
      } else if (now - progressAt > STALL_MS) {
        throw new Error(
          `the writer acked nothing for ${STALL_MS / 1000} s (ack floor ${ackFloor}, ` +
            `pending ${info.num_pending}, ack pending ${info.num_ack_pending})`,
        );
      }
      if (now - reportedAt > 10_000) {
        reportedAt = now;
        options.onProgress?.(
          `${Math.round((now - started) / 1000)} s: ${info.num_pending} messages pending, ` +
            `${info.num_ack_pending} awaiting an ack, ack floor ${ackFloor}`,
        );
      }
      if (info.num_pending === 0 && info.num_ack_pending === 0) {
        if ((await db.storedSales()) >= options.sales) {
          totalSeconds = (performance.now() - started) / 1000;
          drainedAtMs = Date.now();
          break;
        }
      }
      await sleep(POLL_MS);
    }
    const used = cpu();
    await readiness;
    const metrics = options.scrapeMetrics ? await scrape(port) : undefined;
    return {
      spawnedAtMs,
      readySeconds: readySeconds ?? Number.NaN,
      totalSeconds,
      drainedAtMs,
      timeline: await db.timeline(),
      stored: await db.summary(),
      deadLetters: await stream.deadLetters(),
      cpu: used,
      ...(metrics !== undefined && { metrics }),
    };
  } finally {
    await stop(child);
  }
}

async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return response.text();
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM (the writer finishes its batch, acks, closes), then SIGKILL after 10 s. Idempotent. */
async function stop(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    await exit;
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
