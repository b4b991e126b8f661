import type { StreamedSale } from '@tally/contracts';

/** What a store has to offer to be driven by a SinkWorker. One instance per process and store. */
export interface SaleSink {
  /** `postgres`, `spanner`: the dead-letter subject token and the metrics label. */
  readonly name: string;
  /**
   * Stores the sales in ONE transaction, skipping sale ids already stored (idempotent: the same
   * sale may come again after a crash, a redelivery or a client's resend). Resolves only once
   * the transaction committed; rejects if nothing was stored.
   */
  write(sales: readonly StreamedSale[]): Promise<WriteResult>;
  /** True if retrying these same sales can never succeed (bad value, constraint): dead-letter them. */
  isPermanent(error: unknown): boolean;
  /** One line for logs and dead letters. */
  describe(error: unknown): string;
  /** Resolves when the store answers again; used to wait out an outage before fetching more. */
  probe(): Promise<void>;
  /** Records a dead letter in the store's own table (best effort: the dead-letter stream is the durable copy). */
  recordDeadLetter(letter: DeadLetter): Promise<void>;
  close(): Promise<void>;
}

export interface WriteResult {
  /** Sales newly stored. */
  readonly inserted: number;
  /** Sales already there (stored by an earlier delivery). */
  readonly duplicates: number;
  /** Rows written in all (sales and their lines), for throughput figures. */
  readonly rows: number;
}

export interface DeadLetter {
  readonly sink: string;
  readonly stream: string;
  readonly streamSeq: number;
  /** The refused sale when the message held others that were stored; '' for the whole message. */
  readonly saleId: string;
  readonly subject: string;
  readonly requestId: string | null;
  readonly deliveries: number;
  readonly reason: string;
  readonly payload: Uint8Array;
}
