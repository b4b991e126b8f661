/**
 * `npm run bench:writer`: preloads N sales into an isolated stream, times the real writer
 * draining them into one fresh database and, in the same run, a bare unnest insert of the same
 * rows into another; prints one JSON line per case and their ratio on stdout (progress on
 * stderr). A benchmark, not a test: it asserts nothing. See load-tests/README.md.
 */
import { median, medianCpu, round } from '../common/bench-math.js';
import { Cleanup, emit, type Line, machineFacts, progress, runBench } from '../common/bench-output.js';
import { type BareInsertRun, prepareBatches, runBareInsert } from './bare-insert.js';
import { BenchDatabase, serverFacts } from './bench-database.js';
import { type BenchOptions, parseOptions, USAGE } from './options.js';
import { generateAndPreload, setupFields } from './preload.js';
import { SalesStream } from './sales-stream.js';
import { runWriterDrain, type WriterDrainRun } from './writer-drain.js';

/** From the issue: the writer should reach at least this share of the bare insert's rows/s. */
const GOAL = 0.8;

const log = progress('bench-writer');

const cleanup = new Cleanup(log);
let killWriter: (() => Promise<void>) | undefined;

async function main(options: BenchOptions): Promise<void> {
  const stream = await SalesStream.create();
  cleanup.add(`stream ${stream.names.stream}`, () => stream.dispose(options.keep));
  const database = async (label: string) => {
    const db = await BenchDatabase.create(label);
    cleanup.add(`database ${db.name}`, async () => {
      if (options.keep) log(`kept database ${db.name}`);
      else await db.drop();
    });
    return db;
  };
  const bare = await database('bare');
  const target = await database('writer');
  if (options.keep) log(`keeping stream ${stream.names.stream} (subjects ${stream.names.subjectPrefix}.>)`);
  log(`stream ${stream.names.stream}; databases ${bare.name} (bare insert), ${target.name} (writer)`);

  const postgres = await serverFacts();
  emit({
    machine: {
      ...machineFacts(),
      postgres: postgres.server_version,
      postgres_settings: {
        synchronous_commit: postgres.synchronous_commit,
        fsync: postgres.fsync,
        shared_buffers: postgres.shared_buffers,
        wal_level: postgres.wal_level,
      },
      nats_server: stream.nc.info?.version ?? 'unknown',
    },
  });

  const { generated, preloaded } = await generateAndPreload(stream, options, log);
  const prepared = prepareBatches(preloaded.streamed, options.batch);
  const rows = prepared.sales + prepared.lines;
  emit({
    setup: {
      ...setupFields(prepared, generated, preloaded, options),
      repeat: options.repeat,
    },
  });

  const bareRuns: BareInsertRun[] = [];
  const writerRuns: WriterDrainRun[] = [];
  for (let r = 1; r <= options.repeat; r++) {
    const of = options.repeat > 1 ? ` (${r}/${options.repeat})` : '';
    if (r > 1) await bare.truncate();
    await bare.checkpoint();
    log(`bare-insert${of}: ${prepared.batches.length} statements of ≤ ${options.batch} sales`);
    const b = await runBareInsert(bare, prepared);
    bareRuns.push(b);
    log(`bare-insert${of}: ${round(b.seconds, 3)} s, ${Math.round(rows / b.seconds)} rows/s`);

    if (r > 1) {
      await target.truncate();
      await stream.resetWriterConsumer();
    }
    await target.checkpoint();
    log(
      `writer${of}: starting ${options.writerMain ?? 'the writer'}, draining ${preloaded.messages} messages`,
    );
    const w = await runWriterDrain(stream, target, {
      sales: prepared.sales,
      batch: options.batch,
      nodeArgs:
        options.writerCpuProf === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.writerCpuProf}`],
      onSpawn: (kill) => {
        killWriter = kill;
      },
      onProgress: (message) => log(`writer${of}: ${message}`),
      writerMain: options.writerMain,
    });
    killWriter = undefined;
    writerRuns.push(w);
    log(
      `writer${of}: ready after ${round(w.readySeconds, 3)} s, drained after ${round(w.totalSeconds, 3)} s, ` +
        `${Math.round(writerRowsPerS(w, rows))} rows/s over the drain`,
    );
  }

  const bareSummary = await bare.summary();
  const bareLine = bareInsertLine(bareRuns, prepared.batches.length, prepared.sales, prepared.lines, options);
  emit(bareLine);
  const writerLine = writerDrainLine(writerRuns, prepared.sales, prepared.lines, options, bareSummary);
  emit(writerLine);

  const ratio = round((writerLine.rows_per_s as number) / (bareLine.rows_per_s as number), 3);
  emit({
    ratio: 'writer/bare-insert',
    value: ratio,
    of: 'rows_per_s',
    goal: GOAL,
    meets_goal: ratio >= GOAL,
  });
  if (writerLine.verified !== true) log('WARNING: the writer run is NOT VERIFIED (see the writer line)');
  if (bareLine.verified !== true) log('WARNING: the bare-insert run is NOT VERIFIED (see its line)');
  process.stderr.write(`writer/bare-insert = ${ratio.toFixed(2)} (goal ≥ ${GOAL.toFixed(2)})\n`);
}

function bareInsertLine(
  runs: readonly BareInsertRun[],
  statements: number,
  sales: number,
  lines: number,
  options: BenchOptions,
): Line {
  const rows = sales + lines;
  const s = median(runs.map((r) => r.seconds));
  return {
    case: 'bare-insert',
    sales,
    lines,
    rows,
    batch: options.batch,
    statements,
    seconds: round(s, 3),
    rows_per_s: Math.round(rows / s),
    sales_per_s: Math.round(sales / s),
    ms_per_statement: round((s * 1000) / statements, 2),
    tx_gap_p50_ms: round(median(runs.map((r) => r.timeline.gapP50Ms)), 2),
    tx_gap_max_ms: round(median(runs.map((r) => r.timeline.gapMaxMs)), 2),
    cpu_s: medianCpu(runs.map((r) => r.cpu)),
    verified: runs.every((r) => r.inserted === sales && r.lines === lines),
    ...(runs.length > 1 && { runs_rows_per_s: runs.map((r) => Math.round(rows / r.seconds)) }),
  };
}

/**
 * Rows per second from the first stored row to the last: the rows of every transaction but the
 * last, over the time from the first transaction's start to the last one's (stored_at is the
 * transaction's start, and the writer runs its transactions one after the other). With a
 * single transaction: all rows, from its start to the poll that saw the drain complete.
 */
function writerRowsPerS(run: WriterDrainRun, rows: number): number {
  const tl = run.timeline;
  if (tl.transactions < 2) return rows / ((run.drainedAtMs - tl.firstMs) / 1000);
  return (rows - tl.lastSales - tl.lastLines) / ((tl.lastMs - tl.firstMs) / 1000);
}

function writerDrainLine(
  runs: readonly WriterDrainRun[],
  sales: number,
  lines: number,
  options: BenchOptions,
  expected: { sales: number; lines: number; netTotal: string },
): Line {
  const rows = sales + lines;
  const rowsPerS = median(runs.map((r) => writerRowsPerS(r, rows)));
  const total = median(runs.map((r) => r.totalSeconds));
  const writerCpu = median(runs.map((r) => (r.cpu.writer ?? Number.NaN) / r.totalSeconds));
  return {
    case: 'writer',
    packing: options.packing,
    sales,
    lines,
    rows,
    batch: options.batch,
    rows_per_s: Math.round(rowsPerS),
    sales_per_s: Math.round((rowsPerS * sales) / rows),
    startup_s: round(median(runs.map((r) => r.readySeconds)), 3),
    first_row_s: round(median(runs.map((r) => (r.timeline.firstMs - r.spawnedAtMs) / 1000)), 3),
    store_span_s: round(median(runs.map((r) => (r.timeline.lastMs - r.timeline.firstMs) / 1000)), 3),
    drain_s: round(median(runs.map((r) => (r.drainedAtMs - r.timeline.firstMs) / 1000)), 3),
    total_s: round(total, 3),
    total_rows_per_s: Math.round(rows / total),
    transactions: median(runs.map((r) => r.timeline.transactions)),
    tx_gap_p50_ms: round(median(runs.map((r) => r.timeline.gapP50Ms)), 2),
    tx_gap_max_ms: round(median(runs.map((r) => r.timeline.gapMaxMs)), 2),
    last_tx_gap_ms: round(median(runs.map((r) => r.timeline.lastGapMs)), 2),
    writer_cpu_pct: Number.isNaN(writerCpu) ? null : Math.round(writerCpu * 100),
    cpu_s: medianCpu(runs.map((r) => r.cpu)),
    dead_letters: Math.max(...runs.map((r) => r.deadLetters)),
    verified: runs.every(
      (r) =>
        r.deadLetters === 0 &&
        r.stored.sales === expected.sales &&
        r.stored.lines === expected.lines &&
        r.stored.netTotal === expected.netTotal,
    ),
    verified_by: 'same sales, lines and sum(net_total) as the bare insert; no dead letters',
    ...(runs.length > 1 && {
      runs_rows_per_s: runs.map((r) => Math.round(writerRowsPerS(r, rows))),
      runs_total_s: runs.map((r) => round(r.totalSeconds, 3)),
    }),
  };
}

await runBench({
  name: 'bench-writer',
  usage: USAGE,
  parse: () => parseOptions(process.argv.slice(2)),
  main,
  cleanup,
  log,
  stopping: 'the writer, dropping the databases and the stream',
  beforeCleanup: async () => killWriter?.(),
});
