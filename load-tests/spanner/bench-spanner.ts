/**
 * `npm run bench:spanner`: preloads N sales into an isolated stream, times the real writer's
 * Spanner sink draining them into one fresh database on a Spanner emulator of the benchmark's
 * own and, in the same run, a bare client loop committing the same mutations into another;
 * prints one JSON line per case and their ratio on stdout (progress on stderr). The emulator
 * runs one transaction at a time, so absolute rates say little about Cloud Spanner: the ratio is
 * the figure. A benchmark, not a test: it asserts nothing. See load-tests/README.md.
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpannerEmulatorProcess } from '@tally/spanner-emulator';
import { median, medianCpu, round } from '../common/bench-math.js';
import { Cleanup, emit, type Line, machineFacts, progress, runBench } from '../common/bench-output.js';
import { type BenchOptions, parseOptions, usage } from '../writer/options.js';
import { generateAndPreload, setupFields } from '../writer/preload.js';
import { SalesStream } from '../writer/sales-stream.js';
import { runWriterDrain, type WriterDrainRun } from '../writer/writer-drain.js';
import { type BareCommitRun, prepareCommits, runBareCommits } from './bare-commit.js';
import { EMULATOR_BIN, emulatorVersion } from './emulator.js';
import { type CommitTimeline, SPANNER_CONSUMER, SpannerBenchDatabase } from './spanner-database.js';

/** The emulator is slow (one transaction at a time): a smaller default than the writer benchmark's. */
const DEFAULT_SALES = 20_000;
const USAGE = `${usage('bench:spanner', DEFAULT_SALES)}

With --keep the Spanner emulator is left running too (its host and pid go to stderr).`;

const log = progress('bench-spanner');

const cleanup = new Cleanup(log);
let killWriter: (() => Promise<void>) | undefined;

type SinkRun = WriterDrainRun<CommitTimeline> & { readonly tableDeadLetters: number };

