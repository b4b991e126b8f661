import {
  bigint,
  bigserial,
  customType,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

/**
 * Messages a sink could not store, with why. The same message also goes to the dead-letter
 * stream (`dlq.<prefix>.<sink>`), which keeps the bytes for replay; this table is for people
 * and dashboards. A message is refused whole when it cannot be decoded, or one sale at a time
 * when only some of its sales break a constraint (the others are stored). Unique per (sink,
 * stream, sequence, sale): a crash between recording a dead letter and settling its message
 * records it once.
 */
export const deadLetters = pgTable(
  'dead_letters',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sink: text('sink').notNull(),
    stream: text('stream').notNull(),
    streamSeq: bigint('stream_seq', { mode: 'number' }).notNull(),
    /** The one sale refused, when the message held several; '' when the whole message was. */
    saleId: text('sale_id').notNull().default(''),
    subject: text('subject').notNull(),
    requestId: text('request_id'),
    deliveries: integer('deliveries').notNull(),
    reason: text('reason').notNull(),
    payload: bytea('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('dead_letters_message_key').on(t.sink, t.stream, t.streamSeq, t.saleId),
    index('dead_letters_created_idx').on(t.createdAt),
  ],
);

export type DeadLetterRow = typeof deadLetters.$inferSelect;
