import type { StreamedSale } from '@tally/contracts';
import type { PostgresClient } from './postgres.client.js';

/** A sale with where it came from on the stream. */
export type SaleToStore = StreamedSale;

export interface InsertResult {
  /** Sales newly stored. */
  readonly inserted: number;
  /** Sales skipped because their saleId was already stored (redelivery, resend). */
  readonly duplicates: number;
  readonly lines: number;
}

/**
 * The writer's one statement: every sale of a batch and their lines, in a single round trip.
 *
 * Columns travel as one array parameter each and are expanded by `unnest`, so the statement text
 * (and its server-side plan, prepared once per connection) is the same for any batch size. The
 * sales insert skips sale ids already stored (`ON CONFLICT DO NOTHING`) and RETURNs the ones it
 * stored; the lines insert takes only lines of those, so a redelivered or resent sale adds
 * nothing, not even lines. One statement is one transaction: the batch is stored whole or not at
 * all, and the caller acks only after it returns.
 *
 * drizzle's insert builder would bind every value as its own parameter (one placeholder per
 * column per row, a new statement text per batch size, and Postgres's 65,535-parameter limit);
 * this hand-written statement is the one place the hot path leaves the query builder.
 */
const INSERT_SALES = `
WITH stored AS (
  INSERT INTO sales (sale_id, kind, original_sale_id, branch_id, register_id, cashier_id, customer_id,
                     buyer_country, seller_country, payment_method, occurred_at, received_at, currency,
                     net_total, line_count, stream_seq, request_id)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[],
                       $14::numeric[], $15::int[], $16::bigint[], $17::text[])
  ON CONFLICT (sale_id) DO NOTHING
  RETURNING sale_id
), lines AS (
  INSERT INTO sale_lines (sale_id, line_no, product_id, product_name, category, brand, quantity,
                          unit_price, discount, net_amount)
  SELECT l.* FROM unnest($18::text[], $19::int[], $20::text[], $21::text[], $22::text[], $23::text[],
                         $24::int[], $25::numeric[], $26::numeric[], $27::numeric[])
         AS l(sale_id, line_no, product_id, product_name, category, brand, quantity, unit_price, discount, net_amount)
  WHERE l.sale_id IN (SELECT sale_id FROM stored)
  RETURNING 1
)
SELECT (SELECT count(*) FROM stored)::int AS sales, (SELECT count(*) FROM lines)::int AS lines`;

/** The statement's parameters for a batch: one array per column. Exported for the benchmark. */
export function insertParameters(batch: readonly SaleToStore[]): unknown[][] {
  const s: unknown[][] = Array.from({ length: 17 }, () => []);
  const l: unknown[][] = Array.from({ length: 10 }, () => []);
  const seen = new Set<string>();
  for (const { sale, streamSeq, requestId } of batch) {
    // The same sale twice in one batch (a resend packed next to the original): first one wins,
    // exactly as ON CONFLICT treats a resend in a later batch.
    if (seen.has(sale.saleId)) continue;
    seen.add(sale.saleId);
    const sign = sale.kind === 'return' ? -1 : 1;
    push(s, [
      sale.saleId,
      sale.kind,
      sale.originalSaleId ?? null,
      sale.branchId,
      sale.registerId ?? null,
      sale.cashierId ?? null,
      sale.customerId ?? null,
      sale.buyerCountry ?? null,
      sale.sellerCountry ?? null,
      sale.paymentMethod ?? null,
      sale.occurredAt,
      sale.receivedAt,
      sale.currency,
      signed(sale.total, sign),
      sale.lines.length,
      streamSeq,
      requestId ?? null,
    ]);
    for (const line of sale.lines) {
      push(l, [
        sale.saleId,
        line.lineNo,
        line.productId,
        line.productName ?? null,
        line.category,
        line.brand ?? null,
        line.quantity,
        line.unitPrice,
        line.discount,
        signed(line.amount, sign),
      ]);
    }
  }
  return [...s, ...l];
}

function push(columns: unknown[][], values: unknown[]): void {
  for (let i = 0; i < values.length; i++) columns[i]!.push(values[i]);
}

/** A canonical magnitude with the sale's sign ("0" stays "0"). */
function signed(amount: string, sign: 1 | -1): string {
  return sign === 1 || amount === '0' ? amount : `-${amount}`;
}

export class SalesWriteRepository {
  constructor(private readonly postgres: PostgresClient) {}

  /** Stores the batch in one statement (one transaction); idempotent by saleId. */
  async insert(batch: readonly SaleToStore[]): Promise<InsertResult> {
    if (batch.length === 0) return { inserted: 0, duplicates: 0, lines: 0 };
    return this.insertPrepared(insertParameters(batch), batch.length);
  }

  /** The same statement from prebuilt parameters: what the benchmark's bare-insert baseline times. */
  async insertPrepared(parameters: unknown[][], sales: number): Promise<InsertResult> {
    const { rows } = await this.postgres.pool.query<{ sales: number; lines: number }>({
      name: 'tally_insert_sales_v1',
      text: INSERT_SALES,
      values: parameters,
    });
    const inserted = rows[0]?.sales ?? 0;
    return { inserted, duplicates: sales - inserted, lines: rows[0]?.lines ?? 0 };
  }
}
