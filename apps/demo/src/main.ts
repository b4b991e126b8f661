import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { applyDefinitions, loadDefinitions, NatsClient } from '@tally/nats';
import {
  DEFAULT_DATABASE_URL,
  ensureDatabase,
  migrateDatabase,
  PostgresClient,
  redactUrl,
} from '@tally/postgres';
import { ensureNats, ensurePostgres, reachable, waitFor } from './services.js';
import { BasketSimulator } from './simulator/basket-simulator.js';

/**
 * `npm run demo`: Tally on one machine with sample traffic.
 *   input      the simulator: branches and tills selling from the catalog, over the HTTP API
 *   pipeline   ingest → JetStream (stream config applied first) → writer → PostgreSQL
 *              (migrations applied first); the query app reads Postgres back; the aggregator
 *              folds the stream into live windows
 *   output     a live line per second; with --sales N --exit, a check that the stream,
 *              Postgres and the aggregator's all-time figures hold every acknowledged sale
 *              exactly once; the exit code says whether
 *              and flushes it to ClickHouse (embedded chdb in ./data/clickhouse)
 * The Spanner writer joins this command when an emulator or a project is configured (issue 7).
 */
const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    sales: { type: 'string' },
    exit: { type: 'boolean', default: false },
    port: { type: 'string', default: process.env.INGEST_PORT ?? '3000' },
    'writer-port': { type: 'string', default: process.env.WRITER_PORT ?? '3002' },
    'query-port': { type: 'string', default: process.env.QUERY_PORT ?? '3003' },
    'aggregator-port': { type: 'string', default: process.env.AGGREGATOR_PORT ?? '3001' },
  },
});
const rate = Number(args.rate);
const total = args.sales === undefined ? Number.POSITIVE_INFINITY : Number(args.sales);
const natsUrl = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const apiKey = `demo-${randomBytes(6).toString('hex')}`;
const children: ChildProcess[] = [];

function log(message: string): void {
  process.stderr.write(`[demo] ${message}\n`);
}

