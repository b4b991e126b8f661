import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Sale } from '@tally/contracts';
import { ensureDatabase, SalesWriteRepository } from '@tally/postgres';
import { makeStreamSale, PostgresFixture, TcpProxy } from '@tally/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get, json, KEY_ALL, KEY_BRANCH_1, startQuery } from './query-app.fixture.js';

let db: PostgresFixture;
let writer: SalesWriteRepository;
let app: NestFastifyApplication;
let url: string;
let seq = 0;

/** Stores sales as the writer would, each with its own stream sequence. */
async function store(...sales: Sale[]): Promise<void> {
  await writer.insert(sales.map((sale) => ({ sale, streamSeq: ++seq, requestId: `req-${seq}` })));
}

/** Every saleId of a listing, following nextCursor page by page; also how many pages it took. */
async function pageThrough(query: string, key?: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const res = await get(`${url}/v1/sales?${query}${cursor ? `&cursor=${cursor}` : ''}`, key);
    expect(res.status).toBe(200);
    const page = await json(res);
    ids.push(...page.items.map((s: { saleId: string }) => s.saleId));
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined && pages < 100);
  return { ids, pages };
}

beforeAll(async () => {
  db = await PostgresFixture.create();
  writer = new SalesWriteRepository(db.client);
  ({ app, url } = await startQuery(db.url));
});

afterAll(async () => {
  await app?.close();
  await db?.dispose();
});

