import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, type Env, formatDuration } from '@tally/common';
import { NatsClient } from '@tally/nats';
import { PostgresClient } from '@tally/postgres';
import { SpannerClient } from '@tally/spanner';
import { ArgsError, parseReconcileArgs, type ReconcileArgs, resolveRange, USAGE } from './reconcile.args.js';
import { loadReconcileConfig, type ReconcileConfig } from './reconcile.config.js';
import { ReconcileMetrics, serveMetrics } from './reconcile.metrics.js';
import { ReconcileService, type SaleStream, type Stores } from './reconcile.service.js';
import { formatRepair, formatReport, jsonRepair, jsonReport } from './report.format.js';
import { JetStreamSaleStream, postgresStore, spannerStore } from './store-adapters.js';

export interface ReconcileIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Ends a --metrics-port run (main.ts aborts it on SIGINT and SIGTERM). */
  readonly signal?: AbortSignal;
  /** Told the URL of /metrics once it listens (with --metrics-port 0, the port picked). */
  readonly onMetricsListening?: (url: string) => void;
  /** The clock `now-…` bounds are resolved against. */
  readonly now?: () => Date;
}

const consoleIo: ReconcileIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** Exit codes: the stores agree, they differ, bad arguments or settings, a store could not be read. */
export const EXIT = { agree: 0, differ: 1, usage: 2, failed: 3 } as const;

/**
 * `npm run reconcile -- --from <when> --to <when> [--branch <id>] [--repair] [--json]`, or with
 * `--metrics-port <port> [--every <duration>]` a read-only loop serving gauges. Kept apart from
 * main.ts so tests call it with their own argv, env and output. Returns the exit code.
 */
export async function runReconcile(
  argv: readonly string[],
  env: Env,
  io: ReconcileIo = consoleIo,
): Promise<number> {
  const now = io.now ?? (() => new Date());
  let args: ReconcileArgs;
  let config: ReconcileConfig;
  try {
    const parsed = parseReconcileArgs(argv, now());
    if (parsed.help) {
      io.out(USAGE);
      return EXIT.agree;
    }
    args = parsed;
    config = loadReconcileConfig(env);
  } catch (error) {
    if (error instanceof ArgsError) {
      io.err(`reconcile: ${error.message}\n(npm run reconcile -- --help shows the usage)`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.err(`reconcile: configuration error: ${error.message}`);
      return EXIT.usage;
    }
    throw error;
  }

  const postgres = PostgresClient.create({
    url: config.databaseUrl,
    applicationName: 'tally-reconcile',
    maxConnections: 4,
  });
  // Background failures of the session pool surface again on the next read; nothing to do here.
  const spanner = SpannerClient.create({ ...config.spanner, onError: () => undefined });
  let nats: NatsClient | undefined;
  try {
    const stores: Stores = {
      postgres: postgresStore(postgres, config.databaseUrl),
      spanner: spannerStore(spanner),
    };
    if (args.metricsPort !== undefined) {
      return await metricsLoop(new ReconcileService(stores), args, args.metricsPort, config, io, now);
    }
    let stream: SaleStream | undefined;
    if (args.repair) {
      try {
        nats = await NatsClient.connect({
          url: config.natsUrl,
          name: 'tally-reconcile',
          reconnect: false,
          timeoutMs: config.natsConnectTimeoutMs,
        });
        stream = new JetStreamSaleStream(nats.jsm, config.stream);
      } catch (error) {
        io.err(`reconcile: ${(error as Error).message}; repairs will copy from the other store`);
      }
    }
    return await once(new ReconcileService(stores, stream), args, io, now);
  } catch (error) {
    if (error instanceof ArgsError) {
      io.err(`reconcile: ${error.message}`);
      return EXIT.usage;
    }
    io.err(`reconcile: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await Promise.all([postgres.close(), spanner.close(), nats?.close()]).catch(() => undefined);
  }
}

/** One comparison; with --repair, the repair and a second comparison that decides the exit code. */
async function once(service: ReconcileService, args: ReconcileArgs, io: ReconcileIo, now: () => Date) {
  const query = { ...resolveRange(args, now()), branchId: args.branchId };
  const print = (lines: string[]) => {
    for (const line of lines) io.out(line);
  };
  const report = await service.reconcile(query);
  print(args.json ? jsonReport(report) : formatReport(report));
  if (report.agree) return EXIT.agree;
  if (!args.repair) return EXIT.differ;
  if (report.missing.postgres + report.missing.spanner === 0) {
    if (!args.json) io.out('nothing to repair: differing sales are reported, never overwritten');
    return EXIT.differ;
  }
  const repair = await service.repair(report);
  print(args.json ? jsonRepair(repair) : formatRepair(repair));
  const after = await service.reconcile(query);
  print(args.json ? jsonReport(after, 'after-repair') : formatReport(after, 'after-repair'));
  return after.agree ? EXIT.agree : EXIT.differ;
}

/** Compares every `everyMs` until the signal, serving the last result as gauges. Never repairs. */
async function metricsLoop(
  service: ReconcileService,
  args: ReconcileArgs,
  port: number,
  config: ReconcileConfig,
  io: ReconcileIo,
  now: () => Date,
): Promise<number> {
  const metrics = new ReconcileMetrics();
  const server = await serveMetrics(metrics.registry, port, config.metricsHost);
  io.out(`reconcile: metrics on ${server.url}, comparing every ${formatDuration(args.everyMs * 1e6)}`);
  io.onMetricsListening?.(server.url);
  try {
    while (!io.signal?.aborted) {
      try {
        const report = await service.reconcile({ ...resolveRange(args, now()), branchId: args.branchId });
        metrics.recordRun(report, now());
        for (const line of args.json ? jsonReport(report) : formatReport(report)) io.out(line);
      } catch (error) {
        metrics.recordFailure(now());
        io.err(`reconcile: run failed: ${(error as Error).message}`);
      }
      await sleep(args.everyMs, undefined, io.signal ? { signal: io.signal } : {}).catch(() => undefined);
    }
  } finally {
    await server.close();
  }
  return EXIT.agree;
}
