import { MutationSet } from '@google-cloud/spanner';
import type { BranchRangeQuery, DailyTotal, DailyTotalsQuery, SaleNetTotal } from '@tally/contracts';
import {
  fromUnits,
  type Sale,
  type SaleKind,
  type SaleLine,
  type StreamedSale,
  signedToUnits,
} from '@tally/contracts';
import {
  type CommitLimits,
  DEFAULT_MAX_COMMIT_BYTES,
  packCommits,
  rowsWriteCost,
  SALE_COLUMNS,
  SALE_LINE_COLUMNS,
  SPANNER_MAX_MUTATIONS,
  saleRows,
  uniqueSales,
} from './sale-mutations.js';
import { saleShard } from './shard.js';
import { readCallOptions, type SpannerClient } from './spanner.client.js';

export interface SpannerWriteResult {
  /** Distinct sales written (a saleId repeated within the call counts once). */
  readonly sales: number;
  /** Lines written. */
  readonly lines: number;
  /** Commits it took: 1 unless the batch passed a commit's limits. */
  readonly commits: number;
}

export interface SpannerSalesOptions {
  /** Mutations per commit (default and maximum in Spanner: 80,000). */
  readonly maxMutations?: number;
  /** Estimated bytes per commit (default 32 MiB; Spanner's limit is 100 MiB). */
  readonly maxBytes?: number;
  /** Deadline of one commit (default 60,000 ms): a hung write becomes a (transient) failure. */
  readonly commitTimeoutMs?: number;
}

/** Sale ids per read round trip in findSales. */
const FIND_CHUNK = 1_000;

/**
 * The Spanner store of sales: the writer's upserts and the reads reconciliation needs.
 *
 * A write is blind: insert-or-update mutations of every column of the sales and their lines,
 * sent in one Commit without a read (`writeAtLeastOnce`: one round trip, no read locks, so hardly
 * ever aborted). Writing the same sale again writes the same values, so redeliveries and resends
 * are harmless and the write may be retried whole after any failure. Unlike Postgres's
 * `ON CONFLICT DO NOTHING`, a later write with the SAME saleId but DIFFERENT content wins here
 * (last wins, not first, and lines past the new version's last line would stay); the stream only
 * ever repeats a sale unchanged, so that takes a client reusing a saleId for another receipt after
 * the duplicate window, and reconciliation then shows it as a differing sum.
 */

export class SpannerSalesRepository {
  private readonly limits: CommitLimits;
  private readonly commitTimeoutMs: number;

  constructor(
    private readonly client: SpannerClient,
    options: SpannerSalesOptions = {},
  ) {
    this.limits = {
      maxMutations: options.maxMutations ?? SPANNER_MAX_MUTATIONS,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_COMMIT_BYTES,
    };
    if (this.limits.maxMutations > SPANNER_MAX_MUTATIONS) {
      throw new RangeError(
        `maxMutations ${this.limits.maxMutations} is above Spanner's ${SPANNER_MAX_MUTATIONS}`,
      );
    }
    this.commitTimeoutMs = options.commitTimeoutMs ?? 60_000;
  }

  /**
   * Stores the sales and their lines: one commit, or several in order when the batch would pass
   * the mutation or byte limit (a sale never straddles two). A saleId repeated within the call is
   * written once, first occurrence wins. When a later commit fails, earlier ones stay stored:
   * retrying the whole batch is safe, as every write is idempotent.
   */
  async write(sales: readonly StreamedSale[]): Promise<SpannerWriteResult> {
    const prepared = uniqueSales(sales).map((sale) => {
      const rows = saleRows(sale);
      return { rows, cost: rowsWriteCost(rows) };
    });
    const commits = packCommits(prepared, (p) => p.cost, this.limits);
    let lines = 0;
    for (const commit of commits) {
      const mutations = new MutationSet();
      mutations.upsert(
        'Sales',
        commit.map((p) => p.rows.sale),
      );
      const lineRows = commit.flatMap((p) => p.rows.lines);
      if (lineRows.length > 0) mutations.upsert('SaleLines', lineRows);
      await this.client.database.writeAtLeastOnce(mutations, { timeout: this.commitTimeoutMs });
      lines += lineRows.length;
    }
    return { sales: prepared.length, lines, commits: commits.length };
  }

