import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/**
 * One row per receipt, as the sales stream carries it (see @tally/contracts `Sale`).
 *
 * Money columns are `numeric(19,4)`: exact, and wide enough for the contract's 11 integer and 4
 * fractional digits summed over many receipts. Columns named `net_*` are SIGNED: a return's
 * total is stored negative, so `SUM(net_total)` over any set of rows is the revenue, with no
 * CASE on `kind`. The stream carries magnitudes; the read API turns them back.
 */
const money = (name: string) => numeric(name, { precision: 19, scale: 4 });
const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const sales = pgTable(
  'sales',
  {
    saleId: text('sale_id').primaryKey(),
    kind: text('kind', { enum: ['sale', 'return'] }).notNull(),
    /** For returns: the sale it reverses. No foreign key: a return may arrive before its sale. */
    originalSaleId: text('original_sale_id'),
    branchId: text('branch_id').notNull(),
    registerId: text('register_id'),
    cashierId: text('cashier_id'),
    customerId: text('customer_id'),
    buyerCountry: text('buyer_country'),
    sellerCountry: text('seller_country'),
    paymentMethod: text('payment_method'),
    occurredAt: instant('occurred_at').notNull(),
    receivedAt: instant('received_at').notNull(),
    currency: text('currency').notNull(),
    /** Sum of the lines' net amounts; negative for a return. */
    netTotal: money('net_total').notNull(),
    lineCount: integer('line_count').notNull(),
    /** Sequence of the stream message the sale came in: where to look when tracing it. */
    streamSeq: bigint('stream_seq', { mode: 'number' }).notNull(),
    /** Request id of the HTTP call that brought it (Tally-Request-Id header). */
    requestId: text('request_id'),
    storedAt: instant('stored_at').notNull().defaultNow(),
  },
  (t) => [
    index('sales_branch_occurred_idx').on(t.branchId, t.occurredAt, t.saleId),
    index('sales_occurred_idx').on(t.occurredAt, t.saleId),
    index('sales_customer_occurred_idx')
      .on(t.customerId, t.occurredAt)
      .where(sql`${t.customerId} IS NOT NULL`),
    index('sales_original_sale_idx').on(t.originalSaleId).where(sql`${t.originalSaleId} IS NOT NULL`),
    check('sales_kind_check', sql`${t.kind} IN ('sale', 'return')`),
    check('sales_return_has_original_check', sql`${t.kind} = 'sale' OR ${t.originalSaleId} IS NOT NULL`),
    check(
      'sales_net_total_sign_check',
      sql`(${t.kind} = 'sale' AND ${t.netTotal} >= 0) OR (${t.kind} = 'return' AND ${t.netTotal} <= 0)`,
    ),
    check('sales_currency_check', sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check('sales_line_count_check', sql`${t.lineCount} >= 1`),
  ],
);

/**
 * One row per receipt line, keyed by (sale_id, line_no). Lines are only ever written by the same
 * statement as their sale (see sales-write.repository.ts), so a line never exists without its
 * sale; there is no foreign key because it would add a lookup per inserted line on the hot path.
 */
export const saleLines = pgTable(
  'sale_lines',
  {
    saleId: text('sale_id').notNull(),
    lineNo: integer('line_no').notNull(),
    productId: text('product_id').notNull(),
    productName: text('product_name'),
    category: text('category').notNull(),
    brand: text('brand'),
    quantity: integer('quantity').notNull(),
    unitPrice: money('unit_price').notNull(),
    discount: money('discount').notNull(),
    /** quantity × unit_price − discount (or the source's own amount); negative for a return. */
    netAmount: money('net_amount').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.saleId, t.lineNo] }),
    index('sale_lines_product_idx').on(t.productId),
    check('sale_lines_line_no_check', sql`${t.lineNo} >= 1`),
    check('sale_lines_quantity_check', sql`${t.quantity} >= 1`),
    check('sale_lines_prices_check', sql`${t.unitPrice} >= 0 AND ${t.discount} >= 0`),
  ],
);

export type SaleRow = typeof sales.$inferSelect;
export type SaleLineRow = typeof saleLines.$inferSelect;
