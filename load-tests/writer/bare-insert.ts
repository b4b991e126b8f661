import type { StreamedSale } from '@tally/contracts';
import { insertParameters, PostgresClient, SalesWriteRepository } from '@tally/postgres';
import type { BenchDatabase, StoreTimeline } from './bench-database.js';
import { type CpuSeconds, cpuWindow } from './cpu-window.js';

export interface PreparedBatches {
  /** The statement's parameters, one entry per transaction, built before any timing. */
  readonly batches: ReadonlyArray<{ readonly parameters: unknown[][]; readonly sales: number }>;
  readonly sales: number;
  readonly lines: number;
}

export interface BareInsertRun {
  /** From the first statement sent to the last one answered. */
  readonly seconds: number;
  readonly inserted: number;
  readonly lines: number;
  readonly cpu: CpuSeconds;
  /** The same stored_at timeline as the writer's, for comparing transaction gaps. */
  readonly timeline: StoreTimeline;
}

/**
 * The baseline's input: the very rows the writer stores (same sales, stream sequences and
 * request ids, in stream order), cut into transactions of `batch` sales, with the writer's own
 * parameter builder run up front so that only the database work is timed.
 */
export function prepareBatches(streamed: readonly StreamedSale[], batch: number): PreparedBatches {
  const batches = [];
  let lines = 0;
  for (let i = 0; i < streamed.length; i += batch) {
    const chunk = streamed.slice(i, i + batch);
    batches.push({ parameters: insertParameters(chunk), sales: chunk.length });
    for (const { sale } of chunk) lines += sale.lines.length;
  }
  return { batches, sales: streamed.length, lines };
}

/**
 * The bare insert: the writer's statement (`SalesWriteRepository.insertPrepared`), one
 * transaction after the other on one connection, nothing else: no NATS, no decoding, no acks.
 * The connection is opened and the statement prepared (on a throw-away empty batch) before the
 * clock starts, as in a writer that has been running for a while.
 */
export async function runBareInsert(db: BenchDatabase, prepared: PreparedBatches): Promise<BareInsertRun> {
  const client = PostgresClient.create({
    url: db.url,
    applicationName: 'tally-bench-bare',
    maxConnections: 1,
  });
  try {
    const repository = new SalesWriteRepository(client);
    await repository.insertPrepared(insertParameters([]), 0);
    let inserted = 0;
    let lines = 0;
    const cpu = cpuWindow();
    const started = performance.now();
    for (const { parameters, sales } of prepared.batches) {
      const result = await repository.insertPrepared(parameters, sales);
      inserted += result.inserted;
      lines += result.lines;
    }
    const seconds = (performance.now() - started) / 1000;
    const used = cpu();
    return { seconds, inserted, lines, cpu: used, timeline: await db.timeline() };
  } finally {
    await client.close();
  }
}
