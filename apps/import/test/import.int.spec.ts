import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Sale } from '@tally/contracts';
import { NatsFixture } from '@tally/testing';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_ALL, KEY_BRANCH_1, startIngest } from '../../ingest/test/ingest-app.fixture.js';
import { runImport } from '../src/import.command.js';
import { loadMapping } from '../src/mapping/mapping.loader.js';
import { type ImportSummary, importCsv } from '../src/pipeline/csv-import.service.js';
import { IngestClient } from '../src/pipeline/ingest.client.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const out = mkdtempSync(path.join(tmpdir(), 'tally-import-'));

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

async function importFixture(fixture: string, preset: string, key = KEY_ALL): Promise<ImportSummary> {
  return importCsv({
    file: path.join(fixtures, fixture),
    mapping: loadMapping(preset),
    rejectsFile: path.join(out, `${fixture}.rejects.csv`),
    sender: new IngestClient({
      url,
      apiKey: key,
      requestTimeoutMs: 10_000,
      retryMinMs: 50,
      retryMaxMs: 500,
      retryForMs: 10_000,
    }),
    batchSize: 2,
    concurrency: 2,
    maxFutureSkewMs: 300_000,
  });
}

async function streamed(prefix: string): Promise<Map<string, Sale>> {
  const sales = (await nats.sales()).filter((s) => s.saleId.startsWith(`${prefix}:`));
  return new Map(sales.map((s) => [s.saleId, s]));
}

const linesOf = (sale: Sale | undefined) =>
  sale?.lines.map((l) => [l.productId, l.quantity, l.unitPrice, l.amount]);