describe('GET /v1/sales/:saleId against the real Postgres', () => {
  it('answers a sale with its lines, and a return stored against it lowers its net total', async () => {
    const sale = makeStreamSale({ branchId: 'q-detail' }); // 2 × 1.99 + (0.89 − 0.10) = 4.77
    const ret = makeStreamSale({
      branchId: 'q-detail',
      kind: 'return',
      originalSaleId: sale.saleId,
      lines: [{ productId: 'p-apple', category: 'fruit', quantity: 1, unitPrice: '1.99' }],
    });
    await store(sale, ret);

    const res = await get(`${url}/v1/sales/${sale.saleId}`, undefined, { 'x-request-id': 'q-trace-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('q-trace-1');
    const detail = await json(res);
    expect(detail).toMatchObject({
      saleId: sale.saleId,
      kind: 'sale',
      branchId: 'q-detail',
      currency: 'EUR',
      total: '4.77',
      lineCount: 2,
      returnedTotal: '1.99',
      netTotal: '2.78',
      returns: [{ saleId: ret.saleId, total: '1.99' }],
    });
    expect(detail.lines).toEqual(sale.lines);

    const reversed = await json(await get(`${url}/v1/sales/${ret.saleId}`));
    expect(reversed).toMatchObject({
      kind: 'return',
      originalSaleId: sale.saleId,
      total: '1.99',
      netTotal: '-1.99',
    });
    expect(reversed.returnedTotal).toBeUndefined();
  });

  it('answers 404 problem+json for a saleId that is not stored', async () => {
    const res = await get(`${url}/v1/sales/no-such-sale`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(res)).toMatchObject({ type: 'urn:tally:problem:not-found', status: 404 });
  });
});

describe('GET /v1/sales against the real Postgres', () => {
  it('pages through a branch with limit=2, returning every sale exactly once, newest first', async () => {
    const tie = '2026-03-01T10:00:00Z';
    // Three sales in one instant (ordered by saleId) and three within one millisecond: page
    // boundaries fall between sales that differ only in microseconds.
    const sales = [
      ...[1, 2, 3].map(() => makeStreamSale({ branchId: 'q-pages', occurredAt: tie })),
      ...[100, 200, 300].map((us) =>
        makeStreamSale({ branchId: 'q-pages', occurredAt: `2026-03-01T10:00:01.000${us}Z` }),
      ),
      makeStreamSale({ branchId: 'q-pages', occurredAt: '2026-03-01T09:00:00+01:00' }),
    ];
    await store(...sales, makeStreamSale({ branchId: 'q-other', occurredAt: tie }));

    const desc = await pageThrough('branchId=q-pages&limit=2');
    expect(desc.ids).toHaveLength(sales.length);
    expect(new Set(desc.ids)).toEqual(new Set(sales.map((s) => s.saleId)));
    expect(desc.pages).toBe(4);
    expect(desc.ids.slice(0, 3)).toEqual(
      sales
        .slice(3, 6)
        .map((s) => s.saleId)
        .reverse(),
    );
    expect(desc.ids.at(-1)).toBe(sales[6]!.saleId);

    const asc = await pageThrough('branchId=q-pages&limit=2&order=asc');
    expect(asc.ids).toEqual([...desc.ids].reverse());
  });

  it('lists occurredAt in [from, to): from inclusive, to exclusive, with any offset', async () => {
    const at = (time: string) => makeStreamSale({ branchId: 'q-window', occurredAt: `2026-03-01T${time}Z` });
    const sales = [at('10:00:00'), at('10:30:00'), at('11:00:00'), at('11:30:00')];
    await store(...sales);

    const res = await get(
      `${url}/v1/sales?branchId=q-window&order=asc&from=2026-03-01T10:30:00Z&to=${encodeURIComponent('2026-03-01T12:30:00+01:00')}`,
    );
    expect(res.status).toBe(200);
    const page = await json(res);
    expect(page.items.map((s: { saleId: string }) => s.saleId)).toEqual([sales[1]!.saleId, sales[2]!.saleId]);
    expect(page.nextCursor).toBeUndefined();
  });

  it('filters by customer and answers summaries with exact money, without lines', async () => {
    const mine = makeStreamSale({ branchId: 'q-customer', customerId: 'C-QUERY-1' });
    await store(mine, makeStreamSale({ branchId: 'q-customer', customerId: 'C-QUERY-2' }));
    const page = await json(await get(`${url}/v1/sales?customerId=C-QUERY-1`));
    expect(page.items).toEqual([
      expect.objectContaining({ saleId: mine.saleId, total: '4.77', netTotal: '4.77', lineCount: 2 }),
    ]);
    expect(page.items[0].lines).toBeUndefined();
  });

  it.each([
    ['limit=0', '/query/limit', 'minimum'],
    ['limit=501', '/query/limit', 'maximum'],
    ['limit=many', '/query/limit', 'type'],
    ['limit=1&limit=2', '/query/limit', 'repeated'],
    ['order=sideways', '/query/order', 'enum'],
    ['from=yesterday', '/query/from', 'rfc3339'],
    ['to=2026-02-30T00:00:00Z', '/query/to', 'rfc3339'],
    ['from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', '/query/to', 'after-from'],
    ['branchId=no.dots', '/query/branchId', 'pattern'],
    ['customerId=a%20b', '/query/customerId', 'pattern'],
    ['cursor=not-a-cursor', '/query/cursor', 'cursor'],
    ['page=2', '/query/page', 'unknown-parameter'],
  ])('refuses ?%s with 400 naming %s and rule %s', async (query, pointer, rule) => {
    const res = await get(`${url}/v1/sales?${query}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await json(res);
    expect(problem).toMatchObject({ type: 'urn:tally:problem:invalid-parameters', status: 400 });
    expect(problem.errors).toEqual([expect.objectContaining({ pointer, rule })]);
  });

  it('refuses a cursor with the other order than it was issued for', async () => {
    await store(...[1, 2, 3].map(() => makeStreamSale({ branchId: 'q-cursor' })));
    const first = await json(await get(`${url}/v1/sales?branchId=q-cursor&limit=1`));
    expect(first.nextCursor).toEqual(expect.any(String));

    const res = await get(`${url}/v1/sales?branchId=q-cursor&limit=1&order=asc&cursor=${first.nextCursor}`);
    expect(res.status).toBe(400);
    expect((await json(res)).errors).toEqual([
      expect.objectContaining({ pointer: '/query/cursor', rule: 'cursor-order' }),
    ]);
  });

  it('refuses a malformed saleId and query parameters on GET by id with 400', async () => {
    const bad = await get(`${url}/v1/sales/${encodeURIComponent('no spaces')}`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).errors).toEqual([
      expect.objectContaining({ pointer: '/path/saleId', rule: 'pattern' }),
    ]);
    const extra = await get(`${url}/v1/sales/some-sale?verbose=1`);
    expect(extra.status).toBe(400);
    expect((await json(extra)).errors).toEqual([
      expect.objectContaining({ pointer: '/query/verbose', rule: 'unknown-parameter' }),
    ]);
  });
});

describe('API keys scoped to branches', () => {
  let own: Sale;
  let foreign: Sale;

  beforeAll(async () => {
    own = makeStreamSale({ branchId: 'branch-1' });
    foreign = makeStreamSale({ branchId: 'branch-2' });
    await store(own, foreign);
  });

  it("reads its own branch's sale, and answers another branch's sale exactly as an unknown one: 404", async () => {
    expect((await get(`${url}/v1/sales/${own.saleId}`, KEY_BRANCH_1)).status).toBe(200);

    const hidden = await get(`${url}/v1/sales/${foreign.saleId}`, KEY_BRANCH_1);
    const unknown = await get(`${url}/v1/sales/no-such-sale`, KEY_BRANCH_1);
    expect(hidden.status).toBe(404);
    const [a, b] = [await json(hidden), await json(unknown)];
    expect({ ...a, detail: '', instance: '', requestId: '' }).toEqual({
      ...b,
      detail: '',
      instance: '',
      requestId: '',
    });
    expect(JSON.stringify(a)).not.toContain('branch-2');
  });

  it('lists its own branch only, and answers 403 for a branch outside its scope', async () => {
    const page = await json(await get(`${url}/v1/sales?branchId=branch-1`, KEY_BRANCH_1));
    expect(page.items.map((s: { saleId: string }) => s.saleId)).toContain(own.saleId);
    expect(page.items.every((s: { branchId: string }) => s.branchId === 'branch-1')).toBe(true);

    const res = await get(`${url}/v1/sales?branchId=branch-2`, KEY_BRANCH_1);
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({
      type: 'urn:tally:problem:forbidden-branch',
      errors: [{ pointer: '/query/branchId', rule: 'forbidden-branch' }],
    });
  });

  it('requires a scoped key to name its branch (400 required); a * key may list every branch', async () => {
    const res = await get(`${url}/v1/sales`, KEY_BRANCH_1);
    expect(res.status).toBe(400);
    expect((await json(res)).errors).toEqual([
      expect.objectContaining({ pointer: '/query/branchId', rule: 'required' }),
    ]);

    const all = await pageThrough('limit=500');
    expect(all.ids).toEqual(expect.arrayContaining([own.saleId, foreign.saleId]));
  });

  it('refuses requests without a known API key with 401', async () => {
    for (const res of [await get(`${url}/v1/sales`, null), await get(`${url}/v1/sales`, 'not-a-key')]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect((await get(`${url}/v1/sales/${own.saleId}`, null)).status).toBe(401);
  });
});

describe('observability', () => {
  it('reports readiness, liveness and Prometheus metrics by route and status', async () => {
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await json(ready)).toEqual({ status: 'ready', checks: { postgres: true } });
    expect((await fetch(`${url}/health/live`)).status).toBe(200);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/tally_query_requests_total\{route="\/v1\/sales\/:saleId",status="200"\} [1-9]/);
    expect(metrics).toMatch(/tally_query_requests_total\{route="\/v1\/sales",status="400"\} [1-9]/);
    expect(metrics).toContain('tally_query_request_seconds_bucket');
    expect(metrics).toMatch(/tally_query_db_connections\{state="total"\} [1-9]/);
    expect(metrics).toContain('process_cpu_seconds_total');
  });

  it('serves the OpenAPI document of both routes', async () => {
    const doc = await json(await fetch(`${url}/docs-json`));
    expect(doc.paths['/v1/sales'].get).toBeDefined();
    expect(doc.paths['/v1/sales/{saleId}'].get).toBeDefined();
  });
});

describe('when Postgres is unreachable or slow', () => {
  let proxy: TcpProxy;
  let cutApp: NestFastifyApplication;
  let cutUrl: string;

  beforeAll(async () => {
    const server = new URL(db.url);
    proxy = await TcpProxy.start(server.hostname, Number(server.port || 5432));
    ({ app: cutApp, url: cutUrl } = await startQuery(db.urlVia(proxy.url)));
  });

  afterEach(() => proxy.heal());

  afterAll(async () => {
    await cutApp?.close();
    await proxy?.close();
  });

  it('reports not ready and answers reads 503 with Retry-After while the link is cut, and recovers after', async () => {
    expect((await fetch(`${cutUrl}/health/ready`)).status).toBe(200);
    proxy.cut();
    await expect
      .poll(async () => (await fetch(`${cutUrl}/health/ready`)).status, { timeout: 5000 })
      .toBe(503);
    expect(await json(await fetch(`${cutUrl}/health/ready`))).toEqual({
      status: 'not-ready',
      checks: { postgres: false },
    });

    const res = await get(`${cutUrl}/v1/sales?branchId=branch-1`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(res)).toMatchObject({ type: 'urn:tally:problem:unavailable' });

    proxy.heal();
    await expect
      .poll(async () => (await fetch(`${cutUrl}/health/ready`)).status, { timeout: 10_000 })
      .toBe(200);
    expect((await get(`${cutUrl}/v1/sales?branchId=branch-1`)).status).toBe(200);
  });

  it('answers 503 when a read outlasts QUERY_STATEMENT_TIMEOUT instead of holding the connection', async () => {
    const { app: slow, url: slowUrl } = await startQuery(db.url, { statementTimeoutMs: 200 });
    const locker = await db.client.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE sales IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const res = await get(`${slowUrl}/v1/sales?branchId=branch-1`);
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
      await slow.close();
    }
  });
});

describe('start-up checks', () => {
  it('refuses to start on a database without the schema, naming npm run db:migrate', async () => {
    const empty = new URL(db.url);
    empty.pathname = `${empty.pathname.replace('tally_t_', 'tally_q_')}`;
    await ensureDatabase(empty.toString());
    try {
      await expect(startQuery(empty.toString())).rejects.toThrow(/npm run db:migrate/);
    } finally {
      await db.query(`DROP DATABASE IF EXISTS "${empty.pathname.slice(1)}" WITH (FORCE)`);
    }
  });

  it('refuses to start when Postgres cannot be reached', async () => {
    await expect(startQuery('postgres://postgres@127.0.0.1:1/tally')).rejects.toThrow(
      /cannot check the database schema/,
    );
  });
});

describe('POST /v1/sales/stored against the real Postgres', () => {
  const post = (body: unknown, key = KEY_ALL) =>
    fetch(`${url}/v1/sales/stored`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers which ids are stored, in the order asked, leaving out unknown ids and branches the key may not read', async () => {
    const mine = makeStreamSale({ branchId: 'branch-1' });
    const theirs = makeStreamSale({ branchId: 'q-stored-other' });
    await store(mine, theirs);
    const asked = ['never-stored-1', theirs.saleId, mine.saleId];

    const all = await post({ saleIds: asked });
    expect(all.status).toBe(200);
    expect(await json(all)).toEqual({ stored: [theirs.saleId, mine.saleId] });

    const scoped = await post({ saleIds: asked }, KEY_BRANCH_1);
    expect(scoped.status).toBe(200);
    expect(await json(scoped)).toEqual({ stored: [mine.saleId] });
  });

  it('refuses a body without 1 to 5,000 valid sale ids, naming the field and the rule', async () => {
    for (const body of [{}, { saleIds: [] }, { saleIds: Array.from({ length: 5001 }, (_, i) => `s${i}`) }]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect((await json(res)).errors).toEqual([
        expect.objectContaining({ pointer: '/body/saleIds', rule: 'array' }),
      ]);
    }
    const bad = await post({ saleIds: ['ok-1', 'not ok', 7] });
    expect(bad.status).toBe(400);
    expect((await json(bad)).errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/body/saleIds/1',
      '/body/saleIds/2',
    ]);
  });
});
