import { Inject, Injectable } from '@nestjs/common';
import { NatsClient, salesMessageHeaders } from '@tally/nats';
import { INGEST_CONFIG, type IngestConfig } from '../config/ingest.config.js';
import { IngestMetrics } from '../metrics/ingest.metrics.js';

/** One message for the sales stream: an envelope of one or more sales of one branch. */
export interface OutboundMessage {
  readonly subject: string;
  /** JetStream de-duplication key (`Nats-Msg-Id`). */
  readonly msgId: string;
  readonly payload: Uint8Array;
  readonly saleCount: number;
  readonly requestId: string;
}

export type UnavailableCause = 'disconnected' | 'saturated' | 'timeout' | 'refused';

export type PublishOutcome =
  | { readonly ok: true; readonly seq: number; readonly duplicate: boolean }
  | { readonly ok: false; readonly cause: UnavailableCause; readonly detail: string };

/**
 * Publishes to JetStream and reports, per message, whether the stream stored it. A message
 * counts as stored only on its PubAck; everything else is an outcome the caller turns into
 * 503, never a 202. In-flight messages are bounded: past `maxInFlight`, new work is refused
 * at once instead of queueing without limit while NATS is slow.
 */
@Injectable()
export class SalePublisher {
  private inFlight = 0;

  constructor(
    private readonly nats: NatsClient,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly metrics: IngestMetrics,
  ) {}

  async publishAll(messages: readonly OutboundMessage[]): Promise<PublishOutcome[]> {
    if (!this.nats.isConnected) {
      return messages.map(() => ({ ok: false, cause: 'disconnected', detail: 'NATS is not connected' }));
    }
    if (this.inFlight + messages.length > this.config.maxInFlight) {
      const detail = `${this.inFlight} messages already await their acknowledgement (limit ${this.config.maxInFlight})`;
      return messages.map(() => ({ ok: false, cause: 'saturated', detail }));
    }
    this.inFlight += messages.length;
    this.metrics.inFlight.set(this.inFlight);
    try {
      return await Promise.all(messages.map((m) => this.publishOne(m)));
    } finally {
      this.inFlight -= messages.length;
      this.metrics.inFlight.set(this.inFlight);
    }
  }

  private async publishOne(message: OutboundMessage): Promise<PublishOutcome> {
    const started = performance.now();
    try {
      const ack = await this.nats.js.publish(message.subject, message.payload, {
        msgID: message.msgId,
        headers: salesMessageHeaders(message.requestId, message.saleCount),
        timeout: this.config.publishTimeoutMs,
        expect: { streamName: this.config.names.stream },
      });
      this.metrics.publishSeconds.observe((performance.now() - started) / 1000);
      this.metrics.messageSales.observe(message.saleCount);
      return { ok: true, seq: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      return { ok: false, ...classify(error as Error, this.config.names.stream) };
    }
  }
}

function classify(error: Error, stream: string): { cause: UnavailableCause; detail: string } {
  const text = `${error.name}: ${error.message}`;
  if (/timeout/i.test(text)) return { cause: 'timeout', detail: 'NATS did not acknowledge in time' };
  if (/no responders/i.test(text)) {
    return { cause: 'refused', detail: `no stream answers; is ${stream} applied? (npm run nats:apply)` };
  }
  if (/disconnect|closed|connection/i.test(text))
    return { cause: 'disconnected', detail: 'NATS connection lost' };
  return { cause: 'refused', detail: `JetStream refused the message: ${error.message}` };
}