  /**
   * Per branch and UTC day of occurredAt in [from, to): count, exact net sum and the digest of the
   * sale ids, computed by Spanner over the index SalesByBranchOccurred alone (it stores NetTotal,
   * and SaleId is part of every index entry). Ordered by branch, then day. Postgres's
   * SalesReadRepository.dailyTotals computes the same rows, so the two compare with equality.
   */
  async dailyTotals(query: DailyTotalsQuery): Promise<DailyTotal[]> {
    const [rows] = await this.client.database.run({
      sql: `SELECT BranchId, CAST(DATE(OccurredAt, 'UTC') AS STRING) AS Day, COUNT(*) AS Count,
                   CAST(SUM(NetTotal) AS STRING) AS NetTotal,
                   FORMAT('%015x', BIT_XOR(CAST(CONCAT('0x', SUBSTR(TO_HEX(SHA256(SaleId)), 1, 15)) AS INT64))) AS Digest
            FROM Sales@{FORCE_INDEX=SalesByBranchOccurred}
            WHERE OccurredAt >= @from AND OccurredAt < @to
              ${query.branchId === undefined ? '' : 'AND BranchId = @branchId'}
            GROUP BY BranchId, Day`,
      params: {
        from: query.from,
        to: query.to,
        ...(query.branchId !== undefined && { branchId: query.branchId }),
      },
      json: true,
      gaxOptions: readCallOptions(),
    });
    return (
      rows as unknown as { BranchId: string; Day: string; Count: number; NetTotal: string; Digest: string }[]
    )
      .map((r) => ({
        branchId: r.BranchId,
        day: r.Day,
        count: Number(r.Count),
        netTotal: fromUnits(signedToUnits(r.NetTotal)),
        digest: r.Digest,
      }))
      .sort(byBranchAndDay);
  }

  /** The sale ids of one branch and UTC day (`YYYY-MM-DD`), in code-point order. */
  async saleIds(query: { branchId: string; day: string }): Promise<string[]> {
    const { from, to } = utcDay(query.day);
    const [rows] = await this.client.database.run({
      sql: `SELECT SaleId FROM Sales@{FORCE_INDEX=SalesByBranchOccurred}
            WHERE BranchId = @branchId AND OccurredAt >= @from AND OccurredAt < @to
            ORDER BY SaleId`,
      params: { branchId: query.branchId, from, to },
      json: true,
      gaxOptions: readCallOptions(),
    });
    return (rows as unknown as { SaleId: string }[]).map((r) => r.SaleId);
  }

  /**
   * Sale id and signed net total of one branch's sales with occurredAt in [from, to), in
   * code-point order of the id, from the index SalesByBranchOccurred alone (it stores NetTotal):
   * what reconciliation compares sale by sale once a day's totals differ. Postgres's
   * SalesReadRepository.saleTotals returns the same rows for the same sales.
   */
  async saleTotals(query: BranchRangeQuery): Promise<SaleNetTotal[]> {
    const [rows] = await this.client.database.run({
      sql: `SELECT SaleId, CAST(NetTotal AS STRING) AS NetTotal FROM Sales@{FORCE_INDEX=SalesByBranchOccurred}
            WHERE BranchId = @branchId AND OccurredAt >= @from AND OccurredAt < @to
            ORDER BY SaleId`,
      params: { branchId: query.branchId, from: query.from, to: query.to },
      json: true,
      gaxOptions: readCallOptions(),
    });
    return (rows as unknown as { SaleId: string; NetTotal: string }[]).map((r) => ({
      saleId: r.SaleId,
      netTotal: fromUnits(signedToUnits(r.NetTotal)),
    }));
  }

  /**
   * The stored sales of `saleIds` as the stream carried them (amounts as magnitudes, lines in
   * order), with their stream sequence and request id: what a repair copies into the other store.
   * In the order asked; ids not stored are left out. Timestamps come back in UTC, as
   * `toISOString()` writes them with more fractional digits only where the stored instant has
   * them (a sale sent as `...T10:15:00+01:00` reads back as `...T09:15:00.000Z`). One read-only
   * snapshot, so a sale and its lines are read at the same instant.
   */
  async findSales(saleIds: readonly string[]): Promise<StreamedSale[]> {
    const ids = [...new Set(saleIds)];
    const found = new Map<string, StreamedSale>();
    if (ids.length === 0) return [];
    const [snapshot] = await this.client.database.getSnapshot({ strong: true });
    try {
      for (let i = 0; i < ids.length; i += FIND_CHUNK) {
        const chunk = ids.slice(i, i + FIND_CHUNK);
        const keys = chunk.map((id) => [String(saleShard(id)), id]);
        const [[saleRows], [lineRows]] = await Promise.all([
          snapshot.read('Sales', {
            columns: SALE_COLUMNS.filter((c) => c !== 'StoredAt'),
            keys,
            json: true,
            gaxOptions: readCallOptions(),
          }),
          snapshot.read('SaleLines', {
            columns: [...SALE_LINE_COLUMNS],
            // A key prefix as both ends of a closed range: every line of that sale.
            ranges: keys.map((key) => ({ startClosed: key, endClosed: key })),
            json: true,
            gaxOptions: readCallOptions(),
          }),
        ]);
        const linesBySale = new Map<string, StoredLine[]>();
        for (const line of lineRows as unknown as StoredLine[]) {
          const list = linesBySale.get(line.SaleId) ?? [];
          list.push(line);
          linesBySale.set(line.SaleId, list);
        }
        for (const row of saleRows as unknown as StoredSale[]) {
          found.set(row.SaleId, toStreamedSale(row, linesBySale.get(row.SaleId) ?? []));
        }
      }
    } finally {
      snapshot.end();
    }
    return ids.flatMap((id) => found.get(id) ?? []);
  }
}

