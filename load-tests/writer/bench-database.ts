import { randomBytes } from 'node:crypto';
import { ensureDatabase, migrateDatabase } from '@tally/postgres';
import pg from 'pg';
import { WRITER_CONSUMER } from './sales-stream.js';
import type { DrainTarget } from './writer-drain.js';

/** The Postgres server the benchmark makes its databases on (any database of it: the admin one). */
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface StoredSummary {
  readonly sales: number;
  readonly lines: number;
  /** sum(net_total) as text: equal in two databases when they hold the same sales. */
  readonly netTotal: string;
}

/** When the writer stored its rows, from `sales.stored_at` (the inserting transaction's start). */
export interface StoreTimeline {
  /** Transactions: distinct stored_at values (one statement, one transaction, one now()). */
  readonly transactions: number;
  /** ms since the epoch, µs precision: the first and the last transaction's start. */
  readonly firstMs: number;
  readonly lastMs: number;
  /** Sales and lines of the last transaction (those with stored_at = the last). */
  readonly lastSales: number;
  readonly lastLines: number;
  /** Time between the starts of consecutive transactions, ms. */
  readonly gapP50Ms: number;
  readonly gapMaxMs: number;
  /** The gap before the last transaction (where a drain's last, partly filled pull shows). */
  readonly lastGapMs: number;
}

/**
 * A database of the benchmark's own, created and migrated with the real `drizzle/` migrations
 * (what `npm run db:migrate` does), dropped at the end unless kept.
 */
export class BenchDatabase implements DrainTarget {
  /** The Postgres writer's durable consumer. */
  readonly consumer = WRITER_CONSUMER;

  private constructor(readonly url: string) {}

  static async create(label: string): Promise<BenchDatabase> {
    const url = new URL(POSTGRES_URL);
    url.pathname = `/tally_bench_${randomBytes(4).toString('hex')}_${label}`;
    await ensureDatabase(url.toString());
    const db = new BenchDatabase(url.toString());
    try {
      await migrateDatabase(url.toString());
    } catch (error) {
      await db.drop();
      throw error;
    }
    return db;
  }

  get name(): string {
    return decodeURIComponent(new URL(this.url).pathname.slice(1));
  }

  async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'tally-bench' });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Points the writer at this database, with the Postgres sink alone. */
  writerEnv(): NodeJS.ProcessEnv {
    return { DATABASE_URL: this.url, WRITER_SINKS: 'postgres', WRITER_POSTGRES_CONSUMER: this.consumer };
  }

  async storedSales(): Promise<number> {
    const [row] = await this.query<{ n: number }>('SELECT count(*)::int AS n FROM sales');
    return row!.n;
  }

  /** Empties the tables the writer fills, for the next repetition. */
  async truncate(): Promise<void> {
    await this.query('TRUNCATE sales, sale_lines, dead_letters');
  }

  /** Writes every dirty buffer out, so a measurement does not pay for the previous one's writes. */
  async checkpoint(): Promise<void> {
    await this.query('CHECKPOINT');
  }

  async summary(): Promise<StoredSummary> {
    const [row] = await this.query<{ sales: number; lines: number; net: string }>(
      `SELECT (SELECT count(*) FROM sales)::int AS sales, (SELECT count(*) FROM sale_lines)::int AS lines,
              (SELECT coalesce(sum(net_total), 0) FROM sales)::text AS net`,
    );
    return { sales: row!.sales, lines: row!.lines, netTotal: row!.net };
  }

  async timeline(): Promise<StoreTimeline> {
    const [row] = await this.query<{
      transactions: number;
      first_ms: number;
      last_ms: number;
      last_sales: number;
      last_lines: number;
      gap_p50_ms: number | null;
      gap_max_ms: number | null;
      last_gap_ms: number | null;
    }>(
      `WITH tx AS (
         SELECT stored_at, count(*) AS sales, sum(line_count) AS lines FROM sales GROUP BY stored_at
       ), gaps AS (
         SELECT stored_at, extract(epoch FROM stored_at - lag(stored_at) OVER (ORDER BY stored_at)) * 1000 AS ms
         FROM tx
       )
       SELECT (SELECT count(*) FROM tx)::int AS transactions,
              (SELECT extract(epoch FROM min(stored_at)) * 1000 FROM tx)::float8 AS first_ms,
              (SELECT extract(epoch FROM max(stored_at)) * 1000 FROM tx)::float8 AS last_ms,
              (SELECT sales FROM tx ORDER BY stored_at DESC LIMIT 1)::int AS last_sales,
              (SELECT lines FROM tx ORDER BY stored_at DESC LIMIT 1)::int AS last_lines,
              (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM gaps WHERE ms IS NOT NULL)::float8
                AS gap_p50_ms,
              (SELECT max(ms) FROM gaps)::float8 AS gap_max_ms,
              (SELECT ms FROM gaps ORDER BY stored_at DESC LIMIT 1)::float8 AS last_gap_ms`,
    );
    return {
      transactions: row!.transactions,
      firstMs: row!.first_ms,
      lastMs: row!.last_ms,
      lastSales: row!.last_sales,
      lastLines: row!.last_lines,
      gapP50Ms: row!.gap_p50_ms ?? 0,
      gapMaxMs: row!.gap_max_ms ?? 0,
      lastGapMs: row!.last_gap_ms ?? 0,
    };
  }

  async drop(): Promise<void> {
    const admin = new pg.Client({ connectionString: POSTGRES_URL, application_name: 'tally-bench' });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${this.name.replaceAll('"', '""')}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

/** The server's version and settings that bear on insert throughput. */
export async function serverFacts(): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, application_name: 'tally-bench' });
  await client.connect();
  try {
    const facts: Record<string, string> = {};
    for (const setting of ['server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'wal_level']) {
      facts[setting] = String((await client.query(`SHOW ${setting}`)).rows[0]?.[setting] ?? '?');
    }
    return facts;
  } finally {
    await client.end();
  }
}
