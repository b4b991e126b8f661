import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { decodeEnvelope, signedToUnits } from '@tally/contracts';
import type { PostgresClient } from '@tally/postgres';
import { readCallOptions, type SpannerClient } from '@tally/spanner';
import type { Tally } from './agreement.js';

/**
 * How the demo reads "this run's sales" back from each store, as a count of receipts and exact
 * signed net revenue. A store may also hold earlier runs (the stream, Postgres and ClickHouse
 * data, and the aggregator's all-time figures persist), so each reader isolates this run:
 *
 * - stream, Postgres, Spanner: by sale id, which always starts with the run id;
 * - ClickHouse: through the aggregator's daily report from the run's start instant on (every
 *   sale of the run occurred after it, every earlier sale before it);
 * - aggregator: its all-time totals minus a baseline read once it had folded the whole stream
 *   as it stood before the run (nothing else sells meanwhile).
 */
export interface TallySource {
  readonly store: string;
  read(): Promise<Tally>;
}

/** The stream's messages from the run's first sequence on, read once each (later reads continue). */
export class StreamTally implements TallySource {
  readonly store = 'stream';
  private nextSeq: number;
  private tally: Tally = { count: 0, netUnits: 0n };

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    fromSeq: number,
    private readonly saleIdPrefix: string,
  ) {
    this.nextSeq = fromSeq;
  }

  async read(): Promise<Tally> {
    const last = (await this.jsm.streams.info(this.stream)).state.last_seq;
    if (this.nextSeq > last) return this.tally;
    // An ordered consumer: ephemeral, in order, no acks; it goes away on its own once unused.
    const consumer = await this.js.consumers.get(this.stream, { opt_start_seq: this.nextSeq });
    try {
      while (this.nextSeq <= last) {
        const batch = await consumer.fetch({
          max_messages: Math.min(5_000, last - this.nextSeq + 1),
          expires: 2_000,
        });
        let received = 0;
        for await (const message of batch) {
          received++;
          this.nextSeq = message.seq + 1;
          let { count, netUnits } = this.tally;
          for (const sale of decodeEnvelope(message.data)) {
            if (!sale.saleId.startsWith(this.saleIdPrefix)) continue;
            count++;
            netUnits += sale.kind === 'return' ? -signedToUnits(sale.total) : signedToUnits(sale.total);
          }
          this.tally = { count, netUnits };
          if (message.seq >= last) break;
        }
        if (received === 0) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return this.tally;
  }
}

export class PostgresTally implements TallySource {
  readonly store = 'Postgres';

  constructor(
    private readonly pg: PostgresClient,
    private readonly saleIdPrefix: string,
  ) {}

  async read(): Promise<Tally> {
    const { rows } = await this.pg.pool.query<{ n: number; net: string }>(
      'SELECT count(*)::int AS n, COALESCE(sum(net_total), 0)::text AS net FROM sales WHERE sale_id LIKE $1',
      [`${this.saleIdPrefix}%`],
    );
    return { count: rows[0]!.n, netUnits: signedToUnits(rows[0]!.net) };
  }
}

export class SpannerTally implements TallySource {
  readonly store = 'Spanner';

  constructor(
    private readonly client: SpannerClient,
    private readonly saleIdPrefix: string,
  ) {}

  async read(): Promise<Tally> {
    const [rows] = await this.client.database.run({
      sql: 'SELECT COUNT(*) AS n, CAST(SUM(NetTotal) AS STRING) AS net FROM Sales WHERE STARTS_WITH(SaleId, @prefix)',
      params: { prefix: this.saleIdPrefix },
      json: true,
      gaxOptions: readCallOptions(10_000),
    });
    const row = (rows as unknown as { n: number | string; net: string | null }[])[0];
    return { count: Number(row?.n ?? 0), netUnits: signedToUnits(row?.net ?? '0') };
  }
}

/** ClickHouse, read through the aggregator's report API (the aggregator owns the embedded database). */
export class ClickHouseTally implements TallySource {
  readonly store = 'ClickHouse';

  constructor(
    private readonly aggregatorBase: string,
    private readonly apiKey: string,
    private readonly from: Date,
  ) {}

  async read(): Promise<Tally> {
    const url = `${this.aggregatorBase}/v1/reports/daily-revenue-per-branch?from=${encodeURIComponent(this.from.toISOString())}`;
    const report = (await getJson(url, this.apiKey)) as {
      rows: { sales: string | number; returns: string | number; revenue: string | number }[];
    };
    let count = 0;
    let netUnits = 0n;
    for (const row of report.rows) {
      count += Number(row.sales) + Number(row.returns);
      netUnits += signedToUnits(String(row.revenue));
    }
    return { count, netUnits };
  }
}

/** The aggregator's all-time figures, less what it held before the run. */
export class AggregatorTally implements TallySource {
  readonly store = 'aggregator';

  private constructor(
    private readonly aggregatorBase: string,
    private readonly apiKey: string,
    private readonly baseline: Tally,
  ) {}

  /**
   * Waits until the aggregator has folded every message the stream held before the run (it may
   * still be replaying an earlier run's backlog), then reads its all-time figures as the baseline.
   */
  static async start(
    aggregatorBase: string,
    apiKey: string,
    streamLastSeq: number,
    timeoutMs: number,
  ): Promise<AggregatorTally> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const summary = await allTime(aggregatorBase, apiKey);
      if (summary.appliedThrough >= streamLastSeq) {
        return new AggregatorTally(aggregatorBase, apiKey, summary.tally);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the aggregator had folded the stream through ${summary.appliedThrough} of ${streamLastSeq} after ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async read(): Promise<Tally> {
    const { tally } = await allTime(this.aggregatorBase, this.apiKey);
    return { count: tally.count - this.baseline.count, netUnits: tally.netUnits - this.baseline.netUnits };
  }
}

async function allTime(base: string, apiKey: string): Promise<{ tally: Tally; appliedThrough: number }> {
  const summary = (await getJson(`${base}/v1/analytics/summary?window=all`, apiKey)) as {
    sales: number;
    returns: number;
    netRevenue: string;
    appliedThrough: number;
  };
  return {
    tally: { count: summary.sales + summary.returns, netUnits: signedToUnits(summary.netRevenue) },
    appliedThrough: Number(summary.appliedThrough),
  };
}

/** GET with the key; throws naming the URL and the status on anything but 2xx. */
export async function getJson(url: string, apiKey: string, timeoutMs = 10_000): Promise<unknown> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  return res.json();
}