interface StoredSale {
  SaleId: string;
  Kind: SaleKind;
  OriginalSaleId: string | null;
  BranchId: string;
  RegisterId: string | null;
  CashierId: string | null;
  CustomerId: string | null;
  BuyerCountry: string | null;
  SellerCountry: string | null;
  PaymentMethod: string | null;
  OccurredAt: unknown;
  ReceivedAt: unknown;
  Currency: string;
  NetTotal: unknown;
  StreamSeq: number;
  RequestId: string | null;
}

interface StoredLine {
  SaleId: string;
  LineNo: number;
  ProductId: string;
  ProductName: string | null;
  Category: string;
  Brand: string | null;
  Quantity: number;
  UnitPrice: unknown;
  Discount: unknown;
  NetAmount: unknown;
}

function toStreamedSale(row: StoredSale, lines: StoredLine[]): StreamedSale {
  const sale: Sale = {
    saleId: row.SaleId,
    kind: row.Kind,
    ...optional('originalSaleId', row.OriginalSaleId),
    branchId: row.BranchId,
    ...optional('registerId', row.RegisterId),
    ...optional('cashierId', row.CashierId),
    ...optional('customerId', row.CustomerId),
    occurredAt: isoTimestamp(row.OccurredAt),
    currency: row.Currency,
    ...optional('buyerCountry', row.BuyerCountry),
    ...optional('sellerCountry', row.SellerCountry),
    ...optional('paymentMethod', row.PaymentMethod),
    lines: lines
      .sort((a, b) => Number(a.LineNo) - Number(b.LineNo))
      .map(
        (l): SaleLine => ({
          lineNo: Number(l.LineNo),
          productId: l.ProductId,
          ...optional('productName', l.ProductName),
          category: l.Category,
          ...optional('brand', l.Brand),
          quantity: Number(l.Quantity),
          unitPrice: magnitude(l.UnitPrice),
          discount: magnitude(l.Discount),
          amount: magnitude(l.NetAmount),
        }),
      ),
    total: magnitude(row.NetTotal),
    receivedAt: isoTimestamp(row.ReceivedAt),
  };
  return {
    sale,
    streamSeq: Number(row.StreamSeq),
    ...(row.RequestId !== null && { requestId: row.RequestId }),
  };
}

function optional<K extends string>(key: K, value: string | null): { [P in K]?: string } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: string };
}

/** A NUMERIC as the client hands it back (string or Numeric wrapper) → canonical magnitude. */
function magnitude(value: unknown): string {
  const units = signedToUnits(textOf(value));
  return fromUnits(units < 0n ? -units : units);
}

/**
 * A TIMESTAMP (PreciseDate, or its RFC 3339 text with 9 fractional digits) → what
 * `Date.toISOString()` would write, with the digits past the millisecond kept when not zero.
 */
export function isoTimestamp(value: unknown): string {
  const text = textOf(value);
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(text);
  if (!match) return text;
  const fraction = (match[2] ?? '').replace(/0+$/, '').padEnd(3, '0');
  return `${match[1]}.${fraction}Z`;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    // PreciseDate: toISOString() keeps the nanoseconds; Numeric: its `value` text.
    if (typeof (value as Date).toISOString === 'function') return (value as Date).toISOString();
    if (typeof (value as { value?: unknown }).value === 'string') return (value as { value: string }).value;
  }
  return String(value);
}

/** `YYYY-MM-DD` → [that UTC midnight, the next). */
export function utcDay(day: string): { from: Date; to: Date } {
  const from = new Date(`${day}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(day) ||
    Number.isNaN(from.getTime()) ||
    from.toISOString().slice(0, 10) !== day
  ) {
    throw new RangeError(`day ${JSON.stringify(day)} is not a calendar date YYYY-MM-DD`);
  }
  return { from, to: new Date(from.getTime() + 86_400_000) };
}

function byBranchAndDay(a: DailyTotal, b: DailyTotal): number {
  if (a.branchId !== b.branchId) return a.branchId < b.branchId ? -1 : 1;
  return a.day < b.day ? -1 : a.day > b.day ? 1 : 0;
}