async function main(): Promise<number> {
  const natsChild = await ensureNats(natsUrl);
  if (natsChild) {
    children.push(natsChild);
    log(`started nats-server on ${natsUrl.host} (data in ./data/nats)`);
  }

  const nats = await NatsClient.connect({ url: natsUrl.href, name: 'tally-demo', reconnect: false });
  const { jsm } = nats;
  for (const change of await applyDefinitions(jsm, await loadDefinitions())) {
    log(`nats: ${change.kind} ${change.name} ${change.action}`);
  }
  const stream = process.env.TALLY_STREAM ?? 'SALES';
  const before = (await jsm.streams.info(stream)).state.messages;

  await ensurePostgres(new URL(databaseUrl));
  if ((await ensureDatabase(databaseUrl)).created) log(`created database ${redactUrl(databaseUrl)}`);
  const { applied, latest } = await migrateDatabase(databaseUrl);
  log(`postgres: ${applied.length ? `applied ${applied.join(', ')}` : `schema up to date (${latest})`}`);
  const pg = PostgresClient.create({ url: databaseUrl, applicationName: 'tally-demo' });

  const env = { ...process.env, TALLY_API_KEYS: `${apiKey}=*`, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' };
  const port = Number(args.port);
  const base = `http://127.0.0.1:${port}`;
  const writerBase = `http://127.0.0.1:${args['writer-port']}`;
  const queryBase = `http://127.0.0.1:${args['query-port']}`;
  const aggregatorBase = `http://127.0.0.1:${args['aggregator-port']}`;
  await Promise.all([
    startApp('ingest', { ...env, INGEST_PORT: String(port) }, base),
    startApp('writer', { ...env, WRITER_PORT: args['writer-port'], WRITER_SINKS: 'postgres' }, writerBase),
    startApp('query', { ...env, QUERY_PORT: args['query-port'] }, queryBase),
    startApp('aggregator', { ...env, AGGREGATOR_PORT: args['aggregator-port'] }, aggregatorBase),
  ]);
  log(`ingest ready: ${base}  (OpenAPI: ${base}/docs, metrics: ${base}/metrics)`);
  log(`writer ready: ${writerBase}/metrics   query ready: ${queryBase}/docs`);
  log(`aggregator ready: ${aggregatorBase}/v1/feedback, ${aggregatorBase}/v1/analytics/summary?window=1m`);
  // The aggregator's all-time count before this run: what it holds from earlier runs.
  const foldedBefore = await foldedSales(aggregatorBase);
  const flushedBefore = await salesInClickHouse(aggregatorBase);
  log(`sending ${Number.isFinite(total) ? total : 'endless'} sales at ${rate}/s; Ctrl-C stops`);

  const runId = `demo-${Date.now().toString(36)}`;
  const simulator = new BasketSimulator(runId, { seed: Date.now() });
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  let lastAccepted = 0;
  const storedInPostgres = async () =>
    Number(
      (
        await pg.pool.query<{ n: string }>('SELECT count(*) AS n FROM sales WHERE sale_id LIKE $1', [
          `${runId}-%`,
        ])
      ).rows[0]?.n ?? 0,
    );
  const ticker = setInterval(() => {
    const line = `accepted ${accepted - lastAccepted}/s, total ${accepted}, failed ${failed}`;
    lastAccepted = accepted;
    void storedInPostgres().then(
      (stored) => log(`${line}; in Postgres ${stored}`),
      () => log(`${line}; Postgres unreachable`),
    );
  }, 1000);

  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  while (sent < total && !stopping) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
    while (sent < due) {
      sent++;
      const p = submit(base, simulator.next()).then(
        (ok) => {
          if (ok) accepted++;
          else failed++;
        },
        () => {
          failed++;
        },
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= 256) await Promise.race(inFlight);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(inFlight);
  clearInterval(ticker);

  const stored = (await jsm.streams.info(stream)).state.messages - before;
  await nats.close();
  log(`done: ${sent} sent, ${accepted} acknowledged, ${failed} failed; ${stored} new messages in ${stream}`);
  log('waiting for the writer to store every acknowledged sale in Postgres...');
  const deadline = Date.now() + 60_000;
  let inPostgres = await storedInPostgres();
  while (inPostgres < accepted && Date.now() < deadline && !stopping) {
    await new Promise((r) => setTimeout(r, 250));
    inPostgres = await storedInPostgres();
  }
  log(
    `${inPostgres} of them in Postgres; try ${queryBase}/v1/sales?branchId=<branch> with Authorization: Bearer ${apiKey}`,
  );
  let inAggregator = (await foldedSales(aggregatorBase)) - foldedBefore;
  while (inAggregator < accepted && Date.now() < deadline && !stopping) {
    await new Promise((r) => setTimeout(r, 250));
    inAggregator = (await foldedSales(aggregatorBase)) - foldedBefore;
  }
  let inClickHouse = (await salesInClickHouse(aggregatorBase)) - flushedBefore;
  while (inClickHouse < accepted && Date.now() < deadline && !stopping) {
    await new Promise((r) => setTimeout(r, 250));
    inClickHouse = (await salesInClickHouse(aggregatorBase)) - flushedBefore;
  }
  log(
    `${inClickHouse} of them in ClickHouse (embedded, ./data/clickhouse); reports: ${aggregatorBase}/v1/reports`,
  );
  const feedback = await getJson(`${aggregatorBase}/v1/feedback?window=15m`);
  log(
    `${inAggregator} of them in the aggregator's figures; top categories (15 min): ${JSON.stringify(feedback.categories)}`,
  );
  await pg.close();
  if (!args.exit) return 0;
  const ok =
    failed === 0 &&
    stored === accepted &&
    inPostgres === accepted &&
    inAggregator === accepted &&
    inClickHouse === accepted;
  console.log(
    JSON.stringify({
      sent,
      accepted,
      failed,
      storedInStream: stored,
      storedInPostgres: inPostgres,
      inAggregator,
      inClickHouse,
      agree: ok,
    }),
  );
  return ok ? 0 : 1;
}

/** Starts one app of dist/ as a child process and waits for its /health/ready. */
async function startApp(name: string, env: NodeJS.ProcessEnv, base: string): Promise<void> {
  const child = spawn(process.execPath, ['--enable-source-maps', `dist/apps/${name}/src/main.js`], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  const port = Number(new URL(base).port);
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
      return (await reachable('127.0.0.1', port)) && (await fetch(`${base}/health/ready`)).ok;
    },
    20_000,
    name,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: the demo prints what the aggregator answers
async function getJson(url: string): Promise<any> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** Sales and returns in the aggregator's all-time figures. */
async function foldedSales(aggregatorBase: string): Promise<number> {
  const summary = await getJson(`${aggregatorBase}/v1/analytics/summary?window=all`);
  return summary.sales + summary.returns;
}

/** Sales and returns in ClickHouse, read through the aggregator's daily report (all time). */
async function salesInClickHouse(aggregatorBase: string): Promise<number> {
  const report = await getJson(`${aggregatorBase}/v1/reports/daily-revenue-per-branch`);
  return (report.rows as { sales: string; returns: string }[]).reduce(
    (n, r) => n + Number(r.sales) + Number(r.returns),
    0,
  );
}

async function submit(base: string, sale: unknown): Promise<boolean> {
  const res = await fetch(`${base}/v1/sales`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(sale),
  });
  await res.arrayBuffer();
  return res.status === 202;
}

let stopping = false;
process.on('SIGINT', () => {
  stopping = true;
});

function stopChildren(): void {
  for (const child of children.reverse()) child.kill('SIGTERM');
}

main()
  .then((code) => {
    stopChildren();
    process.exitCode = code;
  })
  .catch((error: Error) => {
    log(`failed: ${error.message}`);
    stopChildren();
    process.exitCode = 1;
  });
