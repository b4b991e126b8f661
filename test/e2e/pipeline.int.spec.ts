import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Sale, type SaleInput, sumDecimals } from '@tally/contracts';
import { NatsFixture, PostgresFixture, waitFor } from '@tally/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startIngest } from '../../apps/ingest/test/ingest-app.fixture.js';
import { startWriter } from '../../apps/writer/test/writer-app.fixture.js';
import { IngestLedger, Random, SaleGenerator } from './load.js';
import { consumerDrained, exactlyOnce, storedCount, storedState } from './stored.js';

let nats: NatsFixture;
let db: PostgresFixture;
let ingest: NestFastifyApplication | undefined;
let writer: NestFastifyApplication | undefined;

beforeEach(async () => {
  [nats, db] = await Promise.all([NatsFixture.create(), PostgresFixture.create()]);
});

afterEach(async () => {
  await Promise.allSettled([ingest?.close(), writer?.close()]);
  ingest = writer = undefined;
  await Promise.all([nats?.dispose(), db?.dispose()]);
});

/** Runs `task` over `items`, `concurrency` at a time, in order of start. */
async function inParallel<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await task(items[i]!);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return results;
}

const signedTotal = (sale: Sale) => (sale.kind === 'return' ? `-${sale.total}` : sale.total);

describe('the whole pipeline: ingest → JetStream → writer → Postgres', () => {
  it('a thousand sales through ingest → stream → writer land exactly once, with totals equal to the sum computed from the inputs', async () => {
    const random = new Random(Random.seedFromEnv());
    console.info(`pipeline: seed ${random.seed} (rerun with E2E_SEED=${random.seed})`);
    const started = await startIngest(nats.names);
    ingest = started.app;
    const ledger = new IngestLedger(started.url);
    const w = await startWriter(nats.names, db.url);
    writer = w.app;

    const generator = new SaleGenerator(random, `pipe-${random.seed}`);
    const sales = generator.take(1000);
    const returns = sales.filter((s) => s.kind === 'return');
    expect(returns.length).toBeGreaterThan(10);

    // 40 single POSTs, the other 960 in batch POSTs of 20 to 150 sales (every branch mixed in).
    const singles = sales.slice(0, 40);
    const batches: SaleInput[][] = [];
    for (let i = 40; i < sales.length; ) {
      const size = Math.min(random.int(20, 150), sales.length - i);
      batches.push(sales.slice(i, i + size));
      i += size;
    }
    expect(await inParallel(singles, 4, (s) => ledger.sendOne(s))).toEqual(singles.map(() => 'accepted'));
    // One batch repeats five of its own sales: each repeat is answered duplicate, stored once.
    const withRepeats = [...batches[0]!, ...batches[0]!.slice(0, 5)];
    const first = await ledger.sendBatch(withRepeats);
    expect(first).toMatchObject({
      httpStatus: 202,
      statuses: { accepted: batches[0]!.length, duplicate: 5 },
    });
    const answers = await inParallel(batches.slice(1), 3, (b) => ledger.sendBatch(b));
    for (const [i, answer] of answers.entries()) {
      expect(answer).toMatchObject({ httpStatus: 202, statuses: { accepted: batches[i + 1]!.length } });
    }

    // Resends a client makes after a lost reply: JetStream's duplicate window answers them.
    for (const sale of singles.slice(0, 10)) expect(await ledger.sendOne(sale)).toBe('duplicate');
    for (const batch of batches.slice(1, 3)) {
      expect(await ledger.sendBatch(batch)).toMatchObject({
        httpStatus: 202,
        statuses: { duplicate: batch.length },
      });
    }
    // Sales first sent in a batch, resent one by one: a different message id, so the stream takes
    // each again (JetStream cannot tell); the writer must still store each sale once.
    const resentAlone = batches.slice(3, 8).map((b) => b[b.length - 1]!);
    const resentStatuses = await inParallel(resentAlone, 1, (s) => ledger.sendOne(s));
    for (const status of resentStatuses) expect(['accepted', 'duplicate']).toContain(status);
    const copies = resentStatuses.filter((s) => s === 'accepted').length;
    expect(copies).toBeGreaterThan(0);

    expect(ledger.failures()).toEqual([]);
    expect(ledger.stored.size).toBe(1000);
    const expected = ledger.expected();
    expect(expected).toMatchObject({ sales: 1000, returns: returns.length });

    // What ingest put on the stream (decoded back) agrees with the inputs: the 1,000 sales, plus
    // the copies from the single resends.
    const streamed = await nats.sales();
    expect(streamed.length).toBe(1000 + copies);
    const distinct = new Map(streamed.map((s) => [s.saleId, s]));
    expect(new Set(distinct.keys())).toEqual(new Set(sales.map((s) => s.saleId)));
    expect(sumDecimals([...distinct.values()].map(signedTotal))).toBe(expected.netTotal);

    await waitFor('1,000 sales stored', async () => (await storedCount(db)) >= 1000 || undefined, {
      timeoutMs: 30_000,
    });
    const info = await consumerDrained(nats, 'writer-postgres');
    expect(info.delivered.stream_seq).toBe(await nats.messageCount());

    const stored = await storedState(db);
    expect(stored).toEqual({ ...exactlyOnce(expected), sales: 1000 });
    // Every return kept its link to the sale it reverses.
    const links = await db.query<{ sale_id: string; original_sale_id: string }>(
      "SELECT sale_id, original_sale_id FROM sales WHERE kind = 'return'",
    );
    expect(new Map(links.map((r) => [r.sale_id, r.original_sale_id]))).toEqual(
      new Map(returns.map((r) => [r.saleId, r.originalSaleId])),
    );
    expect(await storedCount(db, 'dead_letters')).toBe(0);

    const metrics = await (await fetch(`${w.url}/metrics`)).text();
    expect(metrics).toMatch(/tally_writer_sales_total\{sink="postgres",outcome="inserted"\} 1000\b/);
    // The copies on the stream were each skipped once (no redelivery: ack_wait is 30 s).
    expect(metrics).toMatch(
      new RegExp(`tally_writer_sales_total\\{sink="postgres",outcome="duplicate"\\} ${copies}\\b`),
    );
  });

  // Regression: a byte-bounded nats.js fetch stalled ~1.5 s on every full pull (~65 one-sale
  // messages/s); the pull is now count-bounded, sized to a byte budget (jetstream-batch-source.ts).
  it('sales sent one per POST are stored as fast as they arrive: 1,500 single POSTs land within 8 s of the last answer', async () => {
    const random = new Random(Random.seedFromEnv());
    const started = await startIngest(nats.names);
    ingest = started.app;
    const ledger = new IngestLedger(started.url);
    writer = (await startWriter(nats.names, db.url)).app;

    const sales = new SaleGenerator(random, `single-${random.seed}`).take(1500);
    await inParallel(sales, 8, (s) => ledger.sendOne(s));
    expect(ledger.failures()).toEqual([]);
    const sent = Date.now();
    await waitFor('1,500 sales stored', async () => (await storedCount(db)) === 1500 || undefined, {
      timeoutMs: 8_000,
    });
    console.info(`single POSTs: 1,500 sales stored ${Date.now() - sent} ms after the last answer`);
  });
});
