import type { StreamedSale } from '@tally/contracts';
import {
  DeadLetterRepository,
  describePgError,
  isPermanentPgError,
  type PostgresClient,
  SalesWriteRepository,
} from '@tally/postgres';
import type { DeadLetter, SaleSink, WriteResult } from '../pipeline/sale-sink.js';

/** The Postgres store: one unnest statement per batch (see SalesWriteRepository), errors by SQLSTATE. */
export class PostgresSink implements SaleSink {
  readonly name = 'postgres';
  private readonly sales: SalesWriteRepository;
  private readonly deadLetters: DeadLetterRepository;

  constructor(private readonly client: PostgresClient) {
    this.sales = new SalesWriteRepository(client);
    this.deadLetters = new DeadLetterRepository(client);
  }

  async write(sales: readonly StreamedSale[]): Promise<WriteResult> {
    const result = await this.sales.insert(sales);
    return { inserted: result.inserted, duplicates: result.duplicates, rows: result.inserted + result.lines };
  }

  isPermanent(error: unknown): boolean {
    return isPermanentPgError(error);
  }

  describe(error: unknown): string {
    return describePgError(error);
  }

  probe(): Promise<void> {
    return this.client.ping();
  }

  async recordDeadLetter(letter: DeadLetter): Promise<void> {
    await this.deadLetters.record({ ...letter, payload: Buffer.from(letter.payload) });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
