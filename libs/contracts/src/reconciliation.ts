/**
 * What every store reports about its sales for reconciliation (apps/reconcile), so Postgres and
 * Spanner answer in the same shape and their rows compare with plain equality.
 */

/** One branch's sales of one UTC day. */
export interface DailyTotal {
  readonly branchId: string;
  /** UTC day of occurredAt, `YYYY-MM-DD`. */
  readonly day: string;
  readonly count: number;
  /** Exact signed sum of the sales' totals (returns negative), canonical decimal: "1234.5". */
  readonly netTotal: string;
  /** XOR over the sale ids of the first 60 bits of sha256(id) (saleIdsDigest in @tally/spanner): 15 hex digits. */
  readonly digest: string;
}

export interface DailyTotalsQuery {
  /** Inclusive lower bound on occurredAt; pass a UTC midnight to get whole days. */
  readonly from: Date;
  /** Exclusive upper bound on occurredAt. */
  readonly to: Date;
  readonly branchId?: string;
}

/** One sale's id and signed net total (returns negative), canonical decimal. */
export interface SaleNetTotal {
  readonly saleId: string;
  readonly netTotal: string;
}

/** One branch's sales with occurredAt in [from, to). */
export interface BranchRangeQuery {
  readonly branchId: string;
  /** Inclusive lower bound on occurredAt. */
  readonly from: Date;
  /** Exclusive upper bound on occurredAt. */
  readonly to: Date;
}
