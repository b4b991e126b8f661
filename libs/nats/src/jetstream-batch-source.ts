import type { Consumer } from '@nats-io/jetstream';
import type { BatchSource, ConsumerState, InboundMessage } from './inbound-message.js';

/** The sales stream's max_msg_size: the size assumed before any message has been seen. */
const LARGEST_MESSAGE = 1024 * 1024;
/** Never assume messages smaller than this when sizing a pull (headers and subject alone take ~100). */
const SMALLEST_MESSAGE = 128;

/**
 * Batches from a durable pull consumer: one `fetch` per batch, bounded by message count and by
 * time (the pull's expiry: a partly filled batch is returned when it expires).
 *
 * The count adapts to a byte budget: each pull asks for `maxBytes / (mean size of the previous
 * pull's messages)` messages, at most `maxMessages`. One-sale messages (~500 bytes) thus come
 * 1,000 at a time, while 500-sale envelopes (~200 KiB) come a handful at a time, and memory stays
 * near the budget however ingest packed the sales.
 *
 * Why not nats.js's own byte-bounded fetch (`max_bytes`): it silently adds a 100-message limit
 * to the pull and only considers it done when both limits are used up; the server ends the pull
 * at 100 messages, and the client then waits for missed heartbeats (~1.5 s) before returning.
 * Measured in test/e2e: a writer pulling that way stored one-sale messages at ~65/s.
 */
/** How big one pull may be. */
export interface PullBudget {
  /** Messages per pull at most. */
  readonly maxMessages: number;
  /** Target bytes per pull, which sizes the pull's message count; must fit the largest message. */
  readonly maxBytes: number;
  /** How long one pull waits to fill up (JetStream's minimum is 1 s). */
  readonly maxWaitMs: number;
  /**
   * Messages asked for when no backlog is known (the last pull drained the consumer). Default:
   * the full budget, so a quiet stream is read in large pulls that wait up to maxWaitMs to fill.
   * 1 trades that for latency: the pull returns with the first message to arrive, which reports
   * the backlog behind it, and the next pull takes that backlog whole.
   */
  readonly idleMessages?: number;
}

export class JetStreamBatchSource implements BatchSource {
  #meanSize = LARGEST_MESSAGE;
  /** Messages the consumer still had after the last one received (its delivery info). */
  #backlog = 0;

  constructor(
    private readonly consumer: Consumer,
    private readonly batch: PullBudget,
  ) {}

  /**
   * Messages the next pull asks for: what the byte budget allows, but no more than the backlog
   * the last message reported, so draining the last of a backlog does not wait out the pull's
   * expiry. With no backlog the pull asks for `idleMessages` (by default the full budget) and
   * waits up to maxWaitMs for them.
   */
  get nextPullSize(): number {
    const budget = Math.max(
      1,
      Math.min(this.batch.maxMessages, Math.floor(this.batch.maxBytes / this.#meanSize)),
    );
    if (this.#backlog > 0) return Math.min(budget, this.#backlog);
    return Math.min(budget, this.batch.idleMessages ?? budget);
  }

  async fetch(): Promise<InboundMessage[]> {
    const messages: InboundMessage[] = [];
    let bytes = 0;
    try {
      const pull = await this.consumer.fetch({
        max_messages: this.nextPullSize,
        expires: this.batch.maxWaitMs,
      });
      for await (const message of pull) {
        messages.push(message);
        bytes += message.data.length;
      }
    } catch (error) {
      // Messages already received are ours until ack_wait: keep them rather than strand them.
      if (messages.length === 0) throw error;
    }
    const last = messages.at(-1);
    if (last) {
      this.#meanSize = Math.max(SMALLEST_MESSAGE, bytes / messages.length);
      this.#backlog = last.info.pending;
    }
    return messages;
  }

  async info(): Promise<ConsumerState> {
    const info = await this.consumer.info(false);
    return {
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      maxDeliver: info.config.max_deliver ?? -1,
      ackWaitMs: Math.round((info.config.ack_wait ?? 30e9) / 1e6),
    };
  }
}
