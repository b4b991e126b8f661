import { desc, eq } from 'drizzle-orm';
import type { PostgresClient } from './postgres.client.js';
import { type DeadLetterRow, deadLetters } from './schema/dead-letters.schema.js';

export type NewDeadLetter = Omit<DeadLetterRow, 'id' | 'createdAt'>;

/** The dead_letters table: what a sink refused and why. Recording the same message twice is a no-op. */
export class DeadLetterRepository {
  constructor(private readonly postgres: PostgresClient) {}

  async record(letter: NewDeadLetter): Promise<void> {
    await this.postgres.db.insert(deadLetters).values(letter).onConflictDoNothing();
  }

  async list(options: { sink?: string; limit?: number } = {}): Promise<DeadLetterRow[]> {
    const query = this.postgres.db.select().from(deadLetters);
    const filtered = options.sink === undefined ? query : query.where(eq(deadLetters.sink, options.sink));
    return filtered.orderBy(desc(deadLetters.id)).limit(options.limit ?? 100);
  }
}
