import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { decodeEnvelope, Headers, SALES_SCHEMA } from '@tally/contracts';
import { makeSale, NatsFixture, TcpProxy } from '@tally/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { json, KEY_BRANCH_1, post, startIngest } from './ingest-app.fixture.js';

let nats: NatsFixture;
let app: NestFastifyApplication;
let url: string;

beforeAll(async () => {
  nats = await NatsFixture.create();
  ({ app, url } = await startIngest(nats.names));
});

afterAll(async () => {
  await app?.close();
  await nats?.dispose();
});

describe('POST /v1/sales against the real JetStream', () => {
  it('stores an accepted sale in the stream with its headers, readable back as the canonical sale', async () => {
    const sale = makeSale({ lines: [{ productId: 'p1', category: 'food', quantity: 3, unitPrice: 0.1 }] });
    const res = await post(`${url}/v1/sales`, sale, undefined, { 'x-request-id': 'req-trace-42' });

    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe('req-trace-42');
    const body = await json(res);
    expect(body).toMatchObject({ saleId: sale.saleId, status: 'accepted' });

    const stored = await nats.message(body.seq);
    expect(stored.subject).toBe(`${nats.names.subjectPrefix}.${sale.branchId}`);
    expect(stored.header.get(Headers.msgId)).toBe(sale.saleId);
    expect(stored.header.get(Headers.requestId)).toBe('req-trace-42');
    expect(stored.header.get(Headers.schema)).toBe(SALES_SCHEMA);
    const [streamed] = decodeEnvelope(stored.data);
    expect(streamed).toMatchObject({
      saleId: sale.saleId,
      total: '0.3',
      lines: [{ unitPrice: '0.1', amount: '0.3' }],
    });
  });

  it('answers duplicate for a resent saleId and stores the sale only once', async () => {
    const sale = makeSale();
    const before = await nats.messageCount();
    const first = await json(await post(`${url}/v1/sales`, sale));
    const again = await post(`${url}/v1/sales`, sale);

    expect(again.status).toBe(202);
    expect(await json(again)).toEqual({ saleId: sale.saleId, status: 'duplicate', seq: first.seq });
    expect(await nats.messageCount()).toBe(before + 1);
  });

  it('rejects a sale breaking the contract with problem+json naming each field and rule, storing nothing', async () => {
    const before = await nats.messageCount();
    const bad = { ...makeSale(), currency: 'euro', extra: true };
    bad.lines = [{ productId: 'p1', category: 'food', quantity: 0, unitPrice: '1.23456' }];
    const res = await post(`${url}/v1/sales`, bad);

    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await json(res);
    expect(problem.type).toBe('urn:tally:problem:validation');
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pointer: '/currency', rule: 'pattern' }),
        expect.objectContaining({ pointer: '/extra', rule: 'unknown-field' }),
        expect.objectContaining({ pointer: '/lines/0/quantity', rule: 'minimum' }),
        expect.objectContaining({ pointer: '/lines/0/unitPrice', rule: 'decimal' }),
      ]),
    );
    expect(await nats.messageCount()).toBe(before);
  });

  it('answers malformed JSON and oversized bodies with problem+json', async () => {
    const malformed = await post(`${url}/v1/sales`, '{"saleId": ');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const huge = await post(`${url}/v1/sales`, JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('lets a key for branch-1 write branch-1 but not branch-2', async () => {
    expect((await post(`${url}/v1/sales`, makeSale({ branchId: 'branch-1' }), KEY_BRANCH_1)).status).toBe(
      202,
    );

    const before = await nats.messageCount();
    const res = await post(`${url}/v1/sales`, makeSale({ branchId: 'branch-2' }), KEY_BRANCH_1);
    expect(res.status).toBe(403);
    expect((await json(res)).errors[0]).toMatchObject({ pointer: '/branchId', rule: 'forbidden-branch' });
    expect(await nats.messageCount()).toBe(before);
  });

  it('refuses requests without a known API key with 401', async () => {
    expect((await post(`${url}/v1/sales`, makeSale(), 'not-a-key')).status).toBe(401);
    const res = await fetch(`${url}/v1/sales`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });
});

describe('POST /v1/sales/batch against the real JetStream', () => {
  it('stores the valid sales of a batch even when others are rejected, listing every index', async () => {
    const good = [makeSale(), makeSale({ branchId: 'branch-2' }), makeSale()];
    const bad = { ...makeSale(), kind: 'return' };
    const res = await post(`${url}/v1/sales/batch`, [good[0], bad, good[1], good[2]]);

    expect(res.status).toBe(202);
    const receipt = await json(res);
    expect(receipt).toMatchObject({ accepted: 3, rejected: 1, duplicate: 0, unavailable: 0 });
    expect(receipt.results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'rejected',
      'accepted',
      'accepted',
    ]);
    expect(receipt.results[1].errors).toEqual([expect.objectContaining({ pointer: '/originalSaleId' })]);

    const streamedIds = (await nats.sales()).map((s) => s.saleId);
    for (const sale of good) expect(streamedIds.filter((id) => id === sale.saleId)).toHaveLength(1);
    expect(streamedIds).not.toContain(bad.saleId);
  });

  it('answers duplicate for every sale when a client retries the same batch, storing nothing new', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => makeSale({ branchId: `branch-${i % 3}` }));
    const first = await json(await post(`${url}/v1/sales/batch`, batch));
    expect(first.accepted).toBe(50);
    const before = await nats.messageCount();

    const retry = await json(await post(`${url}/v1/sales/batch`, batch));
    expect(retry).toMatchObject({ accepted: 0, duplicate: 50 });
    expect(await nats.messageCount()).toBe(before);
  });

  it('treats a saleId repeated inside one batch as a duplicate of its first occurrence', async () => {
    const sale = makeSale();
    const receipt = await json(await post(`${url}/v1/sales/batch`, [sale, sale]));
    expect(receipt.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate']);
    expect((await nats.sales()).filter((s) => s.saleId === sale.saleId)).toHaveLength(1);
  });

  it('accepts NDJSON and rejects a line that is not JSON on its own', async () => {
    const [a, b] = [makeSale(), makeSale()];
    const body = `${JSON.stringify(a)}\n{not json\n${JSON.stringify(b)}\n`;
    const res = await post(`${url}/v1/sales/batch`, body, undefined, {
      'content-type': 'application/x-ndjson',
    });
    const receipt = await json(res);
    expect(receipt).toMatchObject({ accepted: 2, rejected: 1 });
    expect(receipt.results[1]).toMatchObject({ index: 1, status: 'rejected', errors: [{ rule: 'json' }] });
  });

  it('rejects, per sale, a branch the key may not write', async () => {
    const twoBranches = [makeSale({ branchId: 'branch-1' }), makeSale({ branchId: 'branch-9' })];
    const receipt = await json(await post(`${url}/v1/sales/batch`, twoBranches, KEY_BRANCH_1));
    expect(receipt.results[0].status).toBe('accepted');
    expect(receipt.results[1]).toMatchObject({ status: 'rejected', errors: [{ rule: 'forbidden-branch' }] });
  });

  it('packs many sales of one branch into few messages, each sale still in the stream exactly once', async () => {
    const before = await nats.messageCount();
    const batch = Array.from({ length: 1200 }, () => makeSale({ branchId: 'branch-7' }));
    const receipt = await json(await post(`${url}/v1/sales/batch`, batch));
    expect(receipt.accepted).toBe(1200);
    const messages = (await nats.messageCount()) - before;
    expect(messages).toBeGreaterThanOrEqual(3); // 500 sales per envelope at most
    expect(messages).toBeLessThan(10);
    const ids = new Set((await nats.sales()).map((s) => s.saleId));
    for (const sale of batch) expect(ids.has(sale.saleId)).toBe(true);
  });

  it('refuses an empty batch and one over the limit with 422', async () => {
    expect((await post(`${url}/v1/sales/batch`, [])).status).toBe(422);
    expect((await post(`${url}/v1/sales/batch`, { not: 'an array' })).status).toBe(422);
  });
});

