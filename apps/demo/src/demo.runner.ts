import { randomBytes } from 'node:crypto';
import { applyDefinitions, loadDefinitions, NatsClient } from '@tally/nats';
import { ensureDatabase, migrateDatabase, PostgresClient, redactUrl } from '@tally/postgres';
import { spannerEnv } from '@tally/spanner';
import { describeImport, importDemoCatalog } from './catalog/demo-catalog.importer.js';
import { loadDemoCatalog } from './catalog/demo-catalog.loader.js';
import { describeRules, type IngestRules, ingestRulesEnv } from './catalog/ingest-rules.config.js';
import {
  type AgreementReport,
  agreementJson,
  checkAgreement,
  formatAgreement,
  type StoreReading,
} from './check/agreement.js';
import { ingestNotes, rejectionLines } from './check/ingest-verdict.js';
import {
  AggregatorTally,
  ClickHouseTally,
  getJson,
  PostgresTally,
  SpannerTally,
  StreamTally,
  type TallySource,
} from './check/store-tallies.js';
import type { DemoConfig } from './config/demo.config.js';
import { type DemoSpanner, startDemoSpanner } from './infra/demo-spanner.js';
import { choosePort, ensureNats, ensurePostgres, reachable } from './infra/local-services.js';
import { ProcessSupervisor } from './processes/process.supervisor.js';
import { BasketSimulator } from './simulator/basket-simulator.js';
import { IngestClient } from './simulator/ingest.client.js';
import { isLeanRegister } from './simulator/store-catalog.model.js';
import { TrafficGenerator } from './simulator/traffic.generator.js';
import { categoryLines } from './view/category-lines.js';
import type { DemoOutput } from './view/demo.output.js';
import { type LiveSnapshot, liveLines, plainLiveLine } from './view/live-lines.js';

/** Ctrl-C and child failures, as the run sees them. */
export class RunControl {
  /** The first Ctrl-C: stop selling, then check what was sent and stop. */
  interrupted = false;
  /** Why the run cannot go on (a child process died). */
  failure: string | undefined;

  get stopped(): boolean {
    return this.interrupted || this.failure !== undefined;
  }
}

export interface DemoResult {
  readonly exitCode: number;
  readonly report?: AgreementReport;
}

