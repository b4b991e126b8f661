import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, PinoNestLogger } from '@tally/common';
import { assertStreamReady, JetStreamBatchSource, logNatsStatus, NatsClient } from '@tally/nats';
import { assertSchemaCurrent, PostgresClient, redactUrl } from '@tally/postgres';
import { assertSpannerSchemaCurrent, SpannerClient } from '@tally/spanner';
import { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { SinkName, WriterConfig } from './config/writer.config.js';
import { WriterMetrics } from './metrics/writer.metrics.js';
import { JetStreamDeadLetterPublisher } from './pipeline/dead-letter.publisher.js';
import type { SaleSink } from './pipeline/sale-sink.js';
import { SinkWorker } from './pipeline/sink-worker.js';
import type { SinkWorkerEntry } from './sink-workers.service.js';
import { PostgresSink } from './sinks/postgres.sink.js';
import { SpannerSink } from './sinks/spanner.sink.js';
import { WriterModule } from './writer.module.js';

/**
 * Builds the writer: the NATS connection, one store client and one SinkWorker per configured
 * sink (WRITER_SINKS), and a small HTTP server for health and metrics. Everything the workers
 * need is checked before anything starts: the stream and each sink's consumer exist, and each
 * store's schema is current. Used by main.ts and by the tests.
 */
export async function createWriterApp(
  config: WriterConfig,
  logger: Logger = createLogger('writer', config.logLevel),
): Promise<NestFastifyApplication> {
  const sinkNames = activeSinks(config, logger);
  const nats = await NatsClient.connect({
    url: config.natsUrl,
    name: `tally-writer-${sinkNames.join('-')}`,
    timeoutMs: config.natsConnectTimeoutMs,
    reconnectWaitMs: 500,
    noAsyncTraces: true,
    onStatus: logNatsStatus(logger),
  });
  const sinks: SaleSink[] = [];
  try {
    await assertStreamReady(nats.jsm, config.names.stream, {
      consumers: sinkNames.map((name) => consumerOf(config, name)),
    });
    const metrics = new WriterMetrics();
    const deadLetters = new JetStreamDeadLetterPublisher(nats.js, config.names);
    const entries: SinkWorkerEntry[] = [];
    for (const name of sinkNames) {
      const sink = await createSink(config, name, logger);
      sinks.push(sink);
      const consumer = await nats.js.consumers.get(config.names.stream, consumerOf(config, name));
      const source = new JetStreamBatchSource(consumer, config.batch);
      const worker = new SinkWorker(sink, source, deadLetters, metrics, logger.child({ sink: name }), {
        retry: config.retry,
        maxSales: config.batch.maxSales,
        inFlight: config.batch.inFlight,
        lagPollMs: config.lagPollMs,
      });
      entries.push({ worker, sink });
    }

    const adapter = new FastifyAdapter({
      loggerInstance: logger,
      logController: new LogController({ disableRequestLogging: true }),
    });
    const app = await NestFactory.create<NestFastifyApplication>(
      WriterModule.forRoot(config, nats, metrics, entries),
      adapter,
      { logger: new PinoNestLogger(logger) },
    );
    app.enableShutdownHooks();
    return app;
  } catch (error) {
    await Promise.allSettled(sinks.map((s) => s.close()));
    await nats.close();
    throw error;
  }
}

/** The configured sinks that can run; an unconfigured Spanner sink is off, and says so once. */
function activeSinks(config: WriterConfig, logger: Logger): SinkName[] {
  const active = config.sinks.filter((name) => name !== 'spanner' || config.spanner !== undefined);
  if (active.length < config.sinks.length) {
    logger.info(
      'spanner sink off: set SPANNER_EMULATOR_HOST (emulator) or SPANNER_PROJECT_ID (real Spanner) to run it',
    );
  }
  if (active.length === 0) {
    throw new Error(`no sink to run: WRITER_SINKS=${config.sinks.join(',')} but Spanner is not configured`);
  }
  return active;
}

function consumerOf(config: WriterConfig, sink: SinkName): string {
  switch (sink) {
    case 'postgres':
      return config.postgres.consumer;
    case 'spanner':
      // activeSinks() only keeps spanner when it is configured.
      return config.spanner!.consumer;
  }
}

async function createSink(config: WriterConfig, name: SinkName, logger: Logger): Promise<SaleSink> {
  switch (name) {
    case 'postgres': {
      const client = PostgresClient.create({
        url: config.postgres.url,
        applicationName: 'tally-writer',
        maxConnections: config.postgres.poolSize,
        statementTimeoutMs: config.postgres.statementTimeoutMs,
        onIdleError: (error) => logger.warn({ err: error.message }, 'idle Postgres connection lost'),
      });
      try {
        await assertSchemaCurrent(client.pool);
      } catch (error) {
        await client.close();
        throw new Error(`Postgres at ${redactUrl(config.postgres.url)}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return new PostgresSink(client);
    }
    case 'spanner': {
      // activeSinks() only keeps spanner when it is configured.
      const spanner = config.spanner!;
      const client = SpannerClient.create({
        ...spanner,
        onError: (error) => logger.warn({ err: error.message }, 'Spanner session pool error'),
      });
      try {
        await assertSpannerSchemaCurrent(client.database);
      } catch (error) {
        await client.close();
        const where = `${spanner.projectId}/${spanner.instanceId}/${spanner.databaseId}`;
        throw new Error(`Spanner ${where}: ${(error as Error).message}`, { cause: error });
      }
      return new SpannerSink(client, spanner.maxMutations);
    }
  }
}
