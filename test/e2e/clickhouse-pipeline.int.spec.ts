import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ClickHouseClient } from '@tally/clickhouse';
import { freeLoopbackPort } from '@tally/common';
import { NatsFixture, PostgresFixture, TEST_NATS_URL } from '@tally/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  loadReportQueries,
  prepareReport,
  REPORTS,
} from '../../apps/aggregator/src/reports/report-catalog.js';
import { aggregatorEnv } from '../../apps/aggregator/test/aggregator-app.fixture.js';
import { startIngest } from '../../apps/ingest/test/ingest-app.fixture.js';
import { startWriter } from '../../apps/writer/test/writer-app.fixture.js';
import { IngestLedger, Random, runLoad, SaleGenerator } from './load.js';
import { consumerDrained, storedState } from './stored.js';
import { AGGREGATOR_MAIN, buildDist, ChildOutput, WriterProcess } from './writer-process.js';

const SALES = 6_000;
const KILLS = 4;
const CONSUMER = 'aggregator-ch';

let nats: NatsFixture;
let db: PostgresFixture;
let apps: NestFastifyApplication[] = [];
let children: WriterProcess[] = [];
let dataPath: string;

beforeAll(async () => {
  await buildDist();
}, 120_000);

beforeEach(async () => {
  [nats, db] = await Promise.all([NatsFixture.create(), PostgresFixture.create()]);
  dataPath = mkdtempSync(path.join(tmpdir(), 'tally-e2e-chdb-'));
});

afterEach(async () => {
  await Promise.allSettled([...apps.map((a) => a.close()), ...children.map((c) => c.stop())]);
  apps = [];
  children = [];
  await Promise.all([nats.dispose(), db.dispose()]);
  rmSync(dataPath, { recursive: true, force: true });
});

