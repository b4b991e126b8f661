import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { CatalogBucket, CatalogRepository, defaultCatalogBucket } from '@tally/catalog';
import { freeLoopbackPort } from '@tally/common';
import { NatsFixture, PostgresFixture, TEST_NATS_URL, waitFor } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDemoCatalog } from '../src/catalog/demo-catalog.importer.js';
import { type DemoCatalog, loadDemoCatalog, sampleCatalogFiles } from '../src/catalog/demo-catalog.loader.js';
import { type IngestRules, ingestRulesEnv } from '../src/catalog/ingest-rules.config.js';
import { checkAgreement, type Tally } from '../src/check/agreement.js';
import { StreamTally } from '../src/check/store-tallies.js';
import { BasketSimulator, DELIBERATE_RULES } from '../src/simulator/basket-simulator.js';
import { IngestClient } from '../src/simulator/ingest.client.js';
import { TrafficGenerator } from '../src/simulator/traffic.generator.js';

/**
 * The demo's catalog path end to end, on real services: the sample CSVs imported the way the
 * demo does it (Postgres, then the KV bucket), the real ingest (dist/, as the demo runs it) with
 * the environment the demo gives it, and the simulator selling through it with lean tills and
 * deliberately bad receipts. What lands in the stream is what every store is fed from.
 */
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const INGEST_MAIN = join(REPO_ROOT, 'dist/apps/ingest/src/main.js');

let nats: NatsFixture;
let postgres: PostgresFixture;
let demo: DemoCatalog;
const ingests: IngestProcess[] = [];
const bucketName = () => defaultCatalogBucket(nats.names.stream);

beforeAll(async () => {
  await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, timeout: 120_000 });
  [nats, postgres, demo] = await Promise.all([
    NatsFixture.create(),
    PostgresFixture.create(),
    loadDemoCatalog(sampleCatalogFiles()),
  ]);
  await importDemoCatalog(postgres.client, nats.nc, bucketName(), demo.catalog);
}, 180_000);

afterAll(async () => {
  await Promise.all(ingests.map((i) => i.stop()));
  await postgres?.dispose();
  await nats?.dispose();
});

interface IngestProcess {
  readonly baseUrl: string;
  stop(): Promise<void>;
}

/** The real ingest on the test's stream, with the rules' environment exactly as the demo builds it. */
async function startIngest(rules: IngestRules): Promise<IngestProcess> {
  const port = await freeLoopbackPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', INGEST_MAIN], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NATS_URL: TEST_NATS_URL,
      TALLY_STREAM: nats.names.stream,
      TALLY_SUBJECT_PREFIX: nats.names.subjectPrefix,
      TALLY_API_KEYS: 'demo-test-key=*',
      INGEST_PORT: String(port),
      LOG_LEVEL: 'warn',
      ...ingestRulesEnv(rules),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
  }
  const exited = once(child, 'exit');
  const ingest = {
    baseUrl,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  ingests.push(ingest);
  await waitFor(
    'ingest ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`ingest exited at start-up:\n${log}`);
      const res = await fetch(`${baseUrl}/health/ready`).catch(() => undefined);
      return res?.ok === true;
    },
    { timeoutMs: 45_000 },
  );
  return ingest;
}

/** Sells `total` receipts of a new run through ingest; returns the run's prefix and the traffic's stats. */
async function sell(ingest: IngestProcess, total: number, badShare: number) {
  const runId = `demo-int-${Date.now().toString(36)}`;
  const simulator = new BasketSimulator({ runId, seed: 5, catalog: demo.store, badShare });
  const client = new IngestClient({ baseUrl: ingest.baseUrl, keyForBranch: () => 'demo-test-key' });
  const traffic = new TrafficGenerator(
    () => simulator.next(),
    (sale) => client.submit(sale),
    { rate: 2_000, total },
  );
  return { prefix: `${runId}-`, stats: await traffic.run(() => false) };
}

