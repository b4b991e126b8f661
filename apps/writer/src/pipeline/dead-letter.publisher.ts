import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { deadLetterSubject, Headers, SALES_SCHEMA, type StreamNames } from '@tally/contracts';
import type { DeadLetter } from './sale-sink.js';

export interface DeadLetterPublisher {
  /** Resolves once the dead-letter stream stored it (PubAck); rejects otherwise. */
  publish(letter: DeadLetter): Promise<void>;
}

/**
 * Publishes dead letters to `dlq.<prefix>.<sink>` (the SALES_DLQ stream, kept 30 days) with
 * the reason and the original's coordinates in headers. The message id is derived from those
 * coordinates, so publishing the same dead letter again after a crash is dropped by JetStream.
 */
export class JetStreamDeadLetterPublisher implements DeadLetterPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly names: StreamNames,
  ) {}

  async publish(letter: DeadLetter): Promise<void> {
    const h = headers();
    h.set(Headers.schema, SALES_SCHEMA);
    if (letter.requestId) h.set(Headers.requestId, letter.requestId);
    h.set(Headers.deadLetterReason, letter.reason);
    h.set(Headers.deadLetterSink, letter.sink);
    h.set(Headers.sourceStream, letter.stream);
    h.set(Headers.sourceSequence, String(letter.streamSeq));
    h.set(Headers.deliveries, String(letter.deliveries));
    const id = [letter.sink, letter.stream, letter.streamSeq, letter.saleId].join('/');
    await this.js.publish(deadLetterSubject(this.names, letter.sink), letter.payload, {
      msgID: id,
      headers: h,
    });
  }
}
