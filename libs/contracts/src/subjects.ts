/**
 * Names on the wire: the stream, its subjects and the headers every Tally message carries.
 * Apps and the `nats/` definitions both derive from these, so a rename happens in one place.
 *
 * One subject per branch (`<prefix>.<branchId>`) lets consumers filter or partition by branch
 * later without touching producers. The prefix and stream name are configurable only so that
 * tests (and side-by-side environments) can isolate themselves on one NATS server.
 */
export const DEFAULT_STREAM = 'SALES';
export const DEFAULT_SUBJECT_PREFIX = 'sales';

export interface StreamNames {
  /** JetStream stream holding every accepted sale, e.g. `SALES`. */
  readonly stream: string;
  /** Subject prefix, e.g. `sales`; sales of branch B go to `sales.B`. */
  readonly subjectPrefix: string;
}

export const defaultStreamNames: StreamNames = {
  stream: DEFAULT_STREAM,
  subjectPrefix: DEFAULT_SUBJECT_PREFIX,
};

/** Subject for one branch's sales. The branchId rule (no dots, no wildcards) makes it one token. */
export function salesSubject(names: StreamNames, branchId: string): string {
  return `${names.subjectPrefix}.${branchId}`;
}

/** Wildcard over every branch's sales: what the sales stream captures. */
export function salesSubjects(names: StreamNames): string {
  return `${names.subjectPrefix}.>`;
}

/** Dead-letter stream: messages a sink could not store, with the reason, kept for inspection. */
export function deadLetterStream(names: StreamNames): string {
  return `${names.stream}_DLQ`;
}

/** Dead-letter subject of one sink (`dlq.sales.postgres`); outside the sales stream's subjects. */
export function deadLetterSubject(names: StreamNames, sink: string): string {
  return `dlq.${names.subjectPrefix}.${sink}`;
}

export function deadLetterSubjects(names: StreamNames): string {
  return `dlq.${names.subjectPrefix}.>`;
}

/** Headers set on every message published to the sales stream. */
export const Headers = {
  /** JetStream de-duplication key: the saleId for one-sale messages. */
  msgId: 'Nats-Msg-Id',
  /** Request id from the HTTP `X-Request-Id` header (or generated), for log correlation. */
  requestId: 'Tally-Request-Id',
  /** Payload schema and version, so consumers can refuse what they do not understand. */
  schema: 'Tally-Schema',
  /** Number of sales in the message's envelope. */
  saleCount: 'Tally-Sale-Count',
  /** Dead letters: why the sink refused the message. */
  deadLetterReason: 'Tally-Dead-Letter-Reason',
  /** Dead letters: the sink that refused it (`postgres`, `spanner`...). */
  deadLetterSink: 'Tally-Dead-Letter-Sink',
  /** Dead letters: stream and sequence of the original message, to find and replay it. */
  sourceStream: 'Tally-Source-Stream',
  sourceSequence: 'Tally-Source-Sequence',
  /** Dead letters: how many times the original message had been delivered. */
  deliveries: 'Tally-Deliveries',
} as const;
