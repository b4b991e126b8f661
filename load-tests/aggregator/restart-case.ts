import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { encodeEnvelope, type Sale, type StreamNames, salesSubject, salesSubjects } from '@tally/contracts';
import { salesMessageHeaders } from '@tally/nats';
import { NatsFixture, TEST_NATS_URL } from '@tally/testing';
import { pino } from 'pino';
import { CheckpointRepository } from '../../apps/aggregator/src/checkpoint/checkpoint.repository.js';
import { AggregatorMetrics } from '../../apps/aggregator/src/metrics/aggregator.metrics.js';
import { landSettled, SalesFolder } from '../../apps/aggregator/src/pipeline/sales-folder.js';
import { replayStream } from '../../apps/aggregator/src/pipeline/stream-replay.js';
import { contributionOf } from '../../apps/aggregator/src/windows/sale-contribution.js';
import {
  DEFAULT_MAX_GARBAGE,
  decodeSnapshot,
  encodeSnapshot,
  type SnapshotBytes,
  SnapshotLedger,
  type SnapshotObjects,
  SnapshotWriter,
} from '../../apps/aggregator/src/windows/snapshot.codec.js';
import { layoutFingerprint, type WindowLayout } from '../../apps/aggregator/src/windows/window-spec.js';
import type { WindowState } from '../../apps/aggregator/src/windows/window-state.js';
import { round } from '../common/bench-math.js';
import type { Cleanup, Line } from '../common/bench-output.js';
import { defaultLayout } from './app-layout.js';
import { runChild } from './child-run.js';
import { buildDayState } from './day-state.js';
import { forceGc, mib } from './gc-time.js';
import type { BenchOptions } from './options.js';
import { SaleGenerator } from './sale-generator.js';

/** From the issue: restart time with a 24 h window at 1,000 sales/s. */
export const RESTART_GOAL_S = 10;
const CONSUMER = 'aggregator';
const IN_FLIGHT = 256;

/**
 * The restart case. The state is built and measured in a child process (its own heap, sized by
 * --restart-heap-mb) against an isolated stream made here; the stream, and the checkpoint
 * bucket's KV and object-store streams (named after it), are deleted at the end.
 */
export async function runRestartCase(
  options: BenchOptions,
  argv: readonly string[],
  cleanup: Cleanup,
  log: (m: string) => void,
): Promise<Line[]> {
  const fixture = await NatsFixture.create();
  const dispose = cleanup.add(`stream ${fixture.names.stream}`, () => fixture.dispose());
  log(
    `restart: child process with --max-old-space-size=${options.restartHeapMb}, stream ${fixture.names.stream}`,
  );
  const run = await runChild(
    'restart',
    argv,
    [`--max-old-space-size=${options.restartHeapMb}`, '--expose-gc'],
    {
      ...process.env,
      NATS_URL: TEST_NATS_URL,
      BENCH_STREAM: fixture.names.stream,
      BENCH_SUBJECT_PREFIX: fixture.names.subjectPrefix,
    },
    cleanup,
  );
  await dispose();
  if (run.lines.length === 0 || run.exitCode !== 0) {
    return [
      {
        case: 'restart',
        error: `the restart child ended with code ${run.exitCode}, signal ${run.signal}, after ${round(run.seconds, 1)} s (see stderr)`,
        ...(run.lines.length > 0 && { partial: run.lines }),
      },
    ];
  }
  return run.lines.map((line) => ({ ...line, child_wall_s: round(run.seconds, 1) }));
}