describe('CSV import through the real ingest into JetStream', () => {
  it('imports the marketplace export: one sale per ID_ORDER, REVENUE as exact line amounts', async () => {
    const summary = await importFixture('marketplace.csv', 'marketplace');
    expect(summary.counts).toMatchObject({
      receipts: 3,
      accepted: 3,
      duplicate: 0,
      rejected: 0,
      rowsImported: 6,
      rowsRejected: 0,
    });
    expect(summary.rows).toBe(6);

    const sales = await streamed('mkt');
    expect([...sales.keys()].sort()).toEqual(['mkt:34033734', 'mkt:34033801', 'mkt:34033802']);
    const first = sales.get('mkt:34033734')!;
    expect(first).toMatchObject({
      branchId: 'marketplace',
      currency: 'EUR',
      occurredAt: '2021-01-07T00:09:24Z',
      customerId: '9666775',
      sellerCountry: '203',
      buyerCountry: '170',
      total: '177.77',
    });
    expect(first.lines.map((l) => [l.productId, l.brand, l.category, l.amount])).toEqual([
      ['13681706', 'Dsquared2', 'clothing', '57.27'],
      ['13681711', 'Dolce, Gabbana', 'accessories', '120.5'],
    ]);
    expect(sales.get('mkt:34033801')!.lines[0]).toMatchObject({
      category: 'uncategorized',
      amount: '899.99',
    });
    expect(sales.get('mkt:34033802')).toMatchObject({ total: '45.3', occurredAt: '2021-01-08T08:00:01Z' });
    expect(sales.get('mkt:34033802')!.lines[0]!.brand).toBeUndefined();
  });

  it('imports the supermarket Purchases.csv: products from the preset list, one unit each, per branch', async () => {
    const summary = await importFixture('purchases.csv', 'supermarket');
    expect(summary.counts).toMatchObject({ receipts: 3, accepted: 3, rejected: 0, rowsImported: 6 });

    const sales = await streamed('smk');
    expect(sales.get('smk:1001')).toMatchObject({
      branchId: 'branch-north',
      cashierId: 'c-07',
      customerId: 'CUST-0042',
      occurredAt: '2025-03-01T09:15:02Z',
      total: '6.65',
    });
    expect(linesOf(sales.get('smk:1001'))).toEqual([
      ['P001', 1, '1.15', '1.15'],
      ['P002', 1, '3.4', '3.4'],
      ['P010', 1, '2.1', '2.1'],
    ]);
    expect(sales.get('smk:1002')).toMatchObject({ branchId: 'branch-south', total: '1.79' });
    expect(sales.get('smk:1002')!.customerId).toBeUndefined();
    expect(sales.get('smk:1002')!.lines[0]).toMatchObject({
      productId: 'P004',
      productName: 'Bananas 1kg',
      category: 'produce',
    });
    expect(sales.get('smk:1003')).toMatchObject({ branchId: 'branch-centre', total: '16.44' });
  });

  it('imports the Django sales CSV: SGD amounts, Singapore dates, product ids from names', async () => {
    const summary = await importFixture('django-sales.csv', 'django-sales');
    expect(summary.counts).toMatchObject({ receipts: 3, accepted: 3, rejected: 0, rowsImported: 4 });

    const sales = await streamed('dj');
    expect(sales.get('dj:ORD-1001')).toMatchObject({
      branchId: 'django-shop',
      currency: 'SGD',
      occurredAt: '2024-05-02T00:00:00+08:00',
      total: '6.3',
    });
    expect(linesOf(sales.get('dj:ORD-1001'))).toEqual([
      ['green-tea-500ml', 1, '3.5', '3.5'],
      ['kaya-toast', 1, '2.8', '2.8'],
    ]);
    expect(sales.get('dj:ORD-1002')).toMatchObject({ occurredAt: '2024-05-02T14:05:00+08:00', total: '5' });
    expect(sales.get('dj:ORD-1003')).toMatchObject({ total: '1.9' });
  });

  it('changes nothing when the same file is imported again: every sale comes back as already stored', async () => {
    const before = await nats.messageCount();
    const salesBefore = (await nats.sales()).length;
    for (const [fixture, preset] of [
      ['marketplace.csv', 'marketplace'],
      ['purchases.csv', 'supermarket'],
      ['django-sales.csv', 'django-sales'],
    ] as const) {
      const again = await importFixture(fixture, preset);
      expect(again.counts).toMatchObject({ accepted: 0, duplicate: 3, rejected: 0 });
    }
    expect(await nats.messageCount()).toBe(before);
    expect((await nats.sales()).length).toBe(salesBefore);
  });

  it('reports each bad row with its line and reason in the rejects file and imports the rest (CLI, branch-scoped key)', async () => {
    const before = await nats.messageCount();
    const lines: string[] = [];
    const errors: string[] = [];
    const rejectsFile = path.join(out, 'bad.rejects.csv');
    const code = await runImport(
      [
        'purchases-bad-rows.csv',
        '--mapping',
        'supermarket',
        '--rejects',
        rejectsFile,
        '--json',
        '--batch-size',
        '3',
      ],
      { IMPORT_URL: url, IMPORT_API_KEY: KEY_BRANCH_1 },
      { out: (l) => lines.push(l), err: (l) => errors.push(l), cwd: fixtures },
    );
    expect(errors).toEqual([]);
    expect(code).toBe(1);
    const summary = JSON.parse(lines[0]!) as ImportSummary;
    expect(summary.rows).toBe(14);
    // Receipts: 2001–2010, with 2006 twice (its two separate parts); 2001, 2007 and 2009 are stored.
    expect(summary.counts).toMatchObject({
      receipts: 11,
      accepted: 3,
      duplicate: 0,
      rejected: 8,
      rowsImported: 4,
      rowsRejected: 10,
    });
    expect(summary.rowsNotSent).toBe(0);

    const rejects = parse(readFileSync(rejectsFile), { columns: true }) as Array<Record<string, string>>;
    const byLine = rejects
      .map((r) => [Number(r.line), r.rule])
      .sort(([a], [b]) => (a as number) - (b as number));
    expect(byLine).toEqual([
      [4, 'date'],
      [5, 'unknown-product'],
      [6, 'receipt-rejected'],
      [7, 'forbidden-branch'],
      [8, 'future-skew'],
      [9, 'receipt-not-consecutive'],
      [11, 'receipt-not-consecutive'],
      [12, 'column-count'],
      [14, 'receipt-rejected'],
      [15, 'receipt-inconsistent'],
    ]);
    const reasonOf = (line: number) => rejects.find((r) => Number(r.line) === line)!;
    expect(reasonOf(4).reason).toBe(
      'occurredAt (column purchased_at): date: "2025-03-01 25:00:00": hour 25 is not 0–23',
    );
    expect(reasonOf(6).reason).toContain('line 5: lines.product (column product): unknown-product');
    expect(reasonOf(7)).toMatchObject({
      order_id: '2004',
      sale_id: 'smk:2004',
      reason: expect.stringContaining('branchId (column branch_id): forbidden-branch'),
    });
    expect(reasonOf(8).reason).toContain('occurredAt (column purchased_at): future-skew');
    expect(reasonOf(12).raw).toBe('2008,branch-1,c-1,C7,2025-03-01 12:10:00,Cheddar 400g,extra');
    expect(reasonOf(15).reason).toContain('cashierId (column cashier_id)');
    expect(reasonOf(14).reason).toContain('line 15: cashierId');

    const sales = (await nats.sales())
      .filter((s) => /^smk:20/.test(s.saleId))
      .map((s) => s.saleId)
      .sort();
    expect(sales).toEqual(['smk:2001', 'smk:2007', 'smk:2009']);
    expect(await nats.messageCount()).toBeGreaterThan(before);
  });
});