interface App {
  readonly name: string;
  readonly script: string;
  readonly port: number;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * `npm run demo`, top to bottom:
 *
 *   services   NATS and PostgreSQL found or started; stream and consumers applied (nats/),
 *              Postgres migrations (drizzle/); the Spanner emulator started and migrated when
 *              installed; ClickHouse is embedded in the aggregator (chdb, ./data/clickhouse)
 *   catalog    the catalog CSV files (read first of all, so a bad file stops the demo before it
 *              starts anything) upserted into Postgres and published to the KV bucket ingest
 *              reads, as `npm run catalog:import` does; the simulator sells from the same rows
 *   apps       ingest (with the supermarket's rules: CATALOG_ENFORCE=on, MAX_UNITS_PER_PRODUCT=1),
 *              writer (Postgres), writer (Spanner), query and aggregator as child processes with
 *              their logs in ./data/demo/logs, each waited for until ready
 *   input      the simulator's tills selling through POST /v1/sales with their branch's key; the
 *              lean tills leave each line's category for ingest to fill from the catalog
 *   live       sales/s accepted, each sink's lag, the top three categories, the URLs
 *   check      once sent (--sales N) or stopped (Ctrl-C): wait until every store holds this
 *              run's acknowledged sales, then the table of receipts and net revenue per store
 *              (and per category) against what ingest acknowledged; exit 0 when all agree and
 *              ingest refused exactly the deliberately bad receipts, 1 naming what went wrong
 *
 * Every phase prints one line with its duration. Earlier runs' data stay where they are: each
 * store is read for this run's sales only (see check/store-tallies.ts).
 */
export async function runDemo(config: DemoConfig, out: DemoOutput, control: RunControl): Promise<DemoResult> {
  // Before anything starts: a catalog file that cannot be used stops the demo here (exit 2).
  const demoCatalog = await loadDemoCatalog(config.catalogFiles);
  const store = demoCatalog.store;
  const rules: IngestRules = { enforced: config.rules, maxUnitsPerProduct: store.maxUnitsPerProduct };
  const runId = `demo-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const saleIdPrefix = `${runId}-`;
  const leftovers = ProcessSupervisor.killLeftovers(config.dataDir);
  const supervisor = new ProcessSupervisor(config.dataDir, (name, code, signal) => {
    control.failure = `${name} exited unexpectedly (${signal ?? `code ${code}`}); last lines of ${supervisor.logFile(name)}:\n${supervisor.logTail(name)}`;
  });
  if (leftovers.length > 0)
    out.line(`stopped processes an earlier demo left running: ${leftovers.join(', ')}`);

  let nats: NatsClient | undefined;
  let pg: PostgresClient | undefined;
  let spanner: DemoSpanner | undefined;
  let stopLive = () => {};
  let selling = false;
  const timed = async <T>(label: string, work: () => Promise<[T, string]>): Promise<T> => {
    const started = performance.now();
    const [value, detail] = await work();
    out.phase(label, detail, performance.now() - started);
    // Ctrl-C before the first sale: nothing to check, stop here.
    if (!selling && control.interrupted) throw new Error('interrupted');
    return value;
  };

  try {
    // ---- services -------------------------------------------------------------------------
    const natsUrl = new URL(config.natsUrl);
    await timed('NATS', async () => [undefined, await ensureNats(natsUrl, supervisor)]);
    nats = await NatsClient.connect({ url: natsUrl.href, name: 'tally-demo', reconnect: false });
    const { jsm, js, connection } = nats;
    const definitions = await timed('stream', async () => {
      const defs = await loadDefinitions();
      const changes = await applyDefinitions(jsm, defs);
      const detail = changes.filter((c) => c.action !== 'unchanged');
      return [
        defs,
        `${defs.streams.length} streams, ${defs.consumers.length} consumers from nats/definitions: ${
          detail.length === 0 ? 'up to date' : detail.map((c) => `${c.kind} ${c.name} ${c.action}`).join(', ')
        }`,
      ];
    });
    await timed('PostgreSQL', async () => {
      const found = await ensurePostgres(new URL(config.databaseUrl));
      const created = (await ensureDatabase(config.databaseUrl)).created;
      const { applied, latest } = await migrateDatabase(config.databaseUrl);
      return [
        undefined,
        `${found}; database ${redactUrl(config.databaseUrl)}${created ? ' created' : ''}; ${
          applied.length ? `applied ${applied.join(', ')}` : `schema up to date (${latest})`
        }`,
      ];
    });
    pg = PostgresClient.create({ url: config.databaseUrl, applicationName: 'tally-demo' });
    const postgres = pg;
    await timed('catalog', async () => {
      const result = await importDemoCatalog(postgres, connection, config.catalogBucket, demoCatalog.catalog);
      return [
        undefined,
        `${describeImport(demoCatalog.files, demoCatalog.catalog, config.catalogBucket, result)}; ${describeRules(rules)}`,
      ];
    });
    if (config.spanner === 'off') {
      out.line('Spanner sink off (--no-spanner)');
    } else {
      const started = performance.now();
      const result = await startDemoSpanner(supervisor, jsm, definitions, config.spannerEmulatorHost);
      if ('off' in result) out.line(result.off);
      else {
        spanner = result;
        out.phase('Spanner', result.detail, performance.now() - started);
      }
    }
    if (config.clickhouse === 'off') out.line('ClickHouse off (AGGREGATOR_CLICKHOUSE=off)');

    // ---- apps -------------------------------------------------------------------------------
    const keys = {
      hq: `demo-hq-${randomBytes(8).toString('hex')}`,
      branches: new Map(
        store.branches.map((b) => [b.branchId, `demo-till-${randomBytes(8).toString('hex')}`]),
      ),
    };
    const apiKeys = [
      ...[...keys.branches].map(([branchId, key]) => `${key}=${branchId}`),
      `${keys.hq}=*`,
    ].join(',');
    const ports = {
      ingest: await port(config.ports.ingest, '--port'),
      aggregator: await port(config.ports.aggregator, '--aggregator-port'),
      writerPostgres: await port(config.ports.writerPostgres, '--writer-port'),
      query: await port(config.ports.query, '--query-port'),
      writerSpanner: spanner ? await port(config.ports.writerSpanner, '--spanner-writer-port') : 0,
    };
    const base = {
      ...process.env,
      LOG_LEVEL: 'warn',
      NATS_URL: config.natsUrl,
      DATABASE_URL: config.databaseUrl,
      TALLY_STREAM: config.stream,
      TALLY_SUBJECT_PREFIX: config.subjectPrefix,
      TALLY_API_KEYS: apiKeys,
      TALLY_AUTH: 'enabled',
    };
    const apps: App[] = [
      {
        name: 'ingest',
        script: 'ingest',
        port: ports.ingest,
        env: { ...base, ...ingestRulesEnv(rules), INGEST_PORT: String(ports.ingest) },
      },
      {
        name: 'writer-postgres',
        script: 'writer',
        port: ports.writerPostgres,
        env: { ...base, WRITER_PORT: String(ports.writerPostgres), WRITER_SINKS: 'postgres' },
      },
      ...(spanner
        ? [
            {
              name: 'writer-spanner',
              script: 'writer',
              port: ports.writerSpanner,
              env: {
                ...base,
                ...spannerEnv(spanner.config),
                // Emulator 1.5 has no multiplexed sessions (the Spanner client turns them off too).
                GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS: 'false',
                WRITER_PORT: String(ports.writerSpanner),
                WRITER_SINKS: 'spanner',
                WRITER_SPANNER_CONSUMER: spanner.consumer,
              },
            },
          ]
        : []),
      {
        name: 'query',
        script: 'query',
        port: ports.query,
        env: { ...base, QUERY_PORT: String(ports.query) },
      },
      {
        name: 'aggregator',
        script: 'aggregator',
        port: ports.aggregator,
        env: { ...base, AGGREGATOR_PORT: String(ports.aggregator) },
      },
    ];
    await timed('apps', async () => {
      const took = await Promise.all(apps.map((app) => startApp(supervisor, app, control)));
      return [
        undefined,
        apps.map((a, i) => `${a.name} :${a.port} ${(took[i]! / 1000).toFixed(1)} s`).join(', '),
      ];
    });

    const ingestBase = `http://127.0.0.1:${ports.ingest}`;
    const aggregatorBase = `http://127.0.0.1:${ports.aggregator}`;
    const queryBase = `http://127.0.0.1:${ports.query}`;
    const urls = [
      { label: 'ingest OpenAPI', url: `${ingestBase}/docs` },
      { label: 'feedback', url: `${aggregatorBase}/v1/feedback` },
      { label: 'reports', url: `${aggregatorBase}/v1/reports` },
      { label: 'query API', url: `${queryBase}/docs` },
    ];
    // On a terminal the live view shows the URLs; in a log they are printed once, here.
    if (!out.isTerminal) for (const { label, url } of urls) out.line(`  ${label.padEnd(15)} ${url}`);
    out.line(
      `  keys            all branches: ${keys.hq}; tills: ${[...keys.branches].map(([b, k]) => `${b} ${k}`).join(', ')}`,
    );
    out.line(`  try             curl -H 'authorization: Bearer ${keys.hq}' ${aggregatorBase}/v1/feedback`);

    // ---- baseline: where this run starts in each store --------------------------------------
    const runStart = new Date();
    const { fromSeq, aggregator } = await timed('baseline', async () => {
      const lastSeq = (await jsm.streams.info(config.stream)).state.last_seq;
      const tally = await AggregatorTally.start(aggregatorBase, keys.hq, lastSeq, config.waitMs);
      return [
        { fromSeq: lastSeq + 1, aggregator: tally },
        `stream at sequence ${lastSeq}, aggregator caught up; run ${runId}`,
      ];
    });
    const sources: TallySource[] = [
      new StreamTally(js, jsm, config.stream, fromSeq, saleIdPrefix),
      new PostgresTally(pg, saleIdPrefix),
      ...(spanner ? [new SpannerTally(spanner.client, saleIdPrefix)] : []),
      ...(config.clickhouse === 'off' ? [] : [new ClickHouseTally(aggregatorBase, keys.hq, runStart)]),
      aggregator,
    ];

    // ---- selling, with the live view -----------------------------------------------------------
    const simulator = new BasketSimulator({
      runId,
      seed: config.seed,
      catalog: store,
      badShare: config.badShare,
    });
    const client = new IngestClient({
      baseUrl: ingestBase,
      keyForBranch: (branchId) => keys.branches.get(branchId) ?? keys.hq,
    });
    const traffic = new TrafficGenerator(
      () => simulator.next(),
      (sale) => client.submit(sale),
      { rate: config.rate, total: config.sales ?? Number.POSITIVE_INFINITY },
    );
    stopLive = startLiveView(out, {
      traffic,
      target: config.sales,
      urls,
      poll: async () => {
        const consumers: [string, string][] = [
          ['Postgres', 'writer-postgres'],
          ...(spanner ? ([['Spanner', spanner.consumer]] as [string, string][]) : []),
          ...(config.clickhouse === 'off' ? [] : ([['ClickHouse', 'aggregator']] as [string, string][])),
        ];
        const [last, feedback, ...lags] = await Promise.allSettled([
          jsm.streams.info(config.stream).then((i) => i.state.last_seq),
          getJson(`${aggregatorBase}/v1/feedback?window=15m`, keys.hq, 900) as Promise<{
            categories: { category: string; count: number; revenue: string }[];
            appliedThrough: number;
          }>,
          ...consumers.map(([, name]) =>
            jsm.consumers.info(config.stream, name).then((c) => c.num_pending + c.num_ack_pending),
          ),
        ]);
        const why = (r: PromiseRejectedResult) =>
          String((r.reason as Error)?.message ?? r.reason).slice(0, 60);
        const sinkLags: LiveSnapshot['lags'] = consumers.map(([sink], i) => {
          const r = lags[i]!;
          return r.status === 'fulfilled' ? { sink, messages: r.value as number } : { sink, error: why(r) };
        });
        const aggregatorLag =
          last.status === 'fulfilled' && feedback.status === 'fulfilled'
            ? { sink: 'aggregator', messages: Math.max(0, last.value - feedback.value.appliedThrough) }
            : { sink: 'aggregator', error: 'unknown' };
        // Shown in pipeline order: the writers, then the aggregator's figures, then its ClickHouse flush.
        const ordered = [
          ...sinkLags.filter((l) => l.sink !== 'ClickHouse'),
          aggregatorLag,
          ...sinkLags.filter((l) => l.sink === 'ClickHouse'),
        ];
        return {
          lags: ordered,
          topCategories:
            feedback.status === 'fulfilled'
              ? { window: '15m', categories: feedback.value.categories.slice(0, 3) }
              : { error: why(feedback) },
        };
      },
    });
    const rateText = `${config.sales === undefined ? 'until Ctrl-C' : `${config.sales} sales`} at ${config.rate}/s`;
    const registers = store.branches.flatMap((b) =>
      Array.from({ length: b.registers }, (_, i) => isLeanRegister(b, i + 1)),
    );
    out.line(
      `selling ${rateText} from ${store.branches.length} branches, ${store.products.length} products; ` +
        `${registers.filter(Boolean).length} of ${registers.length} registers send lines without category` +
        `${config.badShare > 0 ? `; ${(config.badShare * 100).toFixed(1)} % of receipts break a rule on purpose` : ''}` +
        `${config.exit ? '' : '; Ctrl-C stops and checks'}`,
    );
    selling = true;
    const sold = await timed('selling', async () => {
      const started = performance.now();
      const stats = await traffic.run(() => control.stopped);
      const seconds = (performance.now() - started) / 1000;
      return [
        stats,
        `${stats.sent} sent, ${stats.acknowledged} acknowledged, ${stats.rejected} rejected, ${stats.failed} failed, ${stats.retries} retries; ${(stats.acknowledged / Math.max(seconds, 0.001)).toFixed(0)}/s`,
      ];
    });
    for (const line of rejectionLines(sold, rules)) out.line(`  ${line}`);
    for (const problem of sold.problems) out.line(`  ${problem}`);
    if (control.failure) throw new Error(control.failure);

    // Without --exit and with --sales: keep the pipeline up (live view, URLs) until Ctrl-C.
    if (!config.exit && !control.stopped) {
      out.line('all sales sent; the pipeline keeps running: Ctrl-C checks the stores and stops');
      while (!control.stopped) await new Promise((resolve) => setTimeout(resolve, 200));
      if (control.failure) throw new Error(control.failure);
    }

    // ---- check ------------------------------------------------------------------------------------
    const expected = sold.tally;
    const readings = await timed('catching up', async () => {
      const started = performance.now();
      const deadline = started + config.waitMs;
      const complete = new Map<string, number>();
      let last: StoreReading[] = [];
      for (;;) {
        last = await readAll(sources);
        for (const r of last) {
          if (r.tally && r.tally.count >= expected.count && !complete.has(r.store)) {
            complete.set(r.store, performance.now() - started);
          }
        }
        if (complete.size === sources.length || performance.now() > deadline || control.failure) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const detail = sources
        .map(
          (s) =>
            `${s.store} ${complete.has(s.store) ? `+${(complete.get(s.store)! / 1000).toFixed(1)} s` : 'INCOMPLETE'}`,
        )
        .join(', ');
      return [
        last,
        complete.size === sources.length ? detail : `${detail} (gave up after ${config.waitMs / 1000} s)`,
      ];
    });
    stopLive();
    stopLive = () => {};
    const report = checkAgreement({ store: 'acknowledged', tally: expected }, readings);
    out.line('');
    for (const line of categoryLines(sold.categories, store.currency)) out.line(line);
    out.line('');
    for (const line of formatAgreement(report, store.currency)) out.line(line);
    if (control.failure) out.line(`NOTE: ${control.failure}`);
    const notes = ingestNotes(sold, rules);
    for (const note of notes) out.line(`NOTE: ${note}`);
    if (config.json) {
      process.stdout.write(
        `${JSON.stringify({
          runId,
          sent: sold.sent,
          acknowledged: sold.acknowledged,
          rejected: sold.rejected,
          failed: sold.failed,
          rules: ingestRulesEnv(rules),
          rejectedByRule: Object.fromEntries(sold.rejectedByRule),
          deliberate: sold.deliberate,
          linesWithoutCategory: [...sold.categories.values()].reduce((n, c) => n + c.withoutCategory, 0),
          ...agreementJson(report),
        })}\n`,
      );
    }
    const ok = report.agree && notes.length === 0;
    const interruptedExit = config.exit && control.interrupted && (config.sales ?? 0) > sold.sent;
    return { exitCode: interruptedExit ? 130 : control.failure ? 3 : ok ? 0 : 1, report };
  } finally {
    stopLive();
    const started = performance.now();
    await supervisor.stopAll([['ingest'], ['writer-postgres', 'writer-spanner', 'query', 'aggregator']]);
    await spanner?.stop().catch(() => undefined);
    await pg?.close().catch(() => undefined);
    await nats?.close().catch(() => undefined);
    await supervisor.stopAll([['nats-server']]);
    out.phase(
      'stopped',
      `child processes stopped; logs in ${supervisor.logDir}`,
      performance.now() - started,
    );
  }

  async function port(choice: DemoConfig['ports']['ingest'], option: string): Promise<number> {
    const chosen = await choosePort(choice, option);
    if (chosen.note) out.line(chosen.note);
    return chosen.port;
  }
}

/** Starts one app of dist/ as a child process and waits for its /health/ready; resolves with the ms it took. */
async function startApp(supervisor: ProcessSupervisor, app: App, control: RunControl): Promise<number> {
  const started = performance.now();
  const child = supervisor.spawn(
    app.name,
    process.execPath,
    ['--enable-source-maps', `dist/apps/${app.script}/src/main.js`],
    app.env,
  );
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${app.name} exited at start-up (${child.signalCode ?? `code ${child.exitCode}`}); last lines of ${supervisor.logFile(app.name)}:\n${supervisor.logTail(app.name)}`,
      );
    }
    if (control.interrupted) throw new Error('interrupted');
    if (await reachable('127.0.0.1', app.port)) {
      const res = await fetch(`http://127.0.0.1:${app.port}/health/ready`, {
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
      if (res?.ok) return performance.now() - started;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${app.name} was not ready within 90 s; last lines of its log:\n${supervisor.logTail(app.name)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

async function readAll(sources: readonly TallySource[]): Promise<StoreReading[]> {
  return Promise.all(
    sources.map(async (source) => {
      try {
        return { store: source.store, tally: await source.read() };
      } catch (error) {
        return { store: source.store, error: (error as Error).message };
      }
    }),
  );
}

/** Refreshes the live view every second until the returned function is called. */
function startLiveView(
  out: DemoOutput,
  options: {
    traffic: TrafficGenerator;
    target: number | undefined;
    urls: LiveSnapshot['urls'];
    poll: () => Promise<Pick<LiveSnapshot, 'lags' | 'topCategories'>>;
  },
): () => void {
  const started = performance.now();
  let lastAcknowledged = 0;
  let lastAt = started;
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const polled = await options.poll();
      if (stopped) return;
      const stats = options.traffic.stats();
      const now = performance.now();
      const snapshot: LiveSnapshot = {
        elapsedMs: out.elapsedMs,
        acceptedPerSecond: Math.round(
          ((stats.acknowledged - lastAcknowledged) * 1000) / Math.max(1, now - lastAt),
        ),
        acknowledged: stats.acknowledged,
        target: options.target,
        rejected: stats.rejected,
        failed: stats.failed,
        urls: options.urls,
        ...polled,
      };
      lastAcknowledged = stats.acknowledged;
      lastAt = now;
      if (out.isTerminal) out.block(liveLines(snapshot));
      else out.line(plainLiveLine(snapshot));
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 1000);
  return () => {
    stopped = true;
    clearInterval(timer);
    out.keepBlock();
  };
}
