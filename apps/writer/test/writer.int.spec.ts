import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Headers, type Sale, sumDecimals } from '@tally/contracts';
import { makeStreamSale, NatsFixture, PostgresFixture, waitFor } from '@tally/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWriter } from './writer-app.fixture.js';

let nats: NatsFixture;
let db: PostgresFixture;
let writer: NestFastifyApplication | undefined;

beforeEach(async () => {
  [nats, db] = await Promise.all([NatsFixture.create(), PostgresFixture.create()]);
});

afterEach(async () => {
  await writer?.close();
  writer = undefined;
  await Promise.all([nats?.dispose(), db?.dispose()]);
});

const count = async (table = 'sales') =>
  (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
const signedTotal = (sales: readonly Sale[]) =>
  sumDecimals(sales.map((s) => (s.kind === 'return' ? `-${s.total}` : s.total)));
const storedTotal = async () =>
  sumDecimals([
    (await db.query<{ t: string | null }>('SELECT coalesce(sum(net_total), 0)::text AS t FROM sales'))[0]!
      .t ?? '0',
  ]);

describe('the Postgres writer against real JetStream and Postgres', () => {
  it('stores sales sent one per message and packed in envelopes, each once, acking every message', async () => {
    const sales = Array.from({ length: 300 }, (_, i) => makeStreamSale({ branchId: `b${i % 3}` }));
    await nats.publishSales(sales.slice(0, 100));
    await nats.publishSales(sales.slice(100), { perMessage: 50 });
    writer = (await startWriter(nats.names, db.url)).app;

    await waitFor('300 sales stored', async () => (await count()) === 300 || undefined);
    expect(await storedTotal()).toBe(signedTotal(sales));
    expect(await count('sale_lines')).toBe(sales.reduce((n, s) => n + s.lines.length, 0));
    await waitFor('every message acked', async () => {
      const info = await nats.consumerInfo('writer-postgres');
      return (info.num_pending === 0 && info.num_ack_pending === 0) || undefined;
    });
  });

  it('stores a sale once when it is delivered twice, republished after the duplicate window, or repeated in an envelope', async () => {
    const sale = makeStreamSale();
    const other = makeStreamSale();
    await nats.publishSales([sale]);
    await nats.publishSales([sale]); // a resend JetStream did not de-duplicate
    await nats.publishSales([other, sale, other], { perMessage: 3 });
    // Delivered once already and never acked: the writer gets these again after ack_wait.
    await nats.copyConsumer('writer-postgres', 'writer-postgres-fast', { ackWaitMs: 1000 });
    const grabbed = await (await nats.js().consumers.get(nats.names.stream, 'writer-postgres-fast')).fetch({
      // Exactly the three there are, so the pull ends on the third message rather than on its
      // expiry, where a loaded machine can trip the client's missed-heartbeat check first.
      max_messages: 3,
      expires: 5000,
    });
    let delivered = 0;
    for await (const _ of grabbed) delivered++;
    expect(delivered).toBe(3);

    const { app, url } = await startWriter(nats.names, db.url, {
      WRITER_POSTGRES_CONSUMER: 'writer-postgres-fast',
    });
    writer = app;
    await waitFor('redelivered messages acked', async () => {
      const info = await nats.consumerInfo('writer-postgres-fast');
      return (
        (info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.consumer_seq > 3) || undefined
      );
    });
    expect(await count()).toBe(2);
    expect(await count('sale_lines')).toBe(sale.lines.length + other.lines.length);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/tally_writer_sales_total\{sink="postgres",outcome="inserted"\} 2\b/);
    expect(metrics).toMatch(/tally_writer_sales_total\{sink="postgres",outcome="duplicate"\} 3\b/);
  });

  it('dead-letters an undecodable message and a sale breaking a constraint with their reasons, storing the sales around them', async () => {
    const before = [makeStreamSale(), makeStreamSale()];
    const neighbour1 = makeStreamSale();
    const bad = { ...makeStreamSale(), kind: 'refund' } as unknown as Sale;
    const neighbour2 = makeStreamSale();
    const after = [makeStreamSale()];
    await nats.publishSales(before);
    const garbageSeq = await nats.publishRaw('branch-1', '{"v":1,"sales":[{"saleId":');
    const [mixedSeq] = await nats.publishSales([neighbour1, bad, neighbour2], {
      perMessage: 3,
      requestId: 'req-poison',
    });
    await nats.publishSales(after);
    writer = (await startWriter(nats.names, db.url)).app;

    await waitFor('both dead letters recorded', async () => (await count('dead_letters')) === 2 || undefined);
    const stored = await db.query<{ sale_id: string }>('SELECT sale_id FROM sales');
    expect(new Set(stored.map((r) => r.sale_id))).toEqual(
      new Set([...before, neighbour1, neighbour2, ...after].map((s) => s.saleId)),
    );

    const letters = await db.query<{
      stream_seq: string;
      sale_id: string;
      reason: string;
      request_id: string | null;
    }>('SELECT stream_seq, sale_id, reason, request_id FROM dead_letters ORDER BY stream_seq');
    expect(letters).toEqual([
      {
        stream_seq: String(garbageSeq),
        sale_id: '',
        reason: expect.stringMatching(/^undecodable: payload is not JSON/),
        request_id: null,
      },
      {
        stream_seq: String(mixedSeq),
        sale_id: bad.saleId,
        reason: expect.stringContaining('sales_kind_check'),
        request_id: 'req-poison',
      },
    ]);
    const dlq = await nats.deadLetters();
    expect(dlq.map((m) => m.header?.get(Headers.deadLetterReason))).toEqual([
      expect.stringMatching(/^undecodable/),
      expect.stringContaining('sales_kind_check'),
    ]);
    expect(dlq[1]!.header?.get(Headers.sourceSequence)).toBe(String(mixedSeq));
    expect(dlq[1]!.json<{ sales: { saleId: string }[] }>().sales.map((s) => s.saleId)).toEqual([bad.saleId]);
    await waitFor('nothing left unacked', async () => {
      const info = await nats.consumerInfo('writer-postgres');
      return (info.num_pending === 0 && info.num_ack_pending === 0) || undefined;
    });
  });

  it('dead-letters a message whose last delivery fails, instead of holding it where a crash would let JetStream drop it', async () => {
    await nats.copyConsumer('writer-postgres', 'writer-postgres-short', { ackWaitMs: 1000, maxDeliver: 3 });
    // A store that answers but cannot take sales (the table is gone): transient, never poison.
    await db.query('ALTER TABLE sales RENAME TO sales_away');
    const sale = makeStreamSale();
    const [seq] = await nats.publishSales([sale], { requestId: 'req-doomed' });
    // Two deliveries lost to crashed consumers (pulled, never acked): the writer gets the last one.
    const consumer = await nats.js().consumers.get(nats.names.stream, 'writer-postgres-short');
    for (let delivery = 1; delivery <= 2; delivery++) {
      const message = await consumer.next({ expires: 5000 });
      expect(message?.info.deliveryCount).toBe(delivery);
    }
    writer = (await startWriter(nats.names, db.url, { WRITER_POSTGRES_CONSUMER: 'writer-postgres-short' }))
      .app;

    const [letter] = await waitFor('the dead letter', async () => {
      const all = await nats.deadLetters();
      return all.length > 0 ? all : undefined;
    });
    expect(letter!.header?.get(Headers.deadLetterReason)).toMatch(/^delivery 3 of 3 failed: SQLSTATE 42P01/);
    expect(letter!.header?.get(Headers.sourceSequence)).toBe(String(seq));
    expect(letter!.header?.get(Headers.requestId)).toBe('req-doomed');
    await waitFor(
      'the dead letter recorded in its table',
      async () => (await count('dead_letters')) === 1 || undefined,
    );
    await db.query('ALTER TABLE sales_away RENAME TO sales');
  });

  it('on shutdown finishes and acks the batch in hand: nothing is left delivered but unacknowledged', async () => {
    // Enough that the writer is still busy when it is told to stop: 40,000 sales, 100 per transaction.
    const sales = Array.from({ length: 40_000 }, () => makeStreamSale());
    await nats.publishSales(sales, { perMessage: 20 });
    writer = (await startWriter(nats.names, db.url, { WRITER_BATCH_MAX_SALES: '100' })).app;
    await waitFor('some sales stored', async () => (await count()) > 0 || undefined);
    await writer.close();
    writer = undefined;

    // Acks are flushed by the connection's drain on close; give the server a moment to apply them
    // (ack_wait is 30 s, so nothing can be redelivered meanwhile, and no writer runs).
    const info = await waitFor(
      'acks applied',
      async () => {
        const i = await nats.consumerInfo('writer-postgres');
        return i.num_ack_pending === 0 ? i : undefined;
      },
      { timeoutMs: 3000 },
    );
    const stored = await count();
    expect(stored).toBe((sales.length / 20 - info.num_pending) * 20);
    expect(stored).toBeLessThan(sales.length);

    writer = (await startWriter(nats.names, db.url)).app;
    await waitFor('the rest stored after restart', async () => (await count()) === sales.length || undefined);
    expect(await storedTotal()).toBe(signedTotal(sales));
  });
});
