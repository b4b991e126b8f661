import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, PinoNestLogger } from '@tally/common';
import { assertSchemaCurrent, PostgresClient } from '@tally/postgres';
import { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { QueryConfig } from './config/query.config.js';
import { mountOpenApi } from './docs/openapi.js';
import { QueryMetrics } from './metrics/query.metrics.js';
import { QueryModule } from './query.module.js';

/**
 * Builds the query app: Fastify (with the request id from X-Request-Id), per-route request
 * metrics, the Postgres pool and its start-up check that the schema is at the latest migration.
 * Used by main.ts and by the tests, so both run exactly the same wiring.
 */
export async function createQueryApp(
  config: QueryConfig,
  logger: Logger = createLogger('query', config.logLevel),
): Promise<NestFastifyApplication> {
  const postgres = PostgresClient.create({
    url: config.databaseUrl,
    applicationName: 'tally-query',
    maxConnections: config.poolSize,
    statementTimeoutMs: config.statementTimeoutMs,
    onIdleError: (error) =>
      logger.warn({ err: error }, 'idle Postgres connection lost; the pool opens a new one when needed'),
  });
  try {
    await assertSchemaCurrent(postgres.pool);

    const metrics = new QueryMetrics(postgres.pool);
    const adapter = new FastifyAdapter({
      loggerInstance: logger,
      // Errors are logged (with the request id) by the problem-details filter; metrics count every request.
      logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
      requestIdHeader: 'x-request-id',
      genReqId: () => randomUUID(),
    });
    const fastify = adapter.getInstance();
    fastify.addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
    fastify.addHook('onResponse', async (request, reply) => {
      metrics.observe(request.routeOptions.url, reply.statusCode, reply.elapsedTime);
    });

    const app = await NestFactory.create<NestFastifyApplication>(
      QueryModule.forRoot(config, postgres, metrics),
      adapter,
      { logger: new PinoNestLogger(logger) },
    );
    app.enableShutdownHooks();
    mountOpenApi(app);
    return app;
  } catch (error) {
    await postgres.close();
    throw error;
  }
}
