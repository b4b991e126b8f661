import { fromUnits, type SaleKind, type SaleLine, signedToUnits } from '@tally/contracts';
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

  /** Sale ids of `ids` that are stored: for tests and reconciliation. */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.postgres.db
      .select({ id: sales.saleId })
      .from(sales)
      .where(inArray(sales.saleId, [...ids]));
    return new Set(rows.map((r) => r.id));
  }
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
