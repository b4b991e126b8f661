import type { StreamedSale } from '@tally/contracts';
import type { Settler } from '@tally/nats';

/**
 * The seam for what else the aggregator does with a batch before acking it (the ClickHouse
 * flush). A sink receives every sale of the batch, including sales of redelivered messages
 * that the windows skipped (they may not have reached the sink before a crash), so it must be
 * idempotent per sale. The messages are acked once every sink's `durable` resolved; the loop
 * goes on fetching meanwhile, and `accept` itself waits when the sink has no room
 * (back-pressure).
 */
export interface FoldedBatch {
  readonly sales: readonly StreamedSale[];
  /**
   * The batch's messages, as settlers (settlerOf: without their payloads, which a sink holding
   * them for seconds would keep alive): a sink may keep them from redelivery (working()) while it
   * retries; never ack them.
   */
  readonly messages: readonly Settler[];
}

export interface Durable {
  readonly durable: Promise<void>;
}

export interface FoldedBatchSink {
  readonly name: string;
  accept(batch: FoldedBatch): Promise<Durable>;
  /** Stores what it holds; called at shutdown, after the last accept. */
  close(): Promise<void>;
}

export const FOLDED_BATCH_SINKS = Symbol('FOLDED_BATCH_SINKS');