async function main(options: BenchOptions): Promise<void> {
  // The benchmark's own emulator (nobody else's databases or load share it); its output goes to
  // a log file, removed on stop. With --keep it runs in a process group of its own and is left
  // running after the benchmark exits.
  const logFile = path.join(os.tmpdir(), `tally-bench-spanner-emulator-${process.pid}.log`);
  const emulator = await SpannerEmulatorProcess.start({ logFile, detached: options.keep });
  cleanup.add(`Spanner emulator ${emulator.host}`, async () => {
    if (!options.keep) {
      await emulator.stop();
      rmSync(logFile, { force: true });
      return;
    }
    emulator.release();
    log(`kept the Spanner emulator on ${emulator.host} (pid ${emulator.pid}, log ${logFile})`);
  });
  const stream = await SalesStream.create({ tag: 'S', client: 'bench-spanner' });
  cleanup.add(`stream ${stream.names.stream}`, () => stream.dispose(options.keep));
  // A fresh database per case and repetition. At the end they go with the emulator (in memory).
  const database = async (label: string) => {
    const db = await SpannerBenchDatabase.create(emulator, label);
    const close = cleanup.add(`database ${db.name}`, async () => {
      await db.close();
      if (options.keep) log(`kept database ${db.name}`);
    });
    return { db, drop: () => close().then(() => db.drop()) };
  };
  let bare = await database('bare');
  let target = await database('sink');
  if (options.keep) log(`keeping stream ${stream.names.stream} (subjects ${stream.names.subjectPrefix}.>)`);
  log(
    `emulator ${emulator.host}; stream ${stream.names.stream}; databases ${bare.db.config.databaseId} (bare client), ` +
      `${target.db.config.databaseId} (sink)`,
  );

  emit({
    machine: {
      ...machineFacts(),
      spanner_emulator: emulatorVersion(),
      spanner_emulator_bin: EMULATOR_BIN,
      nats_server: stream.nc.info?.version ?? 'unknown',
    },
  });

  const { generated, preloaded } = await generateAndPreload(stream, options, log);
  const prepared = prepareCommits(preloaded.streamed, options.batch);
  const rows = prepared.sales + prepared.lines;
  emit({
    setup: {
      ...setupFields(prepared, generated, preloaded, options),
      commits: prepared.commits.length,
      mutations: prepared.mutations,
      mutations_per_commit: Math.round(prepared.mutations / prepared.commits.length),
      max_mutations_per_commit: prepared.limits.maxMutations,
      repeat: options.repeat,
    },
  });

  const bareRuns: BareCommitRun[] = [];
  const sinkRuns: SinkRun[] = [];
  for (let r = 1; r <= options.repeat; r++) {
    const of = options.repeat > 1 ? ` (${r}/${options.repeat})` : '';
    if (r > 1) {
      await bare.drop();
      bare = await database('bare');
    }
    log(`bare-client${of}: ${prepared.commits.length} commits of ≤ ${options.batch} sales`);
    const b = await runBareCommits(bare.db, prepared);
    bareRuns.push(b);
    log(`bare-client${of}: ${round(b.seconds, 3)} s, ${Math.round(rows / b.seconds)} rows/s`);

    if (r > 1) {
      await target.drop();
      target = await database('sink');
      await stream.resetWriterConsumer(SPANNER_CONSUMER);
    }
    log(`sink${of}: starting ${options.writerMain ?? 'the writer'}, draining ${preloaded.messages} messages`);
    const w = await runWriterDrain(stream, target.db, {
      sales: prepared.sales,
      batch: options.batch,
      nodeArgs:
        options.writerCpuProf === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.writerCpuProf}`],
      onSpawn: (kill) => {
        killWriter = kill;
      },
      onProgress: (message) => log(`sink${of}: ${message}`),
      writerMain: options.writerMain,
      scrapeMetrics: true,
    });
    killWriter = undefined;
    sinkRuns.push({ ...w, tableDeadLetters: await target.db.deadLetters() });
    log(
      `sink${of}: ready after ${round(w.readySeconds, 3)} s, drained after ${round(w.totalSeconds, 3)} s, ` +
        `${Math.round(sinkRowsPerS(w, rows))} rows/s from the first commit to the last`,
    );
  }

  const bareSummary = await bare.db.summary();
  const bareLine = bareClientLine(bareRuns, prepared, bareSummary, options);
  emit(bareLine);
  const sinkLine = sinkLineOf(sinkRuns, prepared.sales, prepared.lines, options, bareSummary);
  emit(sinkLine);

  const ratio = round((sinkLine.rows_per_s as number) / (bareLine.rows_per_s as number), 3);
  emit({ ratio: 'sink/bare-client', value: ratio, of: 'rows_per_s' });
  if (sinkLine.verified !== true) log('WARNING: the sink run is NOT VERIFIED (see the sink line)');
  if (bareLine.verified !== true) log('WARNING: the bare-client run is NOT VERIFIED (see its line)');
  process.stderr.write(`sink/bare-client = ${ratio.toFixed(2)}\n`);
}

function bareClientLine(
  runs: readonly BareCommitRun[],
  prepared: ReturnType<typeof prepareCommits>,
  stored: { sales: number; lines: number; netTotal: string },
  options: BenchOptions,
): Line {
  const { sales, lines } = prepared;
  const rows = sales + lines;
  const commits = prepared.commits.length;
  const s = median(runs.map((r) => r.seconds));
  return {
    case: 'bare-client',
    packing: options.packing,
    sales,
    lines,
    rows,
    batch: options.batch,
    commits,
    seconds: round(s, 3),
    rows_per_s: Math.round(rows / s),
    sales_per_s: Math.round(sales / s),
    ms_per_commit: round((s * 1000) / commits, 2),
    commit_ts_rows_per_s: Math.round(
      median(runs.map((r) => commitSpanRowsPerS(r.timeline, rows) ?? Number.NaN)),
    ),
    commit_gap_p50_ms: round(median(runs.map((r) => r.timeline.gapP50Ms)), 2),
    commit_gap_max_ms: round(median(runs.map((r) => r.timeline.gapMaxMs)), 2),
    cpu_s: medianCpu(runs.map((r) => r.cpu)),
    net_total: stored.netTotal,
    verified:
      runs.every((r) => r.sales === sales && r.lines === lines && r.timeline.transactions === commits) &&
      stored.sales === sales &&
      stored.lines === lines,
    ...(runs.length > 1 && { runs_rows_per_s: runs.map((r) => Math.round(rows / r.seconds)) }),
  };
}

/**
 * Rows per second from the first commit to the last by the commit timestamps: StoredAt is when a
 * commit took effect, so the rows of every commit but the first were committed between the first
 * commit and the last. Undefined with fewer than two commits.
 */
function commitSpanRowsPerS(tl: CommitTimeline, rows: number): number | undefined {
  if (tl.transactions < 2) return undefined;
  return (rows - tl.firstSales - tl.firstLines) / ((tl.lastMs - tl.firstMs) / 1000);
}

/** The sink's rows/s: by the commit timestamps; with a single commit, from ready to that commit. */
function sinkRowsPerS(run: WriterDrainRun<CommitTimeline>, rows: number): number {
  return (
    commitSpanRowsPerS(run.timeline, rows) ??
    rows / ((run.timeline.lastMs - run.spawnedAtMs) / 1000 - run.readySeconds)
  );
}

function sinkLineOf(
  runs: readonly SinkRun[],
  sales: number,
  lines: number,
  options: BenchOptions,
  expected: { sales: number; lines: number; netTotal: string },
): Line {
  const rows = sales + lines;
  const rowsPerS = median(runs.map((r) => sinkRowsPerS(r, rows)));
  const total = median(runs.map((r) => r.totalSeconds));
  const writerCpu = median(runs.map((r) => (r.cpu.writer ?? Number.NaN) / r.totalSeconds));
  return {
    case: 'sink',
    packing: options.packing,
    sales,
    lines,
    rows,
    batch: options.batch,
    rows_per_s: Math.round(rowsPerS),
    sales_per_s: Math.round((rowsPerS * sales) / rows),
    startup_s: round(median(runs.map((r) => r.readySeconds)), 3),
    first_commit_s: round(median(runs.map((r) => (r.timeline.firstMs - r.spawnedAtMs) / 1000)), 3),
    commit_span_s: round(median(runs.map((r) => (r.timeline.lastMs - r.timeline.firstMs) / 1000)), 3),
    drain_s: round(median(runs.map((r) => (r.drainedAtMs - r.timeline.firstMs) / 1000)), 3),
    total_s: round(total, 3),
    total_rows_per_s: Math.round(rows / total),
    commits: median(runs.map((r) => r.timeline.transactions)),
    pulled_batches: median(runs.map((r) => batches(r, 'stored'))),
    transient_failures: median(runs.map((r) => batches(r, 'transient_failure'))),
    commit_gap_p50_ms: round(median(runs.map((r) => r.timeline.gapP50Ms)), 2),
    commit_gap_max_ms: round(median(runs.map((r) => r.timeline.gapMaxMs)), 2),
    last_commit_gap_ms: round(median(runs.map((r) => r.timeline.lastGapMs)), 2),
    writer_env: writerEnvOverrides(),
    writer_cpu_pct: Number.isNaN(writerCpu) ? null : Math.round(writerCpu * 100),
    cpu_s: medianCpu(runs.map((r) => r.cpu)),
    net_total: runs.at(-1)!.stored.netTotal,
    dead_letters: Math.max(...runs.map((r) => r.deadLetters + r.tableDeadLetters)),
    verified: runs.every(
      (r) =>
        r.deadLetters === 0 &&
        r.tableDeadLetters === 0 &&
        r.stored.sales === expected.sales &&
        r.stored.lines === expected.lines &&
        r.stored.netTotal === expected.netTotal,
    ),
    verified_by:
      'same sales, lines and SUM(NetTotal) as the bare client; no dead letters (stream and DeadLetters table)',
    ...(runs.length > 1 && {
      runs_rows_per_s: runs.map((r) => Math.round(sinkRowsPerS(r, rows))),
      runs_total_s: runs.map((r) => round(r.totalSeconds, 3)),
    }),
  };
}

/** `tally_writer_batches_total` of the sink by outcome, from the writer's /metrics once drained (NaN if absent). */
function batches(run: WriterDrainRun, outcome: 'stored' | 'transient_failure'): number {
  for (const line of (run.metrics ?? '').split('\n')) {
    if (line.startsWith('tally_writer_batches_total{') && line.includes(`outcome="${outcome}"`)) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return run.metrics === undefined ? Number.NaN : 0;
}

/** WRITER_* settings of this environment that reach the writer (those the benchmark does not set itself). */
function writerEnvOverrides(): Record<string, string> {
  const own = new Set([
    'WRITER_SINKS',
    'WRITER_SPANNER_CONSUMER',
    'WRITER_HOST',
    'WRITER_PORT',
    'WRITER_BATCH_MAX_SALES',
  ]);
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[0].startsWith('WRITER_') && !own.has(entry[0]) && entry[1] !== undefined,
    ),
  );
}

await runBench({
  name: 'bench-spanner',
  usage: USAGE,
  parse: () => parseOptions(process.argv.slice(2), { sales: DEFAULT_SALES }),
  main,
  cleanup,
  log,
  stopping: 'the writer, dropping the databases and the stream, stopping the emulator',
  beforeCleanup: async () => killWriter?.(),
});
