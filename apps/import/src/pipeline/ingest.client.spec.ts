import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SaleInput } from '@tally/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestClient, type IngestClientOptions } from './ingest.client.js';

type Handler = (body: unknown[], req: IncomingMessage, res: ServerResponse) => void;
let server: Server | undefined;

async function serve(handler: Handler): Promise<string> {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => handler(JSON.parse(text), req, res));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  const open = server;
  server = undefined;
  if (open !== undefined) await new Promise((resolve) => open.close(resolve));
});

const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const sales = [{ saleId: 't:1' }, { saleId: 't:2' }, { saleId: 't:3' }] as SaleInput[];
const client = (url: string, extra: Partial<IngestClientOptions> = {}) =>
  new IngestClient({
    url,
    requestTimeoutMs: 5000,
    retryMinMs: 10,
    retryMaxMs: 50,
    retryForMs: 5000,
    ...extra,
  });

describe('ingest client', () => {
  it('sends the batch with key and request id and reads one outcome per sale', async () => {
    let seen: { auth?: string; id?: string; body?: unknown[] } = {};
    const url = await serve((body, req, res) => {
      seen = { auth: req.headers.authorization, id: req.headers['x-request-id'] as string, body };
      reply(res, 202, {
        accepted: 1,
        duplicate: 1,
        rejected: 1,
        unavailable: 0,
        results: [
          { index: 0, saleId: 't:1', status: 'accepted', seq: 1 },
          { index: 1, saleId: 't:2', status: 'duplicate', seq: 1 },
          {
            index: 2,
            saleId: 't:3',
            status: 'rejected',
            errors: [{ pointer: '/branchId', rule: 'forbidden-branch', message: 'no' }],
          },
        ],
      });
    });
    const outcomes = await client(url, { apiKey: 'k1' }).send(sales, 'import-x-1');
    expect(seen).toEqual({ auth: 'Bearer k1', id: 'import-x-1', body: sales });
    expect(outcomes).toEqual([
      { status: 'accepted' },
      { status: 'duplicate' },
      { status: 'rejected', errors: [{ pointer: '/branchId', rule: 'forbidden-branch', message: 'no' }] },
    ]);
  });

  it('resends a batch after a 503 and counts sales stored by the first attempt as accepted, not duplicate', async () => {
    let calls = 0;
    const retries: Array<number | string> = [];
    const url = await serve((_body, _req, res) => {
      calls++;
      if (calls === 1) {
        reply(
          res,
          503,
          {
            title: 'unavailable',
            results: [
              { index: 0, status: 'accepted', seq: 1 },
              { index: 1, status: 'unavailable' },
              { index: 2, status: 'unavailable' },
            ],
          },
          { 'retry-after': '0' },
        );
        return;
      }
      reply(res, 202, {
        results: [0, 1, 2].map((index) => ({
          index,
          status: index === 0 ? 'duplicate' : 'accepted',
          seq: 2,
        })),
      });
    });
    const outcomes = await client(url, { onRetry: ({ status }) => retries.push(status) }).send(sales, 'r');
    expect(calls).toBe(2);
    expect(retries).toEqual([503]);
    expect(outcomes).toEqual([{ status: 'accepted' }, { status: 'accepted' }, { status: 'accepted' }]);
  });

  it('reads a 422 whose every sale was rejected as per-sale rejections', async () => {
    const url = await serve((_b, _r, res) =>
      reply(res, 422, {
        results: [0, 1, 2].map((index) => ({
          index,
          status: 'rejected',
          errors: [{ pointer: '/occurredAt', rule: 'future-skew', message: 'm' }],
        })),
      }),
    );
    const outcomes = await client(url).send(sales, 'r');
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
  });

  it('gives up at once on 401, naming the key setting', async () => {
    const url = await serve((_b, _r, res) => reply(res, 401, { title: 'Unauthorized' }));
    await expect(client(url).send(sales, 'r')).rejects.toThrow(/401\): pass --api-key or set IMPORT_API_KEY/);
  });

  it('gives up after retrying an unreachable ingest for retryForMs', async () => {
    const url = await serve((_b, _r, res) => reply(res, 202, {}));
    const open = server!;
    server = undefined;
    await new Promise((resolve) => open.close(resolve));
    await expect(client(url, { retryForMs: 200 }).send(sales, 'r')).rejects.toThrow(
      /stayed unavailable .*unreachable \(ECONNREFUSED\)/,
    );
  });
});
