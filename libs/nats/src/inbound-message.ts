/**
 * The part of a JetStream message (`JsMsg`) a consumer loop uses, so unit tests can hand it strict
 * fakes. Settling: ack (stored), nak (hand back), term (never again: it went to dead letters);
 * working() keeps a message held through an outage.
 */
export interface InboundMessage {
  readonly data: Uint8Array;
  readonly subject: string;
  readonly seq: number;
  readonly headers?: { get(key: string): string } | undefined;
  readonly info: {
    readonly deliveryCount: number;
    readonly stream: string;
    /** Messages the consumer had left to deliver after this one. */
    readonly pending: number;
  };
  ack(): void;
  nak(millis?: number): void;
  /** Resets the ack timer: still being worked on. */
  working(): void;
  term(reason?: string): void;
}

/** Where batches come from: a durable pull consumer (see jetstream-batch-source.ts). */
export interface BatchSource {
  /** One pull: up to the batch bounds, waiting at most the batch wait. Rejects if the pull failed. */
  fetch(): Promise<InboundMessage[]>;
  /** Consumer state for lag metrics and the delivery limit. */
  info(): Promise<ConsumerState>;
}

export interface ConsumerState {
  readonly pending: number;
  readonly ackPending: number;
  /** The consumer's max_deliver (-1: unlimited). */
  readonly maxDeliver: number;
  /** The consumer's ack_wait. */
  readonly ackWaitMs: number;
}
