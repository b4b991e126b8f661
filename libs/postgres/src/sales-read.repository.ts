import {
  type BranchRangeQuery,
  type DailyTotal,
  type DailyTotalsQuery,
  fromUnits,
  type Sale,
  type SaleKind,
  type SaleLine,
  type SaleNetTotal,
  type StreamedSale,
  signedToUnits,
} from '@tally/contracts';
import { and, asc, desc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { PostgresClient } from './postgres.client.js';
import { type SaleRow, saleLines, sales } from './schema/sales.schema.js';

/**
 * Reads for the sales screens: one receipt with its lines and returns, and a keyset-paged list.
 * Amounts come back as the contract has them (canonical magnitudes, `kind` tells the sign), plus
 * the net state: what was returned against a sale and what remains.
 */
export interface SaleSummary {
  readonly saleId: string;
  readonly kind: SaleKind;
  readonly originalSaleId?: string;
  readonly branchId: string;
  readonly registerId?: string;
  readonly cashierId?: string;
  readonly customerId?: string;
  readonly buyerCountry?: string;
  readonly sellerCountry?: string;
  readonly paymentMethod?: string;
  readonly occurredAt: string;
  readonly receivedAt: string;
  readonly storedAt: string;
  readonly currency: string;
  /** The receipt's total, a magnitude (a return's total is what it gave back). */
  readonly total: string;
  readonly lineCount: number;
  /** Sales only: sum of the returns stored against it so far. */
  readonly returnedTotal?: string;
  /** Signed effect on revenue: total − returnedTotal for a sale, −total for a return. */
  readonly netTotal: string;
}

export interface SaleDetail extends SaleSummary {
  readonly lines: readonly SaleLine[];
  /** Sales only: the returns stored against it, oldest first. */
  readonly returns?: readonly { saleId: string; occurredAt: string; total: string }[];
  readonly streamSeq: number;
  readonly requestId?: string;
}

export interface ListSalesQuery {
  readonly branchId?: string;
  readonly customerId?: string;
  /** Inclusive lower bound on occurredAt. */
  readonly from?: Date;
  /** Exclusive upper bound on occurredAt. */
  readonly to?: Date;
  readonly limit: number;
  /** Newest first (default) or oldest first. */
  readonly order?: 'desc' | 'asc';
  readonly after?: SalesCursor;
}

/** Position after the last item of a page: (occurredAt, saleId), the list's total order. */
export interface SalesCursor {
  /**
   * The instant exactly as stored, to the microsecond, in UTC: `2026-03-01T10:00:00.123456Z`. A
   * Date would drop the microseconds, and a page boundary between two sales of the same
   * millisecond would then repeat or skip rows.
   */
  readonly occurredAt: string;
  readonly saleId: string;
}

export interface SalesPage {
  readonly items: readonly SaleSummary[];
  /** Present when there may be more: pass it back for the next page. */
  readonly next?: SalesCursor;
}

/** occurred_at at its full (microsecond) precision, as the text a SalesCursor holds. */
const positionSql = sql<string>`to_char(${sales.occurredAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Sum (as a positive magnitude) of the returns stored against a sale. */
const returnedSql = sql<string>`(SELECT coalesce(-sum(r.net_total), 0) FROM sales r WHERE r.original_sale_id = "sales"."sale_id")`;

export class SalesReadRepository {
  constructor(private readonly postgres: PostgresClient) {}

  async findById(saleId: string): Promise<SaleDetail | undefined> {
    const db = this.postgres.db;
    const [row] = await db
      .select({ sale: sales, returned: returnedSql })
      .from(sales)
      .where(eq(sales.saleId, saleId));
    if (!row) return undefined;
    const [lines, returns] = await Promise.all([
      db.select().from(saleLines).where(eq(saleLines.saleId, saleId)).orderBy(asc(saleLines.lineNo)),
      row.sale.kind === 'sale'
        ? db
            .select({ saleId: sales.saleId, occurredAt: sales.occurredAt, netTotal: sales.netTotal })
            .from(sales)
            .where(eq(sales.originalSaleId, saleId))
            .orderBy(asc(sales.occurredAt), asc(sales.saleId))
        : Promise.resolve(undefined),
    ]);
    return {
      ...summary(row.sale, row.returned),
      lines: lines.map((l) => ({
        lineNo: l.lineNo,
        productId: l.productId,
        ...(l.productName !== null && { productName: l.productName }),
        category: l.category,
        ...(l.brand !== null && { brand: l.brand }),
        quantity: l.quantity,
        unitPrice: decimal(l.unitPrice),
        discount: decimal(l.discount),
        amount: magnitude(l.netAmount),
      })),
      ...(returns && {
        returns: returns.map((r) => ({
          saleId: r.saleId,
          occurredAt: r.occurredAt.toISOString(),
          total: magnitude(r.netTotal),
        })),
      }),
      streamSeq: row.sale.streamSeq,
      ...(row.sale.requestId !== null && { requestId: row.sale.requestId }),
    };
  }

  async list(query: ListSalesQuery): Promise<SalesPage> {
    const newestFirst = (query.order ?? 'desc') === 'desc';
    const conditions: (SQL | undefined)[] = [
      query.branchId === undefined ? undefined : eq(sales.branchId, query.branchId),
      query.customerId === undefined ? undefined : eq(sales.customerId, query.customerId),
      query.from === undefined ? undefined : gte(sales.occurredAt, query.from),
      query.to === undefined ? undefined : lt(sales.occurredAt, query.to),
    ];
    if (query.after) {
      const { occurredAt, saleId } = query.after;
      conditions.push(
        newestFirst
          ? sql`(${sales.occurredAt}, ${sales.saleId}) < (${occurredAt}::timestamptz, ${saleId})`
          : sql`(${sales.occurredAt}, ${sales.saleId}) > (${occurredAt}::timestamptz, ${saleId})`,
      );
    }
    const direction = newestFirst ? desc : asc;
    const rows = await this.postgres.db
      .select({ sale: sales, returned: returnedSql, position: positionSql })
      .from(sales)
      .where(and(...conditions))
      .orderBy(direction(sales.occurredAt), direction(sales.saleId))
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => summary(r.sale, r.returned)),
      ...(rows.length > query.limit &&
        last && { next: { occurredAt: last.position, saleId: last.sale.saleId } }),
    };
  }

  /** The branch of each of `ids` that is stored (absent ids are left out). */
  async storedBranches(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.postgres.db
      .select({ id: sales.saleId, branchId: sales.branchId })
      .from(sales)
      .where(inArray(sales.saleId, [...ids]));
    return new Map(rows.map((r) => [r.id, r.branchId]));
  }

  /** Sale ids of `ids` that are stored: for tests and reconciliation. */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.postgres.db
      .select({ id: sales.saleId })
      .from(sales)
      .where(inArray(sales.saleId, [...ids]));
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Per branch and UTC day of occurred_at in [from, to): count, exact net sum (returns negative)
   * and the digest of the sale ids: the XOR over the ids of the first 60 bits of sha256(id), as 15
   * hex digits. The Spanner store computes the very same rows (@tally/spanner
   * SpannerSalesRepository.dailyTotals, reference implementation `saleIdsDigest`), so the two
   * compare with equality; ordered by branch, then day.
   */
  async dailyTotals(query: DailyTotalsQuery): Promise<DailyTotal[]> {
    const { rows } = await this.postgres.pool.query<{
      branch_id: string;
      day: string;
      count: number;
      net_total: string;
      digest: string;
    }>(
      `SELECT branch_id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS count,
              sum(net_total)::text AS net_total,
              lpad(to_hex(bit_xor(('x' || substr(encode(sha256(convert_to(sale_id, 'UTF8')), 'hex'), 1, 15))::bit(60)::bigint)), 15, '0') AS digest
       FROM sales
       WHERE occurred_at >= $1 AND occurred_at < $2 AND ($3::text IS NULL OR branch_id = $3)
       GROUP BY 1, 2`,
      [query.from, query.to, query.branchId ?? null],
    );
    return rows
      .map((r) => ({
        branchId: r.branch_id,
        day: r.day,
        count: r.count,
        netTotal: decimal(r.net_total),
        digest: r.digest,
      }))
      .sort((a, b) =>
        a.branchId !== b.branchId
          ? a.branchId < b.branchId
            ? -1
            : 1
          : a.day < b.day
            ? -1
            : a.day > b.day
              ? 1
              : 0,
      );
  }

  /** The sale ids of one branch and UTC day (`YYYY-MM-DD`), in code-point order. */
  async saleIds(query: { branchId: string; day: string }): Promise<string[]> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(query.day)) {
      throw new RangeError(`day ${JSON.stringify(query.day)} is not a calendar date YYYY-MM-DD`);
    }
    const { rows } = await this.postgres.pool.query<{ sale_id: string }>(
      `SELECT sale_id FROM sales
       WHERE branch_id = $1 AND occurred_at >= ($2::date)::timestamp AT TIME ZONE 'UTC'
         AND occurred_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
       ORDER BY sale_id COLLATE "C"`,
      [query.branchId, query.day],
    );
    return rows.map((r) => r.sale_id);
  }

  /**
   * Sale id and signed net total of one branch's sales with occurredAt in [from, to), in
   * code-point order of the id: what reconciliation compares sale by sale once a day's totals
   * differ. Spanner's SpannerSalesRepository.saleTotals returns the same rows for the same sales.
   */
  async saleTotals(query: BranchRangeQuery): Promise<SaleNetTotal[]> {
    const { rows } = await this.postgres.pool.query<{ sale_id: string; net_total: string }>(
      `SELECT sale_id, net_total::text AS net_total FROM sales
       WHERE branch_id = $1 AND occurred_at >= $2 AND occurred_at < $3
       ORDER BY sale_id COLLATE "C"`,
      [query.branchId, query.from, query.to],
    );
    return rows.map((r) => ({ saleId: r.sale_id, netTotal: decimal(r.net_total) }));
  }

  /**
   * The stored sales of `saleIds` as the stream carried them (amounts as magnitudes, lines in
   * order), with their stream sequence and request id: what a repair copies into the other store.
   * In the order asked; ids not stored are left out. Instants come back in UTC in
   * `toISOString()` form, with the digits past the millisecond kept where stored (Postgres keeps
   * microseconds), exactly as SpannerSalesRepository.findSales writes them. One statement, so a
   * sale and its lines are read from the same snapshot.
   */
  async findSales(saleIds: readonly string[]): Promise<StreamedSale[]> {
    const ids = [...new Set(saleIds)];
    if (ids.length === 0) return [];
    const found = new Map<string, StreamedSale>();
    for (let i = 0; i < ids.length; i += FIND_CHUNK) {
      const { rows } = await this.postgres.pool.query<StoredSaleRow>(FIND_SALES, [
        ids.slice(i, i + FIND_CHUNK),
      ]);
      for (const row of rows) found.set(row.sale_id, streamedSale(row));
    }
    return ids.flatMap((id) => found.get(id) ?? []);
  }
}

/** Sale ids per statement in findSales. */
const FIND_CHUNK = 1_000;

const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** A sale row with its lines as JSON (money as text, so no float ever holds it). */
const FIND_SALES = `
SELECT s.sale_id, s.kind, s.original_sale_id, s.branch_id, s.register_id, s.cashier_id, s.customer_id,
       s.buyer_country, s.seller_country, s.payment_method,
       to_char(s.occurred_at AT TIME ZONE 'UTC', ${UTC_TEXT}) AS occurred_at,
       to_char(s.received_at AT TIME ZONE 'UTC', ${UTC_TEXT}) AS received_at,
       s.currency, s.net_total::text AS net_total, s.stream_seq, s.request_id,
       coalesce((SELECT json_agg(json_build_object(
                  'lineNo', l.line_no, 'productId', l.product_id, 'productName', l.product_name,
                  'category', l.category, 'brand', l.brand, 'quantity', l.quantity,
                  'unitPrice', l.unit_price::text, 'discount', l.discount::text,
                  'netAmount', l.net_amount::text) ORDER BY l.line_no)
                 FROM sale_lines l WHERE l.sale_id = s.sale_id), '[]'::json) AS lines
FROM sales s
WHERE s.sale_id = ANY($1::text[])`;

interface StoredSaleRow {
  sale_id: string;
  kind: SaleKind;
  original_sale_id: string | null;
  branch_id: string;
  register_id: string | null;
  cashier_id: string | null;
  customer_id: string | null;
  buyer_country: string | null;
  seller_country: string | null;
  payment_method: string | null;
  occurred_at: string;
  received_at: string;
  currency: string;
  net_total: string;
  /** bigint: node-postgres hands it back as text. */
  stream_seq: string | number;
  request_id: string | null;
  lines: {
    lineNo: number;
    productId: string;
    productName: string | null;
    category: string;
    brand: string | null;
    quantity: number;
    unitPrice: string;
    discount: string;
    netAmount: string;
  }[];
}

function streamedSale(row: StoredSaleRow): StreamedSale {
  const sale: Sale = {
    saleId: row.sale_id,
    kind: row.kind,
    ...optional('originalSaleId', row.original_sale_id),
    branchId: row.branch_id,
    ...optional('registerId', row.register_id),
    ...optional('cashierId', row.cashier_id),
    ...optional('customerId', row.customer_id),
    occurredAt: isoInstant(row.occurred_at),
    currency: row.currency,
    ...optional('buyerCountry', row.buyer_country),
    ...optional('sellerCountry', row.seller_country),
    ...optional('paymentMethod', row.payment_method),
    lines: row.lines.map(
      (l): SaleLine => ({
        lineNo: l.lineNo,
        productId: l.productId,
        ...optional('productName', l.productName),
        category: l.category,
        ...optional('brand', l.brand),
        quantity: l.quantity,
        unitPrice: decimal(l.unitPrice),
        discount: decimal(l.discount),
        amount: magnitude(l.netAmount),
      }),
    ),
    total: magnitude(row.net_total),
    receivedAt: isoInstant(row.received_at),
  };
  return {
    sale,
    streamSeq: Number(row.stream_seq),
    ...(row.request_id !== null && { requestId: row.request_id }),
  };
}

/** `2026-03-01T09:15:00.120000Z` → `2026-03-01T09:15:00.120Z`; `...00.123456Z` stays. */
function isoInstant(text: string): string {
  const match = /^(.*T\d{2}:\d{2}:\d{2})\.(\d+)Z$/.exec(text);
  if (!match) return text;
  return `${match[1]}.${match[2]!.replace(/0+$/, '').padEnd(3, '0')}Z`;
}

function summary(row: SaleRow, returned: string): SaleSummary {
  const isSale = row.kind === 'sale';
  const total = signedToUnits(row.netTotal);
  const returnedUnits = signedToUnits(String(returned));
  return {
    saleId: row.saleId,
    kind: row.kind,
    ...optional('originalSaleId', row.originalSaleId),
    branchId: row.branchId,
    ...optional('registerId', row.registerId),
    ...optional('cashierId', row.cashierId),
    ...optional('customerId', row.customerId),
    ...optional('buyerCountry', row.buyerCountry),
    ...optional('sellerCountry', row.sellerCountry),
    ...optional('paymentMethod', row.paymentMethod),
    occurredAt: row.occurredAt.toISOString(),
    receivedAt: row.receivedAt.toISOString(),
    storedAt: row.storedAt.toISOString(),
    currency: row.currency,
    total: fromUnits(total < 0n ? -total : total),
    lineCount: row.lineCount,
    ...(isSale && { returnedTotal: fromUnits(returnedUnits) }),
    netTotal: fromUnits(isSale ? total - returnedUnits : total),
  };
}

function optional<K extends string>(key: K, value: string | null): { [P in K]?: string } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: string };
}

/** numeric(19,4) text ("3.9800") as a canonical decimal ("3.98"). */
function decimal(text: string): string {
  return fromUnits(signedToUnits(text));
}

function magnitude(text: string): string {
  const units = signedToUnits(text);
  return fromUnits(units < 0n ? -units : units);
}