/** The restart case's measuring part (child process). */
export async function restartChild(options: BenchOptions, log: (m: string) => void): Promise<Line> {
  const names: StreamNames = {
    stream: process.env.BENCH_STREAM ?? '',
    subjectPrefix: process.env.BENCH_SUBJECT_PREFIX ?? '',
  };
  if (names.stream === '') throw new Error('the restart child needs BENCH_STREAM and BENCH_SUBJECT_PREFIX');
  const layout = defaultLayout();
  const rate = options.restartRate;
  log(`restart: building a 24 h state at ${rate} sales/s (${options.restartDetailMin} min in detail)`);
  const built = buildDayState(layout, rate, options.restartDetailMin, options.seed, log);
  let state: WindowState | undefined = built.state;
  forceGc();
  const builtMemory = process.memoryUsage();
  const keyCount = state.keyCount;
  const line: Line = {
    case: 'restart',
    rate_sales_per_s: rate,
    build: built.build,
    key_count: keyCount,
    heap_used_mib: mib(builtMemory.heapUsed),
    rss_mib: mib(builtMemory.rss),
    heap_limit_mib: options.restartHeapMb,
  };
  log(`restart: ${keyCount} keys, heap ${line.heap_used_mib} MiB, rss ${line.rss_mib} MiB`);

  // Checkpoint side: what AggregatorService.checkpoint() does (SnapshotWriter with the
  // process's ledger), then the store: a first, full checkpoint; then one checkpoint interval of
  // sales and the next checkpoint, which writes only what changed.
  const ledger = new SnapshotLedger(DEFAULT_MAX_GARBAGE);
  let t = performance.now();
  let first: SnapshotWriter | undefined;
  let objects: SnapshotObjects | undefined;
  try {
    first = SnapshotWriter.begin(state, ledger);
    first.step(Number.POSITIVE_INFINITY);
    first.release();
    objects = first.objects();
  } catch (error) {
    line.serialize_error = `${(error as Error).name}: ${(error as Error).message}`;
  }
  line.encode_snapshot_s = round((performance.now() - t) / 1000, 3);
  log(
    `restart: full snapshot encoded in ${line.encode_snapshot_s} s${objects === undefined ? ' (failed)' : ''}`,
  );

  const nc = await connect({ servers: process.env.NATS_URL ?? TEST_NATS_URL });
  const bucket = `${names.stream}_bench`;
  try {
    const js = jetstream(nc);
    let folder: SalesFolder;
    const metrics = new AggregatorMetrics();
    const logger = pino({ level: 'silent' });
    if (objects !== undefined && first !== undefined) {
      const size = rawSize(objects);
      line.snapshot_bytes = size;
      line.snapshot_mib = mib(size);
      const repository = await CheckpointRepository.open(nc, bucket);
      const pointer = (seq: number) => ({
        seq,
        layout: layoutFingerprint(layout),
        takenAt: new Date().toISOString(),
        instanceId: 'bench',
      });
      t = performance.now();
      const saved = await repository.save(CONSUMER, 0, pointer(0), objects);
      first.commit(saved.pointer.object);
      line.store_s = round((performance.now() - t) / 1000, 3);
      line.stored_mib = mib(saved.pointer.bytes);
      log(`restart: ${line.snapshot_mib} MiB stored as ${line.stored_mib} MiB (zstd) in ${line.store_s} s`);
      objects = undefined;
      first = undefined;

      // One checkpoint interval later: what the next checkpoint writes.
      const interval = intervalSales(options, built.nowMs, options.seed + 2);
      for (const sale of interval) {
        state.advance(Date.parse(sale.receivedAt));
        state.apply(contributionOf(sale));
        landSettled(state);
      }
      t = performance.now();
      const next = SnapshotWriter.begin(state, ledger);
      next.step(Number.POSITIVE_INFINITY);
      next.release();
      const nextObjects = next.objects();
      line.incremental_encode_s = round((performance.now() - t) / 1000, 3);
      const written = rawSize(nextObjects);
      line.incremental_sales = interval.length;
      line.incremental_bytes = written;
      line.incremental_mib = mib(written);
      line.incremental_share = round(written / size, 4);
      line.incremental_aggregates = { written: next.encoding, referred: next.referring };
      t = performance.now();
      const second = await repository.save(CONSUMER, saved.revision, pointer(1), nextObjects);
      next.commit(second.pointer.object);
      line.incremental_store_s = round((performance.now() - t) / 1000, 3);
      line.incremental_stored_mib = mib(second.pointer.bytes);
      line.stored_objects = 1 + second.pointer.references.length;
      log(
        `restart: the next checkpoint (${interval.length} sales later) wrote ${line.incremental_mib} MiB, ${line.incremental_stored_mib} MiB compressed ` +
          `(${round((written / size) * 100, 2)} % of the full one) in ${line.incremental_encode_s} s + ${line.incremental_store_s} s`,
      );

      // What a restarted instance does (AggregatorService.restore): load, decodeSnapshot. The
      // built state goes first (the encoded objects already went).
      state = undefined;
      (built as { state?: WindowState }).state = undefined;
      forceGc();
      const restored = await restore(repository, layout, line);
      line.restored_key_count = restored.keyCount;
      forceGc();
      line.restored_heap_used_mib = mib(process.memoryUsage().heapUsed);
      // What the running app then pays per checkpoint to encode this state (in 5 ms slices,
      // between which it keeps folding), with a heap as small as the app's.
      t = performance.now();
      encodeSnapshot(restored);
      line.encode_restored_s = round((performance.now() - t) / 1000, 3);
      log(`restart: encodeSnapshot of the restored state ${line.encode_restored_s} s`);
      log(`restart: load ${line.load_s} s, decodeSnapshot ${line.decode_snapshot_s} s`);
      folder = new SalesFolder(restored, 0, metrics, logger);
    } else {
      line.note =
        'the snapshot could not be encoded: store, load and decode not measured; replay measured on the built state';
      folder = new SalesFolder(state, 0, metrics, logger);
    }

    // Replay: one checkpoint interval of sales, published as ingest would (not timed), then
    // read back and folded exactly as AggregatorService.start() does after a restore.
    const sales = intervalSales(options, built.nowMs + options.checkpointIntervalS * 1000, options.seed + 1);
    const messages = await publish(js, names, sales, options.replayPerMessage);
    t = performance.now();
    const replayed = await replayStream(js, names.stream, salesSubjects(names), 1, (m) => folder.replay(m));
    folder.tick(built.nowMs + options.checkpointIntervalS * 1000);
    const replayS = (performance.now() - t) / 1000;
    line.replay_sales = sales.length;
    line.replay_messages = messages;
    line.replayed_messages = replayed;
    line.replay_s = round(replayS, 3);
    log(`restart: replayed ${replayed} messages (${sales.length} sales) in ${round(replayS, 2)} s`);

    if (line.load_s !== undefined) {
      const restart = (line.load_s as number) + (line.decode_snapshot_s as number) + replayS;
      const checkpoint = (line.encode_snapshot_s as number) + (line.store_s as number);
      line.restart_s = round(restart, 2);
      line.restart_parts = 'load_s + decode_snapshot_s + replay_s';
      line.checkpoint_s = round(checkpoint, 2);
      line.restart_to_ready_s = round(restart, 2);
      line.restart_to_ready_parts =
        'restart_s: AggregatorService.start reports ready after the replay; its first checkpoint follows in the background, encoded in 5 ms slices while folding goes on';
      line.goal_s = RESTART_GOAL_S;
      line.meets_goal = restart <= RESTART_GOAL_S;
    } else {
      line.restart_s = null;
      line.goal_s = RESTART_GOAL_S;
      line.meets_goal = false;
    }
  } finally {
    const jsm = await jetstream(nc).jetstreamManager();
    for (const stream of [`KV_${bucket}`, `OBJ_${bucket}_snapshots`]) {
      await jsm.streams.delete(stream).catch(() => undefined);
    }
    await nc.close();
  }
  return line;
}