/** The demo's own check of the stream against what ingest acknowledged. */
async function streamAgrees(prefix: string, reference: Tally): Promise<Tally> {
  const tally = await new StreamTally(jetstream(nats.nc), nats.jsm, nats.names.stream, 1, prefix).read();
  const report = checkAgreement({ store: 'acknowledged', tally: reference }, [{ store: 'stream', tally }]);
  expect(report.disagreements).toEqual([]);
  return tally;
}

describe("the demo's catalog and ingest rules, on real Postgres, NATS and ingest", () => {
  it('imports the sample CSVs into Postgres and the bucket ingest reads, and importing again changes nothing', async () => {
    // Postgres reads back ordered by id.
    const byId = <T>(rows: readonly T[], id: (row: T) => string) =>
      [...rows].sort((a, b) => (id(a) < id(b) ? -1 : 1));
    const stored = await new CatalogRepository(postgres.client).read();
    expect(stored.products).toEqual(byId(demo.catalog.products, (p) => p.productId));
    expect(stored.branches).toEqual(byId(demo.catalog.branches, (b) => b.branchId));
    const bucket = await CatalogBucket.open(nats.nc, bucketName());
    expect((await bucket.read()).size).toBe(13);

    const again = await importDemoCatalog(postgres.client, nats.nc, bucketName(), demo.catalog);
    expect(again.counts).toEqual({
      products: { inserted: 0, updated: 0, unchanged: 10 },
      branches: { inserted: 0, updated: 0, unchanged: 3 },
    });
    expect(again.published).toEqual({ put: 0, deleted: 0, unchanged: 13 });
  });

  it("accepts the lean tills' sales without category and streams every line with the catalog's category; refuses each bad receipt by its rule", async () => {
    const ingest = await startIngest({ enforced: true, maxUnitsPerProduct: demo.store.maxUnitsPerProduct });
    const { prefix, stats } = await sell(ingest, 400, 0.05);

    expect(stats.problems).toEqual([]);
    expect(stats).toMatchObject({ failed: 0, unexpectedRejections: 0 });
    expect(stats.deliberate.sent).toBeGreaterThanOrEqual(DELIBERATE_RULES.length);
    expect(stats.deliberate).toEqual({
      sent: stats.deliberate.sent,
      refused: stats.deliberate.sent,
      accepted: 0,
      misjudged: 0,
    });
    expect([...stats.rejectedByRule.keys()].sort()).toEqual([...DELIBERATE_RULES].sort());
    const withoutCategory = [...stats.categories.values()].reduce((n, c) => n + c.withoutCategory, 0);
    expect(withoutCategory).toBeGreaterThan(100);

    // Every streamed line of the run carries its product's catalog category, name and brand.
    const products = new Map(demo.catalog.products.map((p) => [p.productId, p]));
    const streamed = (await nats.sales()).filter((s) => s.saleId.startsWith(prefix));
    expect(streamed).toHaveLength(stats.acknowledged);
    for (const sale of streamed) {
      for (const line of sale.lines) {
        const product = products.get(line.productId)!;
        expect({ category: line.category, productName: line.productName, brand: line.brand }).toEqual({
          category: product.category,
          productName: product.name,
          brand: product.brand,
        });
      }
    }
    const tally = await streamAgrees(prefix, stats.tally);
    expect([...(tally.categories?.keys() ?? [])].sort()).toEqual(
      [...new Set(demo.catalog.products.map((p) => p.category))].sort(),
    );
    await ingest.stop();
  });

  it('with --no-rules, stores the rule-breaking receipts too (still filling categories), and the stream agrees with what was acknowledged', async () => {
    const ingest = await startIngest({ enforced: false, maxUnitsPerProduct: demo.store.maxUnitsPerProduct });
    const { prefix, stats } = await sell(ingest, 200, 0.1);
    expect(stats.problems).toEqual([]);
    expect(stats).toMatchObject({ rejected: 0, failed: 0, acknowledged: 200 });
    expect(stats.deliberate.sent).toBeGreaterThanOrEqual(DELIBERATE_RULES.length);
    expect(stats.deliberate.accepted).toBe(stats.deliberate.sent);
    const tally = await streamAgrees(prefix, stats.tally);
    expect(tally.categories?.has('unlisted')).toBe(true);
    await ingest.stop();
  });
});
