import type { Sale } from '@tally/contracts';
import { makeStreamSale, NatsFixture, waitFor } from '@tally/testing';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAggregatorApp } from '../src/bootstrap.js';
import { loadAggregatorConfig } from '../src/config/aggregator.config.js';
import {
  AGG_KEY_ALL,
  AGG_KEY_NORTH,
  aggregatorEnv,
  getJson,
  type RunningAggregator,
  startAggregator,
} from './aggregator-app.fixture.js';

let nats: NatsFixture;
let running: RunningAggregator[] = [];

beforeEach(async () => {
  nats = await NatsFixture.create();
});

afterEach(async () => {
  await Promise.allSettled(running.map((r) => r.app.close()));
  running = [];
  await nats.dispose();
});

async function start(env: Record<string, string> = {}): Promise<RunningAggregator> {
  const r = await startAggregator(nats.names, env);
  running.push(r);
  return r;
}

async function caughtUp(r: RunningAggregator, seq: number): Promise<void> {
  await waitFor(
    `applied through ${seq}`,
    () => (r.aggregator.folder?.appliedThrough ?? 0) >= seq || undefined,
  );
}

const line = (productId: string, category: string, quantity: number, unitPrice: string) => ({
  productId,
  category,
  quantity,
  unitPrice,
});

function sales(): Sale[] {
  const now = Date.now();
  return [
    makeStreamSale(
      {
        saleId: 'a1',
        branchId: 'b-north',
        customerId: 'c1',
        lines: [line('p1', 'fruit', 2, '1.10'), line('p2', 'dairy', 1, '0.30')],
      },
      now,
    ),
    makeStreamSale(
      { saleId: 'a2', branchId: 'b-north', customerId: 'c2', lines: [line('p1', 'fruit', 1, '1.10')] },
      now,
    ),
    makeStreamSale(
      {
        saleId: 'a3',
        branchId: 'b-south',
        customerId: 'c1',
        lines: [line('p3', 'bakery', 3, '2.00'), line('p1', 'fruit', 1, '1.10')],
      },
      now,
    ),
    makeStreamSale(
      { saleId: 'a4', branchId: 'b-south', customerId: 'c3', lines: [line('p4', 'drinks', 1, '5.00')] },
      now,
    ),
    makeStreamSale(
      {
        saleId: 'r1',
        kind: 'return',
        originalSaleId: 'a3',
        branchId: 'b-south',
        customerId: 'c1',
        lines: [line('p3', 'bakery', 1, '2.00')],
      },
      now,
    ),
  ];
}

