import type { Consumer } from '@nats-io/jetstream';
import type { BatchOptions } from '../config/writer.config.js';
import type { BatchSource, ConsumerState, InboundMessage } from './inbound-message.js';

/**
 * Batches from a durable pull consumer: one `fetch` per batch, bounded by bytes (a pull must fit
 * any single message, so at least 1 MiB) and by time (the pull's expiry: a partly filled batch
 * is returned when it expires).
 */
export class JetStreamBatchSource implements BatchSource {
  constructor(
    private readonly consumer: Consumer,
    private readonly batch: BatchOptions,
  ) {}

  async fetch(): Promise<InboundMessage[]> {
    const messages: InboundMessage[] = [];
    try {
      const pull = await this.consumer.fetch({
        max_bytes: this.batch.maxBytes,
        expires: this.batch.maxWaitMs,
      });
      for await (const message of pull) messages.push(message);
    } catch (error) {
      // Messages already received are ours until ack_wait: keep them rather than strand them.
      if (messages.length === 0) throw error;
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
