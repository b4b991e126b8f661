import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMapping } from '../src/mapping/mapping.loader.js';
import { importCsv } from '../src/pipeline/csv-import.service.js';
import { IngestClient } from '../src/pipeline/ingest.client.js';

/**
 * Memory stays flat on a large file: 300,000 marketplace rows (100,000 orders of three lines,
 * ~25 MB) go through both passes and a local HTTP endpoint that accepts batches like ingest
 * (a stub, so that the measured process holds only the import, not ingest and its NATS client).
 * The endpoint answers each batch after a few milliseconds, slower than the file can be read, so
 * without back-pressure the reader would run ahead and hold the file in memory.
 */

// A full collection before each sample, so the samples are what the import retains, not garbage
// the collector has not come round to yet (V8 lets that grow by 100 MB and more under this load).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ORDERS = 100_000;
const LINES_PER_ORDER = 3;
const dir = mkdtempSync(path.join(tmpdir(), 'tally-import-memory-'));
const file = path.join(dir, 'large-marketplace.csv');
let server: Server;
let url: string;
const stub = { requests: 0, sales: 0, inFlight: 0, maxInFlight: 0 };

beforeAll(async () => {
  const out = createWriteStream(file);
  out.write(
    'ID_ORDER,ID_PRODUCT,ID_BUYER,ID_SELLER,ID_SELLER_COUNTRY,ID_BUYER_COUNTRY,DATE_PAYMENT,BRAND,CATEGORY,REVENUE\n',
  );
  let chunk = '';
  for (let order = 0; order < ORDERS; order++) {
    const when = new Date(Date.UTC(2021, 0, 1) + order * 60_000).toISOString().slice(0, 19).replace('T', ' ');
    for (let line = 0; line < LINES_PER_ORDER; line++) {
      chunk += `${40_000_000 + order},${13_000_000 + ((order * 7 + line) % 5000)},${9_000_000 + (order % 20_000)},6723223,203,170,${when},Brand ${line},category-${line},${(order % 1000) + line}.${String(order % 100).padStart(2, '0')}\n`;
    }
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');

  server = createServer((req, res) => {
    stub.inFlight++;
    stub.maxInFlight = Math.max(stub.maxInFlight, stub.inFlight);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (part) => (body += part));
    req.on('end', () => {
      const count = (JSON.parse(body) as unknown[]).length;
      stub.requests++;
      stub.sales += count;
      setTimeout(() => {
        stub.inFlight--;
        const results = Array.from({ length: count }, (_, index) => ({
          index,
          status: 'accepted',
          seq: stub.requests,
        }));
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accepted: count, duplicate: 0, rejected: 0, unavailable: 0, results }));
      }, 5);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('import memory', () => {
  it('stays flat on a 300,000-row file: heap bounded by the batches in flight, not by the file', async () => {
    const samples: Array<{ phase: string; rows: number; heap: number; rss: number }> = [];
    let phase = 'start';
    let rows = 0;
    const sample = () => {
      gc();
      const { heapUsed, rss } = process.memoryUsage();
      samples.push({ phase, rows, heap: heapUsed, rss });
    };
    sample();
    const timer = setInterval(sample, 200);
    const started = Date.now();
    const summary = await importCsv({
      file,
      mapping: loadMapping('marketplace'),
      rejectsFile: path.join(dir, 'rejects.csv'),
      sender: new IngestClient({
        url,
        requestTimeoutMs: 30_000,
        retryMinMs: 100,
        retryMaxMs: 1000,
        retryForMs: 30_000,
      }),
      batchSize: 1000,
      concurrency: 4,
      maxFutureSkewMs: 300_000,
      onProgress: (p) => {
        phase = p.phase;
        rows = p.rows;
      },
    });
    clearInterval(timer);
    sample();
    const elapsed = Date.now() - started;

    expect(summary.counts).toMatchObject({
      receipts: ORDERS,
      accepted: ORDERS,
      rejected: 0,
      rowsImported: ORDERS * LINES_PER_ORDER,
    });
    expect(stub.sales).toBe(ORDERS);
    expect(stub.maxInFlight).toBeLessThanOrEqual(4);

    const MiB = 1024 * 1024;
    const fileSize = statSync(file).size;
    const baseline = samples[0]!.heap;
    const importing = samples.filter((s) => s.phase === 'import');
    const peak = Math.max(...samples.map((s) => s.heap));
    const quarter = Math.floor(importing.length / 4);
    const mean = (list: typeof samples) => list.reduce((sum, s) => sum + s.heap, 0) / list.length;
    const early = mean(importing.slice(0, quarter));
    const late = mean(importing.slice(-quarter));
    const report = {
      fileMiB: +(fileSize / MiB).toFixed(1),
      seconds: elapsed / 1000,
      samples: samples.length,
      baselineMiB: +(baseline / MiB).toFixed(1),
      peakHeapGrowthMiB: +((peak - baseline) / MiB).toFixed(1),
      earlyImportHeapMiB: +(early / MiB).toFixed(1),
      lateImportHeapMiB: +(late / MiB).toFixed(1),
      peakRssMiB: +(Math.max(...samples.map((s) => s.rss)) / MiB).toFixed(1),
    };
    console.log(`import memory: ${JSON.stringify(report)}`);

    expect(fileSize).toBeGreaterThan(20 * MiB);
    expect(importing.length).toBeGreaterThan(20);
    // Holding the file would take several times its size in heap (10 strings per row plus the
    // sales built from them); the import holds (concurrency + 1) × 1,000 receipts at most.
    expect(peak - baseline).toBeLessThan(48 * MiB);
    // Flat: the last quarter of the import uses no more heap than the first, give or take GC.
    expect(late - early).toBeLessThan(8 * MiB);
  }, 120_000);
});
