import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ApiKeyGuard, apiKeysProvider, MetricsController, ProblemDetailsFilter } from '@tally/common';
import { PostgresClient, SalesReadRepository } from '@tally/postgres';
import { Registry } from 'prom-client';
import type { QueryConfig } from './config/query.config.js';
import { HealthController } from './health/health.controller.js';
import { QueryMetrics } from './metrics/query.metrics.js';
import { SalesController } from './sales/sales.controller.js';
import { SalesQueryService } from './sales/sales-query.service.js';

/** Closes the Postgres pool on shutdown, after the HTTP server stopped taking requests. */
class PostgresShutdown implements OnApplicationShutdown {
  constructor(@Inject(PostgresClient) private readonly postgres: PostgresClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.postgres.close();
  }
}

@Module({})
export class QueryModule {
  /** The config, the checked Postgres pool and the metrics are made before Nest starts, so a bad setup fails the boot. */
  static forRoot(config: QueryConfig, postgres: PostgresClient, metrics: QueryMetrics): DynamicModule {
    return {
      module: QueryModule,
      controllers: [SalesController, HealthController, MetricsController],
      providers: [
        apiKeysProvider(config.apiKeys),
        { provide: PostgresClient, useValue: postgres },
        { provide: SalesReadRepository, useValue: new SalesReadRepository(postgres) },
        { provide: QueryMetrics, useValue: metrics },
        { provide: Registry, useValue: metrics.registry },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        ApiKeyGuard,
        SalesQueryService,
        PostgresShutdown,
      ],
    };
  }
}
