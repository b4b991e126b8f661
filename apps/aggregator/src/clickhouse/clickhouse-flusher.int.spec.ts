import { ClickHouseClient } from '@tally/clickhouse';
import { type Sale, type StreamedSale, sumDecimals } from '@tally/contracts';
import type { InboundMessage } from '@tally/nats';
import { ClickHouseFixture, makeStreamSale } from '@tally/testing';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FoldedBatch } from '../pipeline/folded-batch.js';
import { ClickHouseFlusher, type FlushOptions } from './clickhouse-flusher.js';
import { SALE_LINE_COLUMNS, saleLineRows } from './sale-line-rows.js';

let fixture: ClickHouseFixture | undefined;
afterEach(async () => {
  await fixture?.dispose();
  fixture = undefined;
});

const OPTIONS: FlushOptions = {
  maxRows: 50,
  maxMessages: 1000,
  maxWaitMs: 50,
  rollupEveryMs: 50,
  retryMinMs: 10,
  retryMaxMs: 50,
};
const silent = pino({ level: 'silent' });
const noMetrics = { flushed: () => undefined, failed: () => undefined };

function message(seq: number): InboundMessage & { worked: number } {
  const m = {
    data: new Uint8Array(),
    subject: 's',
    seq,
    info: { deliveryCount: 1, stream: 'S', pending: 0 },
    worked: 0,
    ack: () => {
      throw new Error('the flusher must never ack');
    },
    nak: () => undefined,
    term: () => undefined,
    working: () => {
      m.worked++;
    },
  };
  return m;
}

function salesAt(n: number, base: number): StreamedSale[] {
  const now = Date.parse('2026-11-21T10:30:00Z');
  return Array.from({ length: n }, (_, i) => {
    const sale: Sale = makeStreamSale(
      {
        saleId: `ch-${base + i}`,
        branchId: i % 2 === 0 ? 'b-1' : 'b-2',
        occurredAt: new Date(now - (i % 5) * 60_000).toISOString(),
        ...(i % 7 === 6 ? { kind: 'return' as const, originalSaleId: `ch-${base}` } : {}),
      },
      now,
    );
    return { sale, streamSeq: base + i };
  });
}

const batch = (sales: StreamedSale[]): FoldedBatch => ({
  sales,
  messages: sales.map((s) => message(s.streamSeq)),
});

function expectedNet(sales: readonly StreamedSale[]): string {
  return sumDecimals(sales.map(({ sale }) => (sale.kind === 'return' ? `-${sale.total}` : sale.total)));
}

async function figures(client: ClickHouseClient) {
  const [raw] = await client.rows<{ lines: string; revenue: string }>(
    'SELECT count() AS lines, sum(net_amount) AS revenue FROM sale_lines FINAL',
  );
  const rollup = await client.rows<Record<string, string>>(
    'SELECT minute, branch_id, category, product_id, lines, sales, net_units, net_revenue FROM sales_minute_final ORDER BY ALL',
  );
  const fromRaw = await client.rows<Record<string, string>>(
    `SELECT toStartOfMinute(occurred_at) AS minute, branch_id, category, product_id, countIf(kind = 'sale') AS lines,
            uniqExactIf(sale_id, kind = 'sale') AS sales, sum(net_quantity) AS net_units, sum(net_amount) AS net_revenue
     FROM sale_lines FINAL GROUP BY ALL ORDER BY ALL`,
  );
  return { raw: raw!, rollup, fromRaw };
}

