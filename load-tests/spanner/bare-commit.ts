import { MutationSet } from '@google-cloud/spanner';
import type { StreamedSale } from '@tally/contracts';
import {
  type CommitLimits,
  DEFAULT_MAX_COMMIT_BYTES,
  SPANNER_MAX_MUTATIONS,
  SpannerClient,
  saleRows,
  saleWriteCost,
  splitIntoCommits,
  uniqueSales,
} from '@tally/spanner';
import { type CpuSeconds, cpuWindow } from '../writer/cpu-window.js';
import type { CommitTimeline, SpannerBenchDatabase } from './spanner-database.js';

/** SpannerSalesRepository's deadline of one commit. */
const COMMIT_TIMEOUT_MS = 60_000;

export interface PreparedCommits {
  /** The mutations of every commit, built before any timing. */
  readonly commits: ReadonlyArray<{
    readonly mutations: MutationSet;
    readonly sales: number;
    readonly lines: number;
  }>;
  /** Chunks of `batch` sales (the sink's transactions); a chunk is one commit unless it passes a limit. */
  readonly chunks: number;
  readonly sales: number;
  readonly lines: number;
  /** Mutations as Spanner counts them (columns written, plus index entries), over all commits. */
  readonly mutations: number;
  readonly limits: CommitLimits;
}

export interface BareCommitRun {
  /** From the first commit sent to the last one answered. */
  readonly seconds: number;
  readonly sales: number;
  readonly lines: number;
  readonly cpu: CpuSeconds;
  /** The same commit-timestamp timeline as the sink's, for comparing gaps. */
  readonly timeline: CommitTimeline;
}

/**
 * The commit limits the sink runs with: the repository's defaults, and the writer's
 * WRITER_SPANNER_MAX_MUTATIONS when set in this environment (the writer child inherits it).
 */
export function sinkCommitLimits(env: NodeJS.ProcessEnv = process.env): CommitLimits {
  const raw = env.WRITER_SPANNER_MAX_MUTATIONS;
  return {
    maxMutations: raw === undefined || raw === '' ? SPANNER_MAX_MUTATIONS : Number(raw),
    maxBytes: DEFAULT_MAX_COMMIT_BYTES,
  };
}

/**
 * The baseline's input: the very sales the sink stores (same stream sequences and request ids,
 * in stream order), cut into chunks of `batch` sales as the sink's transactions, each cut into
 * commits by the sink's own `splitIntoCommits`, the rows built by its own `saleRows` and put into
 * the mutations `SpannerSalesRepository.write` sends (upserts of Sales, then SaleLines) up front,
 * so that only the commits are timed.
 */
export function prepareCommits(
  streamed: readonly StreamedSale[],
  batch: number,
  limits: CommitLimits = sinkCommitLimits(),
): PreparedCommits {
  const commits = [];
  let chunks = 0;
  let lines = 0;
  let mutations = 0;
  for (let i = 0; i < streamed.length; i += batch) {
    chunks++;
    for (const commit of splitIntoCommits(uniqueSales(streamed.slice(i, i + batch)), limits)) {
      const rows = commit.map(saleRows);
      const set = new MutationSet();
      set.upsert(
        'Sales',
        rows.map((r) => r.sale),
      );
      const lineRows = rows.flatMap((r) => r.lines);
      if (lineRows.length > 0) set.upsert('SaleLines', lineRows);
      commits.push({ mutations: set, sales: commit.length, lines: lineRows.length });
      lines += lineRows.length;
      for (const sale of commit) mutations += saleWriteCost(sale).mutations;
    }
  }
  return { commits, chunks, sales: streamed.length, lines, mutations, limits };
}

/**
 * The bare client loop: the prepared commits, one after the other, on one client
 * (`writeAtLeastOnce`, the sink's blind single-round-trip commit, with its deadline), nothing
 * else: no NATS, no decoding, no building of rows, no acks. The client is made, a session taken
 * and a first (empty) commit sent before the clock starts, as in a sink that has been running.
 */
export async function runBareCommits(
  db: SpannerBenchDatabase,
  prepared: PreparedCommits,
): Promise<BareCommitRun> {
  const client = SpannerClient.create(db.config);
  try {
    await client.ping();
    await client.database.writeAtLeastOnce(new MutationSet(), { timeout: COMMIT_TIMEOUT_MS });
    let sales = 0;
    let lines = 0;
    const cpu = cpuWindow(undefined, db.cpuProcesses);
    const started = performance.now();
    for (const commit of prepared.commits) {
      await client.database.writeAtLeastOnce(commit.mutations, { timeout: COMMIT_TIMEOUT_MS });
      sales += commit.sales;
      lines += commit.lines;
    }
    const seconds = (performance.now() - started) / 1000;
    const used = cpu();
    return { seconds, sales, lines, cpu: used, timeline: await db.timeline() };
  } finally {
    await client.close();
  }
}
