import { Spanner } from '@google-cloud/spanner';
import type { StreamedSale } from '@tally/contracts';
import { saleShard } from './shard.js';

/**
 * How a sale becomes Spanner rows, what writing it costs, and how a batch is cut into commits.
 * Pure functions: the repository only sends what they produce.
 */

/** Columns of `Sales`, in the order of ddl/0001. Every mutation writes all of them. */
export const SALE_COLUMNS = [
  'Shard',
  'SaleId',
  'Kind',
  'OriginalSaleId',
  'BranchId',
  'RegisterId',
  'CashierId',
  'CustomerId',
  'BuyerCountry',
  'SellerCountry',
  'PaymentMethod',
  'OccurredAt',
  'ReceivedAt',
  'Currency',
  'NetTotal',
  'LineCount',
  'StreamSeq',
  'RequestId',
  'StoredAt',
] as const;

export const SALE_LINE_COLUMNS = [
  'Shard',
  'SaleId',
  'LineNo',
  'ProductId',
  'ProductName',
  'Category',
  'Brand',
  'Quantity',
  'UnitPrice',
  'Discount',
  'NetAmount',
] as const;

/** Secondary indexes on `Sales`: each costs one more mutation per sale written. */
export const SALES_INDEXES = ['SalesByBranchOccurred'] as const;

/** Spanner's limit of mutations in one commit. */
export const SPANNER_MAX_MUTATIONS = 80_000;
/** Our cap on the bytes of one commit: Spanner's limit is 100 MiB; we stay well below. */
export const DEFAULT_MAX_COMMIT_BYTES = 32 * 1024 * 1024;

export type SaleRow = Record<(typeof SALE_COLUMNS)[number], string | number | null>;
export type SaleLineRow = Record<(typeof SALE_LINE_COLUMNS)[number], string | number | null>;

export interface SaleRows {
  readonly sale: SaleRow;
  readonly lines: readonly SaleLineRow[];
}

/**
 * The rows of one sale. Optional fields are written as explicit NULLs, so every row has every
 * column (one column list per mutation) and an upsert leaves no value of an earlier write behind.
 * Money is signed as in Postgres (a return's total and lines negative); timestamps are converted
 * to UTC with every fractional digit kept; StoredAt is the commit timestamp.
 */
export function saleRows({ sale, streamSeq, requestId }: StreamedSale): SaleRows {
  const shard = saleShard(sale.saleId);
  const sign = sale.kind === 'return' ? -1 : 1;
  return {
    sale: {
      Shard: shard,
      SaleId: sale.saleId,
      Kind: sale.kind,
      OriginalSaleId: sale.originalSaleId ?? null,
      BranchId: sale.branchId,
      RegisterId: sale.registerId ?? null,
      CashierId: sale.cashierId ?? null,
      CustomerId: sale.customerId ?? null,
      BuyerCountry: sale.buyerCountry ?? null,
      SellerCountry: sale.sellerCountry ?? null,
      PaymentMethod: sale.paymentMethod ?? null,
      OccurredAt: toSpannerTimestamp(sale.occurredAt),
      ReceivedAt: toSpannerTimestamp(sale.receivedAt),
      Currency: sale.currency,
      NetTotal: signed(sale.total, sign),
      LineCount: sale.lines.length,
      StreamSeq: streamSeq,
      RequestId: requestId ?? null,
      StoredAt: Spanner.COMMIT_TIMESTAMP,
    },
    lines: sale.lines.map((line) => ({
      Shard: shard,
      SaleId: sale.saleId,
      LineNo: line.lineNo,
      ProductId: line.productId,
      ProductName: line.productName ?? null,
      Category: line.category,
      Brand: line.brand ?? null,
      Quantity: line.quantity,
      UnitPrice: line.unitPrice,
      Discount: line.discount,
      NetAmount: signed(line.amount, sign),
    })),
  };
}

