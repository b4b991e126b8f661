import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Headers, type Sale } from '@tally/contracts';
import { SalesReadRepository } from '@tally/postgres';
import { SpannerSalesRepository, spannerEnv } from '@tally/spanner';
import {
  makeStreamSale,
  NatsFixture,
  PostgresFixture,
  SpannerEmulator,
  SpannerFixture,
  waitFor,
} from '@tally/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWriter } from './writer-app.fixture.js';

let emulator: SpannerEmulator;
let nats: NatsFixture;
let db: PostgresFixture;
let spanner: SpannerFixture;
let writer: NestFastifyApplication | undefined;

beforeAll(async () => {
  emulator = await SpannerEmulator.start();
});
afterAll(() => emulator?.stop());

beforeEach(async () => {
  [nats, db, spanner] = await Promise.all([
    NatsFixture.create(),
    PostgresFixture.create(),
    SpannerFixture.create(emulator),
  ]);
});

afterEach(async () => {
  await writer?.close();
  writer = undefined;
  await Promise.all([nats?.dispose(), db?.dispose(), spanner?.dispose()]);
});

function bothSinks() {
  return startWriter(nats.names, db.url, {
    WRITER_SINKS: 'postgres,spanner',
    ...spannerEnv(spanner.config),
  });
}

const spannerCount = async () =>
  Number((await spanner.query<{ n: string }>('SELECT COUNT(*) AS n FROM Sales'))[0]?.n ?? 0);
const pgCount = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sales'))[0]!.n;

describe('the Spanner sink beside the Postgres sink (real emulator, JetStream, Postgres)', () => {
  it('stores every sale in Spanner exactly once, with the same daily counts, totals and id digests as Postgres', async () => {
    const sales: Sale[] = Array.from({ length: 400 }, (_, i) =>
      makeStreamSale({ branchId: `b${i % 4}`, occurredAt: `2026-11-${10 + (i % 3)}T12:00:00Z` }),
    );
    const returned = sales[0]!;
    const ret = makeStreamSale({
      branchId: returned.branchId,
      kind: 'return',
      originalSaleId: returned.saleId,
      occurredAt: '2026-11-12T13:00:00Z',
      lines: [{ productId: 'p-apple', category: 'fruit', quantity: 1, unitPrice: '1.99' }],
    });
    await nats.publishSales([...sales.slice(0, 100), ret]);
    await nats.publishSales(sales.slice(100), { perMessage: 50 });
    await nats.publishSales(sales.slice(0, 20)); // resent after the duplicate window
    const { app, url } = await bothSinks();
    writer = app;

    await waitFor(
      '401 sales in both stores',
      async () => ((await pgCount()) === 401 && (await spannerCount()) === 401) || undefined,
    );
    const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };
    const [pg, sp] = await Promise.all([
      new SalesReadRepository(db.client).dailyTotals(range),
      new SpannerSalesRepository(spanner.client).dailyTotals(range),
    ]);
    expect(pg).toHaveLength(4 * 3);
    expect(sp).toEqual(pg);
    const [lines] = await spanner.query<{ n: string }>('SELECT COUNT(*) AS n FROM SaleLines');
    expect(Number(lines!.n)).toBe([...sales, ret].reduce((n, s) => n + s.lines.length, 0));
    const ready = await (await fetch(`${url}/health/ready`)).json();
    expect(ready).toMatchObject({ status: 'ready', checks: { sinks: { postgres: 'up', spanner: 'up' } } });
  });

  it('dead-letters a sale Spanner refuses to its own subject while its neighbours are stored', async () => {
    const good = [makeStreamSale(), makeStreamSale()];
    const bad = { ...makeStreamSale(), currency: 'EURO' } as Sale; // too long for STRING(3); Postgres refuses it too
    await nats.publishSales([good[0]!, bad, good[1]!], { perMessage: 3, requestId: 'req-bad-currency' });
    writer = (await bothSinks()).app;

    const letters = await waitFor('a dead letter from each sink', async () => {
      const all = await nats.deadLetters();
      return all.length === 2 ? all : undefined;
    });
    expect(new Set(letters.map((m) => m.subject))).toEqual(
      new Set([`dlq.${nats.names.subjectPrefix}.postgres`, `dlq.${nats.names.subjectPrefix}.spanner`]),
    );
    const fromSpanner = letters.find((m) => m.subject.endsWith('.spanner'))!;
    expect(fromSpanner.header?.get(Headers.requestId)).toBe('req-bad-currency');
    expect(fromSpanner.json<{ sales: { saleId: string }[] }>().sales.map((s) => s.saleId)).toEqual([
      bad.saleId,
    ]);
    await waitFor('the neighbours in Spanner', async () => (await spannerCount()) === 2 || undefined);
    const [recorded] = await spanner.query<{ n: string }>('SELECT COUNT(*) AS n FROM DeadLetters');
    expect(Number(recorded!.n)).toBe(1);
  });
});
