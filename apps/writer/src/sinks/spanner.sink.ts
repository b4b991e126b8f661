import type { StreamedSale } from '@tally/contracts';
import {
  describeSpannerError,
  isPermanentSpannerError,
  type SpannerClient,
  SpannerDeadLetters,
  SpannerSalesRepository,
} from '@tally/spanner';
import type { DeadLetter, SaleSink, WriteResult } from '../pipeline/sale-sink.js';

/**
 * The Spanner store: insert-or-update mutations, one commit per batch (split only where a batch
 * would pass Spanner's mutation limit), errors by gRPC code. Upserts are idempotent on the key,
 * so a redelivered sale is written again with the same values: the count of "duplicates" is not
 * known here (Spanner does not say which rows existed), and every sale counts as inserted.
 */
export class SpannerSink implements SaleSink {
  readonly name = 'spanner';
  private readonly sales: SpannerSalesRepository;
  private readonly deadLetters: SpannerDeadLetters;

  constructor(
    private readonly client: SpannerClient,
    maxMutations: number,
  ) {
    this.sales = new SpannerSalesRepository(client, { maxMutations });
    this.deadLetters = new SpannerDeadLetters(client);
  }

  async write(sales: readonly StreamedSale[]): Promise<WriteResult> {
    const result = await this.sales.write(sales);
    return {
      inserted: result.sales,
      duplicates: sales.length - result.sales,
      rows: result.sales + result.lines,
    };
  }

  isPermanent(error: unknown): boolean {
    return isPermanentSpannerError(error);
  }

  describe(error: unknown): string {
    return describeSpannerError(error);
  }

  probe(): Promise<void> {
    return this.client.ping();
  }

  async recordDeadLetter(letter: DeadLetter): Promise<void> {
    await this.deadLetters.record(letter);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
