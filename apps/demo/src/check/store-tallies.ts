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
 *
 * Each also gives net revenue per category of the lines, as stored: the check compares it with
 * the catalog category of every acknowledged line, so a line ingest failed to fill, or filled
 * wrongly, shows up as a category off by its amount. Each store is read in one snapshot where it
 * can be (one statement), so the categories are of the same sales as the count; ClickHouse's
 * come from the top-products report (per product, `any(category)`), read after the count.
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
  private readonly categories = new Map<string, bigint>();

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
    if (this.nextSeq > last) return this.snapshot();
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
            for (const line of sale.lines) {
              const amount = signedToUnits(line.amount);
              add(this.categories, line.category, sale.kind === 'return' ? -amount : amount);
            }
          }
          this.tally = { count, netUnits };
          if (message.seq >= last) break;
        }
        if (received === 0) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return this.snapshot();
  }

  private snapshot(): Tally {
    return { ...this.tally, categories: new Map(this.categories) };
  }
}

export class PostgresTally implements TallySource {
  readonly store = 'Postgres';

  constructor(
    private readonly pg: PostgresClient,
    private readonly saleIdPrefix: string,
  ) {}

  /** One statement, so one snapshot: the sales' count and total, then net revenue per line category. */
  async read(): Promise<Tally> {
    const { rows } = await this.pg.pool.query<{ category: string | null; n: number; net: string }>(
      `SELECT NULL::text AS category, count(*)::int AS n, COALESCE(sum(net_total), 0)::text AS net
         FROM sales WHERE sale_id LIKE $1
       UNION ALL
       SELECT category, count(*)::int, sum(net_amount)::text FROM sale_lines WHERE sale_id LIKE $1 GROUP BY category`,
      [`${this.saleIdPrefix}%`],
    );
    return totalsAndCategories(rows);
  }
}

export class SpannerTally implements TallySource {
  readonly store = 'Spanner';

  constructor(
    private readonly client: SpannerClient,
    private readonly saleIdPrefix: string,
  ) {}

  /** One query (a single-use read-only transaction, so one snapshot), as for Postgres. */
  async read(): Promise<Tally> {
    const [rows] = await this.client.database.run({
      sql: `SELECT CAST(NULL AS STRING) AS category, COUNT(*) AS n, CAST(SUM(NetTotal) AS STRING) AS net
              FROM Sales WHERE STARTS_WITH(SaleId, @prefix)
            UNION ALL
            SELECT Category, COUNT(*), CAST(SUM(NetAmount) AS STRING)
              FROM SaleLines WHERE STARTS_WITH(SaleId, @prefix) GROUP BY Category`,
      params: { prefix: this.saleIdPrefix },
      json: true,
      gaxOptions: readCallOptions(10_000),
    });
    return totalsAndCategories(
      rows as unknown as { category: string | null; n: number | string; net: string | null }[],
    );
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
    const from = encodeURIComponent(this.from.toISOString());
    const daily = (await getJson(
      `${this.aggregatorBase}/v1/reports/daily-revenue-per-branch?from=${from}`,
      this.apiKey,
    )) as { rows: { sales: string | number; returns: string | number; revenue: string | number }[] };
    let count = 0;
    let netUnits = 0n;
    for (const row of daily.rows) {
      count += Number(row.sales) + Number(row.returns);
      netUnits += signedToUnits(String(row.revenue));
    }
    // Read after the count: ClickHouse only gains rows, so these cover at least the sales counted.
    const products = (await getJson(
      `${this.aggregatorBase}/v1/reports/top-products?from=${from}&limit=999999`,
      this.apiKey,
    )) as { rows: { category: string; revenue: string | number }[] };
    const categories = new Map<string, bigint>();
    for (const row of products.rows) add(categories, row.category, signedToUnits(String(row.revenue)));
    return { count, netUnits, categories };
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
    const categories = new Map(tally.categories);
    for (const [category, units] of this.baseline.categories ?? []) add(categories, category, -units);
    return {
      count: tally.count - this.baseline.count,
      netUnits: tally.netUnits - this.baseline.netUnits,
      categories,
    };
  }
}

async function allTime(base: string, apiKey: string): Promise<{ tally: Tally; appliedThrough: number }> {
  const summary = (await getJson(`${base}/v1/analytics/summary?window=all`, apiKey)) as {
    sales: number;
    returns: number;
    netRevenue: string;
    appliedThrough: number;
    categories: { category: string; revenue: string }[];
  };
  const categories = new Map<string, bigint>();
  for (const c of summary.categories) add(categories, c.category, signedToUnits(c.revenue));
  return {
    tally: {
      count: summary.sales + summary.returns,
      netUnits: signedToUnits(summary.netRevenue),
      categories,
    },
    appliedThrough: Number(summary.appliedThrough),
  };
}

/** Adds to a category's net revenue; a category netting to zero is dropped (stores may list it or not). */
function add(categories: Map<string, bigint>, category: string, units: bigint): void {
  const sum = (categories.get(category) ?? 0n) + units;
  if (sum === 0n) categories.delete(category);
  else categories.set(category, sum);
}

/** Rows of the Postgres/Spanner tally query: the totals row (category null), then one per category. */
function totalsAndCategories(
  rows: readonly { category: string | null; n: number | string; net: string | null }[],
): Tally {
  const categories = new Map<string, bigint>();
  let totals = { count: 0, netUnits: 0n };
  for (const row of rows) {
    if (row.category === null) totals = { count: Number(row.n), netUnits: signedToUnits(row.net ?? '0') };
    else add(categories, row.category, signedToUnits(row.net ?? '0'));
  }
  return { ...totals, categories };
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
