import { type StreamedSale, timestampMs } from '@tally/contracts';

/** One row of `sale_lines` (clickhouse/migrations/0001, 0004); saleLineJson encodes it for the insert. */
export interface SaleLineRow {
  readonly sale_id: string;
  readonly line_no: number;
  readonly kind: 'sale' | 'return';
  readonly sign: 1 | -1;
  readonly original_sale_id: string;
  readonly branch_id: string;
  readonly register_id: string;
  readonly cashier_id: string;
  readonly customer_id: string;
  readonly buyer_country: string;
  readonly seller_country: string;
  readonly payment_method: string;
  readonly currency: string;
  readonly product_id: string;
  readonly product_name: string;
  readonly category: string;
  readonly brand: string;
  readonly quantity: number;
  readonly unit_price: string;
  readonly discount: string;
  readonly amount: string;
  readonly net_quantity: number;
  readonly net_amount: string;
  readonly occurred_at: string;
  readonly received_at: string;
  readonly stream_seq: number;
  /** ReplacingMergeTree keeps the highest version: the earliest stream message wins, as in Postgres. */
  readonly version: number;
}

/** The sale's lines as rows: money as decimal text (exact), signed net figures for returns. */
export function saleLineRows({ sale, streamSeq }: StreamedSale): SaleLineRow[] {
  const sign = sale.kind === 'return' ? -1 : 1;
  const occurredAt = clickHouseTime(sale.occurredAt);
  const receivedAt = clickHouseTime(sale.receivedAt);
  return sale.lines.map((line) => ({
    sale_id: sale.saleId,
    line_no: line.lineNo,
    kind: sale.kind,
    sign,
    original_sale_id: sale.originalSaleId ?? '',
    branch_id: sale.branchId,
    register_id: sale.registerId ?? '',
    cashier_id: sale.cashierId ?? '',
    customer_id: sale.customerId ?? '',
    buyer_country: sale.buyerCountry ?? '',
    seller_country: sale.sellerCountry ?? '',
    payment_method: sale.paymentMethod ?? '',
    currency: sale.currency,
    product_id: line.productId,
    product_name: line.productName ?? '',
    category: line.category,
    brand: line.brand ?? '',
    quantity: line.quantity,
    unit_price: line.unitPrice,
    discount: line.discount,
    amount: line.amount,
    net_quantity: sign * line.quantity,
    net_amount: sign < 0 && line.amount !== '0' ? `-${line.amount}` : line.amount,
    occurred_at: occurredAt,
    received_at: receivedAt,
    stream_seq: streamSeq,
    version: Number.MAX_SAFE_INTEGER - streamSeq,
  }));
}

/** The columns the flusher writes, in the order its lines list them (inserted_at: its default). */
export const SALE_LINE_COLUMNS = [
  'sale_id',
  'line_no',
  'kind',
  'sign',
  'original_sale_id',
  'branch_id',
  'register_id',
  'cashier_id',
  'customer_id',
  'buyer_country',
  'seller_country',
  'payment_method',
  'currency',
  'product_id',
  'product_name',
  'category',
  'brand',
  'quantity',
  'unit_price',
  'discount',
  'amount',
  'net_quantity',
  'net_amount',
  'occurred_at',
  'received_at',
  'stream_seq',
  'version',
] as const satisfies readonly (keyof SaleLineRow)[];

/** A row as one JSONCompactEachRow line (without the newline): its values in SALE_LINE_COLUMNS order. */
export function saleLineJson(r: SaleLineRow): string {
  return JSON.stringify(SALE_LINE_COLUMNS.map((column) => r[column]));
}

/**
 * A sale's rows as JSONCompactEachRow lines, each ending in a newline: exactly
 * `saleLineRows(s).map(saleLineJson)` joined with newlines (a unit test holds them equal),
 * without the row objects, and the sale's timestamps converted once for all its lines. One
 * JSON.stringify of a flat array per line: cheaper than a call per value (measured 2.0 against
 * 6.2 µs a two-line sale).
 */
export function saleLinesJson({ sale, streamSeq }: StreamedSale): string {
  const isReturn = sale.kind === 'return';
  const sign = isReturn ? -1 : 1;
  const occurredAt = clickHouseTime(sale.occurredAt);
  const receivedAt = clickHouseTime(sale.receivedAt);
  const version = Number.MAX_SAFE_INTEGER - streamSeq;
  let text = '';
  for (const line of sale.lines) {
    text += `${JSON.stringify([
      sale.saleId,
      line.lineNo,
      sale.kind,
      sign,
      sale.originalSaleId ?? '',
      sale.branchId,
      sale.registerId ?? '',
      sale.cashierId ?? '',
      sale.customerId ?? '',
      sale.buyerCountry ?? '',
      sale.sellerCountry ?? '',
      sale.paymentMethod ?? '',
      sale.currency,
      line.productId,
      line.productName ?? '',
      line.category,
      line.brand ?? '',
      line.quantity,
      line.unitPrice,
      line.discount,
      line.amount,
      sign * line.quantity,
      isReturn && line.amount !== '0' ? `-${line.amount}` : line.amount,
      occurredAt,
      receivedAt,
      streamSeq,
      version,
    ])}\n`;
  }
  return text;
}

/** RFC 3339 (any offset) → `YYYY-MM-DD hh:mm:ss.sss` in UTC, what DateTime64(3, 'UTC') parses. */
export function clickHouseTime(rfc3339: string): string {
  // Already UTC with milliseconds (every receivedAt ingest stamps): no Date round trip.
  const utc = rfc3339.length === 24 && rfc3339.charCodeAt(23) === 90 && rfc3339.charCodeAt(19) === 46;
  const iso = utc ? rfc3339 : new Date(timestampMs(rfc3339)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}