/** What AggregatorService.restore() does: load the pointer and the objects, decodeSnapshot; seconds on `line`. */
async function restore(
  repository: CheckpointRepository,
  layout: WindowLayout,
  line: Line,
): Promise<WindowState> {
  let cpu = process.cpuUsage();
  let t = performance.now();
  const loaded = await repository.load(CONSUMER);
  line.load_s = round((performance.now() - t) / 1000, 3);
  line.load_cpu = cpuSeconds(process.cpuUsage(cpu));
  if (loaded?.snapshot === undefined || loaded.earlier === undefined)
    throw new Error('the stored checkpoint could not be loaded');
  line.loaded_raw_bytes = [loaded.snapshot, ...loaded.earlier.values()].reduce((n, b) => n + byteSize(b), 0);
  line.loaded_parts =
    "load_s: the pointer, then every object read (one at a time), each zstd frame decompressed on the thread pool as soon as its bytes are in; load_cpu and decode_cpu: seconds of CPU of this process, every thread (zstd on the thread pool, the garbage collector's helpers)";
  cpu = process.cpuUsage();
  t = performance.now();
  const restored = decodeSnapshot(loaded.snapshot, layout, loaded.earlier);
  line.decode_snapshot_s = round((performance.now() - t) / 1000, 3);
  line.decode_cpu = cpuSeconds(process.cpuUsage(cpu));
  return restored;
}