describe('ClickHouse flush on embedded chdb', () => {
  it('stores every line once with exact money, and the per-minute rollup equals the raw rows', async () => {
    fixture = await ClickHouseFixture.create();
    const flusher = new ClickHouseFlusher(fixture.client, OPTIONS, noMetrics, silent);
    const sales = salesAt(120, 1);
    const durable = [];
    for (let i = 0; i < sales.length; i += 25)
      durable.push((await flusher.accept(batch(sales.slice(i, i + 25)))).durable);
    await Promise.all(durable);
    const { raw, rollup, fromRaw } = await figures(fixture.client);
    expect(Number(raw.lines)).toBe(sales.reduce((n, s) => n + s.sale.lines.length, 0));
    expect(raw.revenue).toBe(expectedNet(sales));
    expect(rollup).toEqual(fromRaw);
    expect(rollup.length).toBeGreaterThan(4);
  });

  it('stores every column of every line as saleLineRows describes it (the compact encoding keeps the column order)', async () => {
    fixture = await ClickHouseFixture.create();
    const sales = salesAt(12, 300).map(({ sale, streamSeq }, i) => ({
      streamSeq,
      sale: {
        ...sale,
        cashierId: `cashier-${i}`,
        buyerCountry: 'DE',
        sellerCountry: 'AT',
        paymentMethod: i % 2 === 0 ? 'card' : 'cash',
        lines: sale.lines.map((line) => ({ ...line, brand: `brand-${i}` })),
      },
    }));
    const flusher = new ClickHouseFlusher(fixture.client, OPTIONS, noMetrics, silent);
    await (await flusher.accept(batch(sales))).durable;
    // Every value as text, numbers normalized (ClickHouse drops a decimal's trailing zeros).
    const text = (v: unknown) =>
      typeof v === 'number' || /^-?\d+(\.\d+)?$/.test(String(v)) ? String(Number(v)) : String(v);
    const normalized = (row: Record<string, unknown>) => SALE_LINE_COLUMNS.map((c) => `${c}=${text(row[c])}`);
    const stored = await fixture.client.rows<Record<string, unknown>>(
      `SELECT ${SALE_LINE_COLUMNS.join(', ')} FROM sale_lines FINAL ORDER BY sale_id, line_no`,
    );
    const expected = sales
      .flatMap((s) => saleLineRows(s))
      .sort((a, b) => a.sale_id.localeCompare(b.sale_id) || a.line_no - b.line_no);
    expect(stored.map(normalized)).toEqual(
      expected.map((r) => normalized(r as unknown as Record<string, unknown>)),
    );
  });

  it('stored blocks wait for one rollup refresh: their rows are in sale_lines at once, the rollup cells and the acks follow together', async () => {
    fixture = await ClickHouseFixture.create();
    const client = fixture.client;
    const flusher = new ClickHouseFlusher(
      client,
      { ...OPTIONS, maxRows: 10, rollupEveryMs: 60_000 },
      noMetrics,
      silent,
    );
    const sales = salesAt(15, 700);
    let settled = 0;
    const durable = [];
    for (let i = 0; i < sales.length; i += 5) {
      const { durable: d } = await flusher.accept(batch(sales.slice(i, i + 5)));
      durable.push(d.then(() => settled++));
    }
    const lines = sales.reduce((n, s) => n + s.sale.lines.length, 0);
    await expect
      .poll(async () =>
        Number((await client.rows<{ n: string }>('SELECT count() AS n FROM sale_lines'))[0]!.n),
      )
      .toBe(lines);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled).toBe(0);
    expect(await client.rows('SELECT count() AS n FROM sales_minute')).toEqual([{ n: '0' }]);
    await flusher.close();
    await Promise.all(durable);
    expect(settled).toBe(3);
    const { rollup, fromRaw } = await figures(client);
    expect(rollup).toEqual(fromRaw);
  });

  it('the rollup is refreshed before its wait is over once the blocks waiting for it hold maxMessages messages', async () => {
    fixture = await ClickHouseFixture.create();
    const flusher = new ClickHouseFlusher(
      fixture.client,
      { ...OPTIONS, maxRows: 10, maxMessages: 12, rollupEveryMs: 60_000 },
      noMetrics,
      silent,
    );
    const sales = salesAt(15, 800);
    const durable = [];
    for (let i = 0; i < sales.length; i += 5)
      durable.push((await flusher.accept(batch(sales.slice(i, i + 5)))).durable);
    // Three blocks of 5 messages: the third brings the waiting messages to 15 ≥ 12.
    const timedOut = new Promise((resolve) => setTimeout(() => resolve('waited for rollupEveryMs'), 15_000));
    expect(await Promise.race([Promise.all(durable).then(() => 'refreshed'), timedOut])).toBe('refreshed');
    const { rollup, fromRaw } = await figures(fixture.client);
    expect(rollup).toEqual(fromRaw);
    await flusher.close();
  });

  it('a replay in other blocks (after a crash between insert and ack) changes no table and no rollup', async () => {
    fixture = await ClickHouseFixture.create();
    const sales = salesAt(90, 100);
    const first = new ClickHouseFlusher(fixture.client, OPTIONS, noMetrics, silent);
    await (await first.accept(batch(sales))).durable;
    const before = await figures(fixture.client);
    // Redelivered in a different grouping, so with other deduplication tokens.
    const again = new ClickHouseFlusher(fixture.client, { ...OPTIONS, maxRows: 7 }, noMetrics, silent);
    const durable = [];
    for (let i = 0; i < sales.length; i += 4)
      durable.push((await again.accept(batch(sales.slice(i + 1, i + 5)))).durable);
    await Promise.all(durable);
    expect(await figures(fixture.client)).toEqual(before);
    expect(before.raw.revenue).toBe(expectedNet(sales));
  });

  it('an insert that failed after the server stored it is retried as the identical block and stored once', async () => {
    fixture = await ClickHouseFixture.create();
    const client = fixture.client;
    let calls = 0;
    const flaky = Object.create(client) as ClickHouseClient;
    flaky.insert = async (table, rows, token) => {
      await client.insert(table, rows, token);
      if (++calls === 1) throw new Error('connection reset after the server stored the block');
    };
    const flusher = new ClickHouseFlusher(flaky, { ...OPTIONS, maxRows: 1000 }, noMetrics, silent);
    const sales = salesAt(30, 500);
    const b = batch(sales);
    await (await flusher.accept(b)).durable;
    expect(calls).toBe(2);
    // Without FINAL: the retry was dropped by its token, not merely collapsed later.
    const [{ n }] = (await client.rows<{ n: string }>('SELECT count() AS n FROM sale_lines')) as [
      { n: string },
    ];
    expect(Number(n)).toBe(sales.reduce((k, s) => k + s.sale.lines.length, 0));
    expect((b.messages[0] as ReturnType<typeof message>).worked).toBeGreaterThan(0);
  });

  it('applies back-pressure: while a block is being written, accept waits once the next block is full', async () => {
    fixture = await ClickHouseFixture.create();
    const client = fixture.client;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = Object.create(client) as ClickHouseClient;
    slow.insert = async (table, rows, token) => {
      await gate;
      await client.insert(table, rows, token);
    };
    const flusher = new ClickHouseFlusher(
      slow,
      { ...OPTIONS, maxRows: 10, maxWaitMs: 10_000 },
      noMetrics,
      silent,
    );
    const sales = salesAt(60, 900);
    const first = await flusher.accept(batch(sales.slice(0, 10))); // full: being written (held)
    await flusher.accept(batch(sales.slice(10, 20))); // fills the next block
    let third = false;
    const pending = flusher.accept(batch(sales.slice(20, 30))).then(() => {
      third = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(third).toBe(false);
    release();
    await first.durable;
    await pending;
    expect(third).toBe(true);
    await flusher.close();
  });
});
