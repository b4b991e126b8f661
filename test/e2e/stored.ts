import type { ConsumerInfo } from '@nats-io/jetstream';
import { sumDecimals } from '@tally/contracts';
import { type NatsFixture, type PostgresFixture, waitFor } from '@tally/testing';
import type { Expected } from './load.js';

/** What Postgres holds, in the units of `Expected` (load.ts), plus the duplicate checks. */
export interface StoredState {
  readonly sales: number;
  /** count(*) − count(DISTINCT sale_id): 0 unless a sale was stored twice. */
  readonly duplicateSales: number;
  readonly returns: number;
  readonly lines: number;
  /** count(*) − count(DISTINCT (sale_id, line_no)) of sale_lines. */
  readonly duplicateLines: number;
  /** Exact sum of sales.net_total, canonical decimal text. */
  readonly netTotal: string;
  /** Exact sum of sale_lines.net_amount, canonical decimal text. */
  readonly linesNetTotal: string;
  /** Sales whose line_count differs from their rows in sale_lines. */
  readonly salesWithWrongLines: number;
}

export async function storedCount(
  db: PostgresFixture,
  table: 'sales' | 'sale_lines' | 'dead_letters' = 'sales',
): Promise<number> {
  return (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
}

export async function storedState(db: PostgresFixture): Promise<StoredState> {
  const [s] = await db.query<{
    sales: number;
    duplicates: number;
    returns: number;
    total: string;
  }>(`SELECT count(*)::int AS sales,
             (count(*) - count(DISTINCT sale_id))::int AS duplicates,
             (count(*) FILTER (WHERE kind = 'return'))::int AS returns,
             coalesce(sum(net_total), 0)::text AS total
        FROM sales`);
  const [l] = await db.query<{ lines: number; duplicates: number; total: string }>(
    `SELECT count(*)::int AS lines,
            (count(*) - count(DISTINCT (sale_id, line_no)))::int AS duplicates,
            coalesce(sum(net_amount), 0)::text AS total
       FROM sale_lines`,
  );
  const [w] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sales s
      WHERE s.line_count <> (SELECT count(*) FROM sale_lines l WHERE l.sale_id = s.sale_id)`,
  );
  return {
    sales: s!.sales,
    duplicateSales: s!.duplicates,
    returns: s!.returns,
    lines: l!.lines,
    duplicateLines: l!.duplicates,
    netTotal: sumDecimals([s!.total]),
    linesNetTotal: sumDecimals([l!.total]),
    salesWithWrongLines: w!.n,
  };
}

/** Waits until the consumer has delivered every message of the stream and seen it acked. */
export async function consumerDrained(
  nats: NatsFixture,
  consumer: string,
  timeoutMs = 30_000,
): Promise<ConsumerInfo> {
  let last: ConsumerInfo | undefined;
  try {
    return await waitFor(
      `consumer ${consumer} drained`,
      async () => {
        last = await nats.consumerInfo(consumer);
        return last.num_pending === 0 && last.num_ack_pending === 0 ? last : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );
  } catch (error) {
    const state = last && `num_pending ${last.num_pending}, num_ack_pending ${last.num_ack_pending}`;
    throw new Error(`${(error as Error).message}; last seen: ${state ?? 'no consumer info'}`);
  }
}

/** The state Postgres must hold when exactly the expected sales landed once: no more, no less, exact totals. */
export function exactlyOnce(expected: Expected): StoredState {
  return {
    sales: expected.sales,
    duplicateSales: 0,
    returns: expected.returns,
    lines: expected.lines,
    duplicateLines: 0,
    netTotal: expected.netTotal,
    linesNetTotal: expected.netTotal,
    salesWithWrongLines: 0,
  };
}