describe('aggregator against real JetStream', () => {
  it('sales on the stream appear in /v1/feedback and the summary with exact figures', async () => {
    const seqs = await nats.publishSales(sales(), { perMessage: 2 });
    const agg = await start();
    await caughtUp(agg, seqs.at(-1)!);

    const feedback = await getJson(`${agg.url}/v1/feedback`);
    expect(feedback.status).toBe(200);
    expect(feedback.body.window).toBe('all');
    expect(feedback.body.categories).toEqual([
      { category: 'fruit', count: 3, revenue: '4.4' },
      // A tie on count goes to the higher revenue (bakery is 6 sold less 2 returned).
      { category: 'drinks', count: 1, revenue: '5' },
      { category: 'bakery', count: 1, revenue: '4' },
    ]);

    const summary = await getJson(`${agg.url}/v1/analytics/summary?window=5m`);
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({
      window: '5m',
      branchId: null,
      sales: 4,
      returns: 1,
      units: 8,
      grossRevenue: '15.7',
      returnedRevenue: '2',
      netRevenue: '13.7',
      averageBasket: '3.925',
      distinctCustomers: 3,
    });
    expect(summary.body.topCustomers).toEqual([
      { customerId: 'c1', sales: 2, revenue: '7.6' },
      { customerId: 'c3', sales: 1, revenue: '5' },
      { customerId: 'c2', sales: 1, revenue: '1.1' },
    ]);

    const south = await getJson(`${agg.url}/v1/analytics/summary?window=1m&branchId=b-south`);
    expect(south.body).toMatchObject({ sales: 2, returns: 1, netRevenue: '10.1' });

    const product = await getJson(`${agg.url}/v1/analytics/products/p1?window=24h`);
    expect(product.body).toMatchObject({ productId: 'p1', lines: 3, units: 4, revenue: '4.4' });
    const top = await getJson(`${agg.url}/v1/analytics/customers/top?window=1h&limit=1`);
    expect(top.body.customers).toEqual([{ customerId: 'c1', sales: 2, revenue: '7.6' }]);
  });

  it('a historical sale counts in all but not in any rolling window, and is counted as late', async () => {
    const old = makeStreamSale({
      saleId: 'old-1',
      occurredAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    });
    const seqs = await nats.publishSales([old]);
    const agg = await start();
    await caughtUp(agg, seqs.at(-1)!);
    expect((await getJson(`${agg.url}/v1/analytics/summary?window=24h`)).body.sales).toBe(0);
    expect((await getJson(`${agg.url}/v1/analytics/summary?window=all`)).body.sales).toBe(1);
    const metrics = await (await fetch(`${agg.url}/metrics`)).text();
    expect(metrics).toMatch(/tally_aggregator_sales_total\{outcome="late"\} 1/);
  });

  it('a restart restores the snapshot, replays what came after it and counts every sale once', async () => {
    const first = sales().slice(0, 3);
    const rest = sales().slice(3);
    await nats.publishSales(first);
    const a = await start();
    await caughtUp(a, 3);
    await a.app.close(); // graceful: checkpoint at seq 3
    running = [];
    const seqs = await nats.publishSales(rest); // after the snapshot: replayed from the stream
    const b = await start();
    await caughtUp(b, seqs.at(-1)!);
    const summary = await getJson(`${b.url}/v1/analytics/summary?window=all`);
    expect(summary.body).toMatchObject({ sales: 4, returns: 1, netRevenue: '13.7' });
    // The consumer redelivers nothing the figures already hold: still the same after it drains.
    await waitFor(
      'consumer drained',
      async () => (await nats.consumerInfo('aggregator')).num_pending === 0 || undefined,
    );
    expect((await getJson(`${b.url}/v1/analytics/summary?window=all`)).body.sales).toBe(4);
  });

  it('bad parameters are refused naming the parameter and the rule; branch keys see only their branch', async () => {
    const agg = await start();
    const bad = await getJson(`${agg.url}/v1/analytics/summary?window=2h`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ pointer: '/query/window', rule: 'enum' })]);
    const limit = await getJson(`${agg.url}/v1/analytics/customers/top?limit=0`);
    expect(limit.body.errors[0]).toMatchObject({ pointer: '/query/limit', rule: 'range' });
    expect((await getJson(`${agg.url}/v1/feedback`, 'nope')).status).toBe(401);
    expect((await getJson(`${agg.url}/v1/feedback`, AGG_KEY_NORTH)).body.errors[0].rule).toBe('required');
    expect((await getJson(`${agg.url}/v1/feedback?branchId=b-south`, AGG_KEY_NORTH)).status).toBe(403);
    expect((await getJson(`${agg.url}/v1/feedback?branchId=b-north`, AGG_KEY_NORTH)).status).toBe(200);
    expect((await getJson(`${agg.url}/v1/feedback?branchId=b-north`, AGG_KEY_ALL)).status).toBe(200);
  });

  it('documents its API at /docs and answers health and metrics without a key', async () => {
    const agg = await start();
    const doc = (await (await fetch(`${agg.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/feedback',
        '/v1/analytics/summary',
        '/v1/analytics/products/{productId}',
        '/v1/analytics/customers/top',
        '/v1/analytics/stream',
      ]),
    );
    const ready = await fetch(`${agg.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { nats: true, figures: 'serving' } });
    const metrics = await (await fetch(`${agg.url}/metrics`)).text();
    for (const name of [
      'freshness_seconds',
      'lag_messages',
      'checkpoint_age_seconds',
      'recovery_seconds',
      'state_keys',
    ]) {
      expect(metrics).toContain(`tally_aggregator_${name}`);
    }
  });

  it('the event stream pushes the summary at once and again when a sale arrives', async () => {
    const agg = await start();
    const controller = new AbortController();
    const res = await fetch(`${agg.url}/v1/analytics/stream?window=1m`, {
      headers: { authorization: `Bearer ${AGG_KEY_ALL}` },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const events: { sales: number }[] = [];
    let buffer = '';
    const readEvent = async () => {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data) return JSON.parse(data.slice(6));
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += new TextDecoder().decode(value);
      }
    };
    events.push(await readEvent());
    expect(events[0]!.sales).toBe(0);
    await nats.publishSales([makeStreamSale({ saleId: 'live-1' })]);
    // Pushes also come when the window moves on (every second for 1m); the sale shows in one soon.
    const deadline = Date.now() + 10_000;
    while (events.at(-1)!.sales !== 1 && Date.now() < deadline) events.push(await readEvent());
    expect(events.at(-1)!.sales).toBe(1);
    controller.abort();
  });

  it('a second instance on the same consumer waits for the lease instead of folding beside the first', async () => {
    const seqs = await nats.publishSales(sales());
    const first = await start();
    const config = loadAggregatorConfig(
      aggregatorEnv(nats.names, { AGGREGATOR_INSTANCE_ID: 'second', AGGREGATOR_LEASE_TTL: '3s' }),
    );
    const { app, aggregator } = await createAggregatorApp(config, {
      logger: pino({ level: 'silent' }),
      onStartFailure: (error) => {
        throw error;
      },
    });
    running.push({ app, aggregator, config, url: '' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = await app.getUrl();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(aggregator.ready).toBe(false);
    const waiting = await getJson(`${url}/v1/feedback`);
    expect(waiting.status).toBe(503);
    expect(waiting.body.type).toBe('urn:tally:problem:recovering');
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);

    await first.app.close(); // releases the lease after its last checkpoint
    await waitFor('second instance serving', () => aggregator.ready || undefined, { timeoutMs: 15_000 });
    await caughtUp({ app, aggregator, config, url }, seqs.at(-1)!);
    expect((await getJson(`${url}/v1/analytics/summary?window=all`)).body).toMatchObject({
      sales: 4,
      returns: 1,
    });
  });
});