/** A canonical magnitude with the sale's sign ("0" stays "0"). */
function signed(amount: string, sign: 1 | -1): string {
  return sign === 1 || amount === '0' ? amount : `-${amount}`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * RFC 3339 with any offset → the UTC form Spanner requires (it refuses anything but a literal
 * `Z`), keeping every fractional digit (Date would cut them to milliseconds). A value that is not
 * RFC 3339 is passed on unchanged for Spanner to refuse.
 */
export function toSpannerTimestamp(text: string): string {
  const match = RFC3339.exec(text);
  if (!match) return text;
  const [, seconds, fraction = '', offset] = match;
  const ms = Date.parse(`${seconds}${offset!.toUpperCase()}`);
  if (Number.isNaN(ms)) return text;
  return `${new Date(ms).toISOString().slice(0, 19)}${fraction}Z`;
}

export interface WriteCost {
  readonly mutations: number;
  readonly bytes: number;
}

/**
 * What writing one sale costs against a commit's limits. Mutations as Spanner counts them for
 * inserts and updates: one per column written per row, plus one per secondary index entry. Bytes
 * are an estimate of the commit's size: every value as it travels (UTF-8 text, 8 bytes for a
 * number or the commit-timestamp marker) plus the index entry's columns.
 */
export function saleWriteCost(streamed: StreamedSale): WriteCost {
  return rowsWriteCost(saleRows(streamed));
}

export function rowsWriteCost({ sale, lines }: SaleRows): WriteCost {
  let bytes = rowBytes(sale);
  for (const line of lines) bytes += rowBytes(line);
  // SalesByBranchOccurred: BranchId, OccurredAt, NetTotal and the key (Shard, SaleId).
  bytes += SALES_INDEXES.length * (rowBytes({ b: sale.BranchId, s: sale.SaleId, n: sale.NetTotal }) + 8 + 8);
  return {
    mutations: SALE_COLUMNS.length + SALES_INDEXES.length + lines.length * SALE_LINE_COLUMNS.length,
    bytes,
  };
}

function rowBytes(row: Record<string, string | number | null>): number {
  let bytes = 0;
  for (const value of Object.values(row)) {
    if (typeof value === 'number' || value === Spanner.COMMIT_TIMESTAMP) bytes += 8;
    else if (typeof value === 'string') bytes += Buffer.byteLength(value, 'utf8');
  }
  return bytes;
}

export interface CommitLimits {
  /** Mutations per commit (Spanner: 80,000). */
  readonly maxMutations: number;
  /** Estimated bytes per commit (Spanner: 100 MiB). */
  readonly maxBytes: number;
}

/**
 * Cuts sales into consecutive commits, in order, each within the limits, never splitting a sale
 * (a sale and its lines are always stored together). A sale that alone exceeds a limit gets a
 * commit of its own, for Spanner to refuse: the caller's error handling then isolates it. With
 * Spanner's own limit that cannot happen to a valid sale (at most 1,000 lines: 20 + 11 × 1,000
 * mutations).
 */
export function splitIntoCommits(sales: readonly StreamedSale[], limits: CommitLimits): StreamedSale[][] {
  return packCommits(sales, saleWriteCost, limits);
}

/** splitIntoCommits over anything that knows its cost (the repository packs prepared rows). */
export function packCommits<T>(
  items: readonly T[],
  costOf: (item: T) => WriteCost,
  limits: CommitLimits,
): T[][] {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  }
  const commits: T[][] = [];
  let current: T[] = [];
  let mutations = 0;
  let bytes = 0;
  for (const item of items) {
    const cost = costOf(item);
    if (
      current.length > 0 &&
      (mutations + cost.mutations > limits.maxMutations || bytes + cost.bytes > limits.maxBytes)
    ) {
      commits.push(current);
      current = [];
      mutations = 0;
      bytes = 0;
    }
    current.push(item);
    mutations += cost.mutations;
    bytes += cost.bytes;
  }
  if (current.length > 0) commits.push(current);
  return commits;
}

/** The sales with each saleId once, first occurrence wins (as Postgres's ON CONFLICT DO NOTHING). */
export function uniqueSales(sales: readonly StreamedSale[]): StreamedSale[] {
  const seen = new Set<string>();
  return sales.filter(({ sale }) => {
    if (seen.has(sale.saleId)) return false;
    seen.add(sale.saleId);
    return true;
  });
}