/** process.cpuUsage() difference as seconds of user and system time. */
function cpuSeconds(usage: NodeJS.CpuUsage): { user_s: number; system_s: number } {
  return { user_s: round(usage.user / 1e6, 3), system_s: round(usage.system / 1e6, 3) };
}

/** Bytes of one loaded object, whole or in pieces. */
function byteSize(bytes: SnapshotBytes): number {
  return bytes instanceof Uint8Array ? bytes.length : bytes.reduce((n, piece) => n + piece.length, 0);
}

/** Bytes of a checkpoint's objects before compression. */
function rawSize(objects: SnapshotObjects): number {
  return [...objects.chunks, ...(objects.companion ?? [])].reduce((n, chunk) => n + chunk.length, 0);
}

/** checkpointInterval × rate sales from `fromMs` on, received 0–2 s after they happened. */
function intervalSales(options: BenchOptions, fromMs: number, seed: number): Sale[] {
  const generator = new SaleGenerator(seed);
  const n = Math.round(options.checkpointIntervalS * options.restartRate);
  const stepMs = 1000 / options.restartRate;
  const sales: Sale[] = [];
  for (let i = 0; i < n; i++) {
    const occurredAt = fromMs + Math.floor(i * stepMs);
    sales.push(generator.sale(occurredAt, occurredAt + (i % 2_000)));
  }
  return sales;
}

/** Publishes as ingest does: per branch, `perMessage` sales to an envelope; returns the messages. */
async function publish(
  js: ReturnType<typeof jetstream>,
  names: StreamNames,
  sales: readonly Sale[],
  perMessage: number,
): Promise<number> {
  const byBranch = new Map<string, Sale[]>();
  const chunks: Sale[][] = [];
  for (const sale of sales) {
    let open = byBranch.get(sale.branchId);
    if (open === undefined) {
      open = [];
      byBranch.set(sale.branchId, open);
    }
    open.push(sale);
    if (open.length === perMessage) {
      chunks.push(open);
      byBranch.delete(sale.branchId);
    }
  }
  chunks.push(...byBranch.values());
  for (let i = 0; i < chunks.length; i += IN_FLIGHT) {
    await Promise.all(
      chunks.slice(i, i + IN_FLIGHT).map((chunk, j) =>
        js.publish(salesSubject(names, chunk[0]!.branchId), encodeEnvelope(chunk), {
          headers: salesMessageHeaders(`bench-replay-${i + j}`, chunk.length),
          expect: { streamName: names.stream },
        }),
      ),
    );
  }
  return chunks.length;
}
