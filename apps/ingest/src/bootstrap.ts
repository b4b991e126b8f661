import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { CatalogBucket, CatalogCache } from '@tally/catalog';
import { createLogger, PinoNestLogger } from '@tally/common';
import { assertStreamReady, NatsClient } from '@tally/nats';
import { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { IngestConfig } from './config/ingest.config.js';
import { mountOpenApi } from './docs/openapi.js';
import { IngestModule } from './ingest.module.js';
import { UnparsableItem } from './sales/sale-intake.service.js';

const BATCH_URL = '/v1/sales/batch';

/**
 * Builds the ingest app: Fastify (with the request id from X-Request-Id), NDJSON batches,
 * per-route body limits, the NATS connection and its start-up check, and the catalog loaded
 * from its KV bucket (and watched from then on). Used by main.ts and by the tests, so both run
 * exactly the same wiring.
 */
export async function createIngestApp(
  config: IngestConfig,
  logger: Logger = createLogger('ingest', config.logLevel),
): Promise<NestFastifyApplication> {
  const nats = await NatsClient.connect({
    url: config.natsUrl,
    name: 'tally-ingest',
    timeoutMs: config.natsConnectTimeoutMs,
    reconnectWaitMs: 250,
    noAsyncTraces: true,
    onStatus: (status) => {
      // While disconnected, publishers refuse at once (503) instead of queueing behind a dead link.
      if (status.type === 'disconnect')
        logger.warn({ server: status.server }, 'NATS disconnected; refusing sales');
      if (status.type === 'reconnect') logger.info({ server: status.server }, 'NATS reconnected');
    },
  });
  let catalog: CatalogCache;
  try {
    await assertStreamReady(nats.jsm, config.names.stream);
    catalog = await openCatalog(config, nats, logger);
  } catch (error) {
    await nats.close();
    throw error;
  }

  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // Per-request access logs cost more than the request itself at these rates; errors are
    // still logged (with the request id) by the problem-details filter.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: config.singleBodyLimitBytes,
    // Plain JSON.parse instead of scanning every body for __proto__/constructor keys: the
    // contract rejects any unknown field, and no handler merges request objects into others.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRoute', (route) => {
    if (route.url === BATCH_URL) route.bodyLimit = config.batchBodyLimitBytes;
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  fastify.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseNdjson(body as string));
  });

  const app = await NestFactory.create<NestFastifyApplication>(
    IngestModule.forRoot(config, nats, catalog),
    adapter,
    {
      logger: new PinoNestLogger(logger),
    },
  );
  app.enableShutdownHooks();
  mountOpenApi(app);
  return app;
}

/**
 * The catalog in memory before the first request: the bucket is created if missing (an empty
 * catalog: nothing to fill from, and with CATALOG_ENFORCE every sale is refused until
 * `npm run catalog:import` publishes one, which ingest then picks up without restart).
 */
async function openCatalog(config: IngestConfig, nats: NatsClient, logger: Logger): Promise<CatalogCache> {
  const catalogLogger = logger.child({ component: 'catalog' });
  const bucket = await CatalogBucket.open(nats.connection, config.catalogBucket);
  const catalog = await CatalogCache.open(bucket, {
    loadTimeoutMs: config.catalogLoadTimeoutMs,
    logger: catalogLogger,
  });
  const { products, branches } = catalog.size;
  const { catalogEnforce: enforce, maxUnitsPerProduct } = config;
  catalogLogger.info({ enforce, maxUnitsPerProduct }, 'catalog rules');
  if ((enforce.products && products === 0) || (enforce.branches && branches === 0)) {
    catalogLogger.warn(
      { bucket: config.catalogBucket, products, branches },
      'CATALOG_ENFORCE is on but the catalog is empty: every sale is refused until `npm run catalog:import` publishes one',
    );
  }
  return catalog;
}

function parseNdjson(body: string): unknown[] {
  const items: unknown[] = [];
  for (const line of body.split('\n')) {
    if (line.trim() === '') continue;
    try {
      items.push(JSON.parse(line));
    } catch (error) {
      items.push(new UnparsableItem(`line is not JSON: ${(error as Error).message}`));
    }
  }
  return items;
}
