import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  assertClickHouseSchemaCurrent,
  ClickHouseClient,
  describeClickHouse,
  migrateClickHouse,
} from '@tally/clickhouse';
import { createLogger, mountOpenApi, PinoNestLogger } from '@tally/common';
import { assertStreamReady, logNatsStatus, NatsClient } from '@tally/nats';
import { LogController } from 'fastify';
import type { Logger } from 'pino';
import { AggregatorModule } from './aggregator.module.js';
import { CheckpointRepository } from './checkpoint/checkpoint.repository.js';
import { ClickHouseFlusher } from './clickhouse/clickhouse-flusher.js';
import type { AggregatorConfig } from './config/aggregator.config.js';
import { AggregatorMetrics } from './metrics/aggregator.metrics.js';
import { AggregatorService } from './pipeline/aggregator.service.js';
import type { FoldedBatchSink } from './pipeline/folded-batch.js';

export interface AggregatorAppOptions {
  readonly logger?: Logger;
  /** Batch sinks run before each ack (the ClickHouse flush plugs in here). */
  readonly sinks?: readonly FoldedBatchSink[];
  /** What to do if recovery fails after the HTTP server started; main.ts exits the process. */
  readonly onStartFailure?: (error: Error) => void;
}

/**
 * Builds the aggregator: the NATS connection (checked: stream and consumer exist), the
 * checkpoint store, the folding service and the HTTP API. Recovery (snapshot + replay) starts
 * when the app is initialised; `/health/ready` turns 200 once the figures are served.
 * Used by main.ts and by the tests.
 */
export async function createAggregatorApp(
  config: AggregatorConfig,
  options: AggregatorAppOptions = {},
): Promise<{ app: NestFastifyApplication; aggregator: AggregatorService }> {
  const logger = options.logger ?? createLogger('aggregator', config.logLevel);
  // Two connections: one pulls and acks sales, one carries checkpoints (see CheckpointRepository).
  const connect = (purpose: string, log: Logger) =>
    NatsClient.connect({
      url: config.natsUrl,
      name: `tally-aggregator-${config.consumer}${purpose}`,
      timeoutMs: config.natsConnectTimeoutMs,
      reconnectWaitMs: 500,
      noAsyncTraces: true,
      onStatus: logNatsStatus(log),
    });
  const nats = await connect('', logger);
  let clickhouse: ClickHouseClient | undefined;
  let checkpointNats: NatsClient | undefined;
  try {
    await assertStreamReady(nats.jsm, config.names.stream, { consumers: [config.consumer] });
    const own = await connect('-checkpoints', logger.child({ connection: 'checkpoints' }));
    checkpointNats = own;
    const checkpoints = await CheckpointRepository.open(own.connection, config.checkpoint.bucket, () =>
      own.close(),
    );
    const metrics = new AggregatorMetrics();
    const sinks = [...(options.sinks ?? [])];
    if (config.clickhouse !== undefined) {
      clickhouse = await openClickHouse(config, logger);
      sinks.push(
        new ClickHouseFlusher(clickhouse, config.flush, metrics.flush, logger.child({ sink: 'clickhouse' })),
      );
    }
    const aggregator = new AggregatorService(config, nats, checkpoints, metrics, sinks, logger);
    const adapter = new FastifyAdapter({
      loggerInstance: logger,
      logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
      requestIdHeader: 'x-request-id',
      genReqId: () => randomUUID(),
    });
    adapter.getInstance().addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
    const onStartFailure =
      options.onStartFailure ??
      ((error: Error) => {
        logger.fatal({ err: error }, 'recovery failed');
        process.exit(1);
      });
    const app = await NestFactory.create<NestFastifyApplication>(
      AggregatorModule.forRoot(config, nats, metrics, aggregator, clickhouse, onStartFailure),
      adapter,
      { logger: new PinoNestLogger(logger) },
    );
    app.enableShutdownHooks();
    mountOpenApi(app, {
      title: 'Tally aggregator',
      description:
        'Live figures over rolling windows (1m, 5m, 15m, 1h, 24h) and since the stream began, answered from memory. Money is exact decimal text; errors are RFC 9457 problem details.',
    });
    return { app, aggregator };
  } catch (error) {
    await clickhouse?.close();
    await checkpointNats?.close();
    await nats.close();
    throw error;
  }
}

/**
 * Embedded (chdb): this process owns the data folder, so it brings the schema up to date itself.
 * A server: the schema is `npm run clickhouse:migrate`'s job; refuse one that is behind.
 */
async function openClickHouse(config: AggregatorConfig, logger: Logger): Promise<ClickHouseClient> {
  const settings = config.clickhouse!;
  const client = await ClickHouseClient.open(settings);
  try {
    if (settings.mode === 'embedded') {
      const { applied } = await migrateClickHouse(client);
      if (applied.length > 0)
        logger.info({ applied, where: describeClickHouse(settings) }, 'ClickHouse migrated');
    } else {
      await assertClickHouseSchemaCurrent(client);
    }
    return client;
  } catch (error) {
    await client.close();
    throw new Error(`ClickHouse (${describeClickHouse(settings)}): ${(error as Error).message}`, {
      cause: error,
    });
  }
}