describe('observability', () => {
  it('reports readiness and Prometheus metrics', async () => {
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await json(ready)).toMatchObject({
      status: 'ready',
      checks: { nats: true, stream: nats.names.stream },
    });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/tally_ingest_sales_total\{endpoint="single",status="accepted"\} [1-9]/);
    expect(metrics).toContain('tally_ingest_publish_seconds_bucket');
    expect(metrics).toMatch(/tally_ingest_rejections_total\{rule="/);
  });

  it('serves the OpenAPI document generated from the contract', async () => {
    const doc = await json(await fetch(`${url}/docs-json`));
    expect(doc.paths['/v1/sales'].post).toBeDefined();
    expect(doc.components.schemas.Sale.properties.saleId.pattern).toBe('^[A-Za-z0-9._:-]{1,64}$');
  });
});

describe('when NATS is unreachable or saturated', () => {
  let proxy: TcpProxy;
  let cutApp: NestFastifyApplication;
  let cutUrl: string;

  beforeAll(async () => {
    const natsUrl = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
    proxy = await TcpProxy.start(natsUrl.hostname, Number(natsUrl.port || 4222));
    ({ app: cutApp, url: cutUrl } = await startIngest(nats.names, { natsUrl: `nats://${proxy.url}` }));
  });

  afterEach(() => proxy.heal());

  afterAll(async () => {
    await cutApp?.close();
    await proxy?.close();
  });

  it('answers 503 with Retry-After, never 202, while the link to NATS is cut, and recovers after', async () => {
    proxy.cut();
    await expect
      .poll(async () => (await fetch(`${cutUrl}/health/ready`)).status, { timeout: 5000 })
      .toBe(503);

    const sale = makeSale();
    const res = await post(`${cutUrl}/v1/sales`, sale);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await nats.sales()).map((s) => s.saleId)).not.toContain(sale.saleId);

    proxy.heal();
    await expect
      .poll(async () => (await post(`${cutUrl}/v1/sales`, sale)).status, { timeout: 10_000 })
      .toBe(202);
    expect((await nats.sales()).filter((s) => s.saleId === sale.saleId)).toHaveLength(1);
  });

  it('answers 503 when more messages would await acknowledgement than allowed', async () => {
    const { app: tiny, url: tinyUrl } = await startIngest(nats.names, { maxInFlight: 1 });
    try {
      const twoBranches = [makeSale({ branchId: 'branch-1' }), makeSale({ branchId: 'branch-2' })];
      const res = await post(`${tinyUrl}/v1/sales/batch`, twoBranches);
      expect(res.status).toBe(503);
      const problem = await json(res);
      expect(problem).toMatchObject({ cause: 'saturated', unavailable: 2 });
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      await tiny.close();
    }
  });
});

describe('start-up checks', () => {
  it('refuses to start when the stream is missing, naming the command that creates it', async () => {
    await expect(startIngest({ stream: 'T_MISSING_STREAM', subjectPrefix: 'tmissing' })).rejects.toThrow(
      /npm run nats:apply/,
    );
  });
});