describe('sales through the whole pipeline into ClickHouse', () => {
  it('with the aggregator SIGKILLed between ClickHouse inserts and their acks, every table, rollup and report equals Postgres', {
    timeout: 150_000,
  }, async ({ onTestFailed }) => {
    const seed = Random.seedFromEnv();
    console.info(`clickhouse-pipeline: seed ${seed} (rerun with E2E_SEED=${seed})`);
    const random = new Random(seed);
    const output = new ChildOutput();
    onTestFailed(() => console.error(`clickhouse-pipeline failed (seed ${seed}); output:\n${output.text}`));

    const ingest = await startIngest(nats.names);
    apps.push(ingest.app);
    apps.push((await startWriter(nats.names, db.url, { WRITER_SINKS: 'postgres' })).app);
    await nats.copyConsumer('aggregator', CONSUMER, { ackWaitMs: 2000 });
    const port = await freeLoopbackPort();
    const env = (fault: string | undefined) => ({
      NATS_URL: TEST_NATS_URL,
      ...aggregatorEnv(nats.names, {
        AGGREGATOR_CONSUMER: CONSUMER,
        AGGREGATOR_PORT: String(port),
        AGGREGATOR_CLICKHOUSE: 'on',
        CLICKHOUSE_DATA_PATH: dataPath,
        // Blocks gather several pulls, so a block is often filling while another is written.
        AGGREGATOR_FLUSH_MAX_WAIT: '2s',
        AGGREGATOR_FLUSH_MAX_ROWS: '2000',
        AGGREGATOR_CHECKPOINT_INTERVAL: '1s',
        AGGREGATOR_INSTANCE_ID: 'ch-child',
        LOG_LEVEL: 'warn',
        ...(fault !== undefined && { AGGREGATOR_FAULT_KILL: fault }),
      }),
    });
    const launch = (fault?: string) => {
      const child = WriterProcess.start(
        `aggregator#${children.length + 1}`,
        env(fault),
        output,
        AGGREGATOR_MAIN,
      );
      children.push(child);
      return child;
    };

    const generator = new SaleGenerator(random, `ch-${seed}`);
    const ledger = new IngestLedger(ingest.url);
    let kills = 0;
    const load = runLoad(generator, ledger, random, {
      batchSize: [20, 120],
      singleShare: 0.05,
      concurrency: 2,
      pauseMs: 100,
      more: () => generator.count < SALES || kills < KILLS,
    });
    // Each child kills itself after storing its k-th block: right after the insert, before the
    // acks (rows inserted twice on redelivery), or once sales wait in the next block (never
    // acked, so never lost).
    while (kills < KILLS) {
      const point = kills % 2 === 0 ? 'after-insert' : 'with-buffer';
      const child = launch(`${point}:${random.int(1, 3)}`);
      const exit = await Promise.race([
        child.exit,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 40_000)),
      ]);
      expect(exit, `${child.tag} should have killed itself after a flush`).toMatchObject({
        signal: 'SIGKILL',
      });
      kills++;
    }
    await load;
    expect(ledger.failures()).toEqual([]);
    const last = launch();

    // Postgres has everything; the aggregator consumer has every message acked (so flushed).
    await consumerDrained(nats, 'writer-postgres', 60_000);
    const drained = await consumerDrained(nats, CONSUMER, 60_000);
    await last.stop();
    const pg = await storedState(db);
    const clickhouse = await ClickHouseClient.open({ mode: 'embedded', dataPath });
    try {
      const [ch] = await clickhouse.rows<{ raw: string; lines: string; sales: string; net: string }>(
        `SELECT (SELECT count() FROM sale_lines) AS raw, count() AS lines, uniqExact(sale_id) AS sales,
                sum(net_amount) AS net FROM sale_lines FINAL`,
      );
      console.info(
        `clickhouse-pipeline: ${pg.sales} sales, ${pg.lines} lines; ClickHouse holds ${ch!.raw} raw rows for ${ch!.lines} lines after ${kills} kills`,
      );
      expect({ sales: Number(ch!.sales), lines: Number(ch!.lines), net: ch!.net }).toEqual({
        sales: pg.sales,
        lines: pg.lines,
        net: pg.linesNetTotal,
      });
      // Each child killed itself after storing a block and before acking it (the failpoint),
      // so JetStream delivered those messages again and they were inserted again: the copies
      // (merged away in the background by now, or collapsed by FINAL) left the figures exact.
      expect(drained.delivered.consumer_seq).toBeGreaterThan(drained.delivered.stream_seq);

      // Per branch and day, and per category: ClickHouse (raw FINAL and the rollup) = Postgres.
      const pgDaily = await db.query<{ k: string; v: string }>(
        `SELECT branch_id || ' ' || to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS k, sum(net_total)::text AS v
           FROM sales GROUP BY 1 ORDER BY 1`,
      );
      const chDaily = await clickhouse.rows<{ k: string; v: string }>(
        `SELECT concat(branch_id, ' ', toString(toDate(occurred_at))) AS k, sum(net_amount) AS v
           FROM sale_lines FINAL GROUP BY k ORDER BY k`,
      );
      expect(normalize(chDaily)).toEqual(normalize(pgDaily));
      const pgCategories = await db.query<{ k: string; v: string }>(
        `SELECT l.category AS k, sum(l.net_amount)::text AS v FROM sale_lines l GROUP BY 1 ORDER BY 1`,
      );
      const chRollup = await clickhouse.rows<{ k: string; v: string }>(
        'SELECT category AS k, sum(net_revenue) AS v FROM sales_minute FINAL GROUP BY k ORDER BY k',
      );
      expect(normalize(chRollup)).toEqual(normalize(pgCategories));

      // The reports BI tools get, as the aggregator runs them: daily revenue per branch and top products.
      const queries = loadReportQueries();
      const run = async (name: string, params: Record<string, string> = {}) => {
        const spec = REPORTS.find((r) => r.name === name)!;
        const { report } = prepareReport(spec, queries.get(name)!, params);
        return clickhouse.rows<Record<string, string>>(report.sql, report.params);
      };
      const daily = await run('daily-revenue-per-branch');
      expect(normalize(daily.map((r) => ({ k: `${r.branch_id} ${r.day}`, v: r.revenue! })))).toEqual(
        normalize(pgDaily),
      );
      const pgProducts = await db.query<{ k: string; v: string }>(
        `SELECT product_id AS k, sum(net_amount)::text AS v FROM sale_lines GROUP BY 1 ORDER BY sum(net_amount) DESC, 1 LIMIT 10`,
      );
      const products = await run('top-products', { limit: '10' });
      expect(products.map((r) => [r.product_id, normalize([{ k: '', v: r.revenue! }])['']])).toEqual(
        pgProducts.map((r) => [r.k, normalize([r])[r.k]]),
      );
    } finally {
      await clickhouse.close();
    }
  });
});

/** Decimal text compared by value: Postgres pads to the scale ("1.5000"), ClickHouse does not. */
function normalize(rows: { k: string; v: string }[]): Record<string, string> {
  return Object.fromEntries(rows.map((r) => [r.k, r.v.includes('.') ? r.v.replace(/\.?0+$/, '') : r.v]));
}
