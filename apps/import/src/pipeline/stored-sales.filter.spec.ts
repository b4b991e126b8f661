import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SaleInput } from '@tally/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import type { SaleBatchSender, SaleOutcome } from './ingest.client.js';
import { StoredSalesFilter } from './stored-sales.filter.js';

/** A stand-in query API: answers POST /v1/sales/stored from a fixed set, or with `status`. */
async function queryApi(
  stored: readonly string[],
  status = 200,
): Promise<{ url: string; asked: string[][]; server: Server }> {
  const asked: string[][] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const ids = (JSON.parse(body) as { saleIds: string[] }).saleIds;
      asked.push(ids);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ stored: ids.filter((id) => stored.includes(id)) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked, server };
}

/** Ingest stand-in: accepts everything it is sent and records it. */
class RecordingSender implements SaleBatchSender {
  readonly sent: string[][] = [];
  async send(sales: readonly SaleInput[]): Promise<SaleOutcome[]> {
    this.sent.push(sales.map((s) => s.saleId));
    return sales.map(() => ({ status: 'accepted' as const }));
  }
}

const sale = (saleId: string) => ({ saleId }) as SaleInput;
let server: Server | undefined;

afterEach(() => {
  server?.close();
  server = undefined;
});

describe('StoredSalesFilter', () => {
  it('sends only the sales Postgres does not hold; the stored ones come back as duplicates, in order', async () => {
    const api = await queryApi(['s2', 's4']);
    server = api.server;
    const ingest = new RecordingSender();
    const filter = new StoredSalesFilter(ingest, { url: api.url, requestTimeoutMs: 5000 });
    const outcomes = await filter.send(['s1', 's2', 's3', 's4'].map(sale), 'req-1');
    expect(api.asked).toEqual([['s1', 's2', 's3', 's4']]);
    expect(ingest.sent).toEqual([['s1', 's3']]);
    expect(outcomes.map((o) => o.status)).toEqual(['accepted', 'duplicate', 'accepted', 'duplicate']);
  });

  it('sends nothing when every sale is stored (a re-import after the duplicate window)', async () => {
    const api = await queryApi(['s1', 's2']);
    server = api.server;
    const ingest = new RecordingSender();
    const filter = new StoredSalesFilter(ingest, { url: api.url, requestTimeoutMs: 5000 });
    const outcomes = await filter.send(['s1', 's2'].map(sale), 'req-1');
    expect(ingest.sent).toEqual([]);
    expect(outcomes).toEqual([{ status: 'duplicate' }, { status: 'duplicate' }]);
  });

  it('sends the batch whole and says why when the query API cannot answer', async () => {
    const api = await queryApi(['s1'], 503);
    server = api.server;
    const reasons: string[] = [];
    const ingest = new RecordingSender();
    const down = new StoredSalesFilter(ingest, {
      url: api.url,
      requestTimeoutMs: 5000,
      onUnavailable: (r) => reasons.push(r),
    });
    await down.send(['s1', 's2'].map(sale), 'req-1');
    const unreachable = new StoredSalesFilter(ingest, {
      url: 'http://127.0.0.1:9',
      requestTimeoutMs: 2000,
      onUnavailable: (r) => reasons.push(r),
    });
    await unreachable.send(['s3'].map(sale), 'req-2');
    expect(ingest.sent).toEqual([['s1', 's2'], ['s3']]);
    expect(reasons).toEqual(['query API answered 503', expect.stringMatching(/^query API unreachable/)]);
  });
});
