/**
 * `npm run bench:clickhouse`: the aggregator's ClickHouse flush into embedded chdb, against a bare
 * insert of the same rows in the same run.
 *
 *   baseline  the rows of N generated sales, already converted, inserted in blocks of
 *             --block rows with @clickhouse/client (what any loader would at least do)
 *   flush     the same sales through ClickHouseFlusher.accept() in batches of --batch sales:
 *             row conversion, blocks, deduplication tokens, and the rollup refresh per block
 *
 * Each case gets a fresh chdb folder (one open folder per process: the first is closed before
 * the second opens). Prints JSON lines: machine, each case's rows/s, and the ratio flush/baseline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ClickHouseClient, migrateClickHouse } from '@tally/clickhouse';
import { seededRandom } from '@tally/common';
import { type StreamedSale, validateSale } from '@tally/contracts';
import { pino } from 'pino';
import { ClickHouseFlusher } from '../../apps/aggregator/src/clickhouse/clickhouse-flusher.js';
import { saleLineRows } from '../../apps/aggregator/src/clickhouse/sale-line-rows.js';
import { round } from '../common/bench-math.js';
import { emit, progress } from '../common/bench-output.js';

const log = progress('bench:clickhouse');
const { values } = parseArgs({
  options: {
    sales: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '1000' },
    block: { type: 'string', default: '100000' },
  },
});
const SALES = Number(values.sales);
const BATCH = Number(values.batch);
const BLOCK = Number(values.block);

function generate(): StreamedSale[] {
  const random = seededRandom(42);
  const now = Date.now();
  const out: StreamedSale[] = [];
  for (let i = 0; i < SALES; i++) {
    const occurred = now - Math.floor(random() * 3_600_000);
    const result = validateSale(
      {
        saleId: `bench-${i}`,
        kind: 'sale',
        branchId: `branch-${Math.floor(random() * 50)}`,
        customerId: `cust-${Math.floor(random() * 50_000)}`,
        buyerCountry: 'DE',
        sellerCountry: 'FR',
        occurredAt: new Date(occurred).toISOString(),
        currency: 'EUR',
        lines: Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
          const product = Math.floor(random() * 2000);
          return {
            productId: `p-${product}`,
            category: `cat-${product % 20}`,
            quantity: 1 + Math.floor(random() * 3),
            unitPrice: `${1 + (product % 90)}.${product % 100}`,
          };
        }),
      },
      { now, maxFutureSkewMs: 60_000 },
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    out.push({ sale: result.sale, streamSeq: i + 1 });
  }
  return out;
}

async function withFolder<T>(run: (client: ClickHouseClient) => Promise<T>): Promise<T> {
  const dataPath = mkdtempSync(path.join(tmpdir(), 'bench-chdb-'));
  const client = await ClickHouseClient.open({ mode: 'embedded', dataPath });
  try {
    await migrateClickHouse(client);
    return await run(client);
  } finally {
    await client.close();
    rmSync(dataPath, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  emit({
    bench: 'clickhouse',
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    node: process.version,
    sales: SALES,
  });
  log(`generating ${SALES} sales`);
  const sales = generate();
  const rows = sales.flatMap(saleLineRows);
  log(`${rows.length} rows`);

  const baseline = await withFolder(async (client) => {
    const started = performance.now();
    for (let i = 0; i < rows.length; i += BLOCK) await client.insert('sale_lines', rows.slice(i, i + BLOCK));
    const seconds = (performance.now() - started) / 1000;
    return {
      seconds,
      stored: Number((await client.rows<{ n: string }>('SELECT count() AS n FROM sale_lines'))[0]!.n),
    };
  });
  emit({
    case: 'bare-insert',
    rows: rows.length,
    block_rows: BLOCK,
    seconds: round(baseline.seconds, 3),
    rows_per_s: Math.round(rows.length / baseline.seconds),
    stored: baseline.stored,
  });

  const flush = await withFolder(async (client) => {
    const flusher = new ClickHouseFlusher(
      client,
      {
        maxRows: BLOCK,
        maxMessages: 1_000_000,
        maxWaitMs: 1000,
        rollupEveryMs: 5000,
        retryMinMs: 100,
        retryMaxMs: 1000,
      },
      { flushed: () => undefined, failed: () => undefined },
      pino({ level: 'silent' }),
    );
    const started = performance.now();
    const durable: Promise<void>[] = [];
    for (let i = 0; i < sales.length; i += BATCH) {
      durable.push((await flusher.accept({ sales: sales.slice(i, i + BATCH), messages: [] })).durable);
    }
    await flusher.close();
    await Promise.all(durable);
    const seconds = (performance.now() - started) / 1000;
    return {
      seconds,
      stored: Number((await client.rows<{ n: string }>('SELECT count() AS n FROM sale_lines FINAL'))[0]!.n),
    };
  });
  emit({
    case: 'flush',
    rows: rows.length,
    batch_sales: BATCH,
    block_rows: BLOCK,
    seconds: round(flush.seconds, 3),
    rows_per_s: Math.round(rows.length / flush.seconds),
    stored: flush.stored,
    includes: 'row conversion, dedup tokens, rollup refresh per block',
  });
  emit({
    ratio: 'flush/bare-insert',
    value: round(baseline.seconds / flush.seconds, 3),
    goal_rows_per_s: 100_000,
    meets_goal: rows.length / flush.seconds >= 100_000,
  });
}

await main();
