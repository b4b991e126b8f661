import { Spanner } from '@google-cloud/spanner';
import { readCallOptions, type SpannerClient } from './spanner.client.js';
import { GrpcCode, grpcCode } from './spanner-errors.js';

/** A message (or one sale of it) the sink refused: the fields of the Postgres `dead_letters`. */
export interface SpannerDeadLetter {
  readonly sink: string;
  readonly stream: string;
  readonly streamSeq: number;
  /** The one sale refused, when the message held several; '' when the whole message was. */
  readonly saleId: string;
  readonly subject: string;
  readonly requestId: string | null;
  readonly deliveries: number;
  readonly reason: string;
  readonly payload: Uint8Array;
}

export interface StoredSpannerDeadLetter extends SpannerDeadLetter {
  readonly createdAt: Date;
}

/**
 * The DeadLetters table: what a sink refused and why. Recording the same (sink, stream, sequence,
 * sale) twice keeps the first record, as Postgres's ON CONFLICT DO NOTHING does: an insert, and
 * ALREADY_EXISTS means it is recorded already.
 */
export class SpannerDeadLetters {
  constructor(private readonly client: SpannerClient) {}

  async record(letter: SpannerDeadLetter): Promise<void> {
    try {
      await this.client.database.table('DeadLetters').insert({
        Sink: letter.sink,
        Stream: letter.stream,
        StreamSeq: letter.streamSeq,
        SaleId: letter.saleId,
        Subject: letter.subject,
        RequestId: letter.requestId,
        Deliveries: letter.deliveries,
        Reason: letter.reason,
        Payload: Buffer.from(letter.payload),
        CreatedAt: Spanner.COMMIT_TIMESTAMP,
      });
    } catch (error) {
      if (grpcCode(error) !== GrpcCode.ALREADY_EXISTS) throw error;
    }
  }

  /** Newest first. */
  async list(options: { sink?: string; limit?: number } = {}): Promise<StoredSpannerDeadLetter[]> {
    const [rows] = await this.client.database.run({
      sql: `SELECT Sink, Stream, StreamSeq, SaleId, Subject, RequestId, Deliveries, Reason, Payload, CreatedAt
            FROM DeadLetters ${options.sink === undefined ? '' : 'WHERE Sink = @sink'}
            ORDER BY CreatedAt DESC, StreamSeq DESC LIMIT @limit`,
      params: { limit: options.limit ?? 100, ...(options.sink !== undefined && { sink: options.sink }) },
      json: true,
      gaxOptions: readCallOptions(),
    });
    return (rows as unknown as Record<string, unknown>[]).map((r) => ({
      sink: r.Sink as string,
      stream: r.Stream as string,
      streamSeq: Number(r.StreamSeq),
      saleId: r.SaleId as string,
      subject: r.Subject as string,
      requestId: (r.RequestId as string | null) ?? null,
      deliveries: Number(r.Deliveries),
      reason: r.Reason as string,
      payload: new Uint8Array(r.Payload as Buffer),
      createdAt: new Date((r.CreatedAt as Date).getTime()),
    }));
  }
}
