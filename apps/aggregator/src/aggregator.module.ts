import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClickHouseClient } from '@tally/clickhouse';
import { ApiKeyGuard, apiKeysProvider, MetricsController, ProblemDetailsFilter } from '@tally/common';
import { NatsClient } from '@tally/nats';
import { Registry } from 'prom-client';
import { AnalyticsController } from './analytics/analytics.controller.js';
import { AnalyticsService } from './analytics/analytics.service.js';
import { AGGREGATOR_CONFIG, type AggregatorConfig } from './config/aggregator.config.js';
import { HealthController } from './health/health.controller.js';
import { AggregatorMetrics } from './metrics/aggregator.metrics.js';
import { AggregatorService } from './pipeline/aggregator.service.js';
import { loadReportQueries } from './reports/report-catalog.js';
import { REPORT_QUERIES, ReportsController } from './reports/reports.controller.js';

export const ON_START_FAILURE = Symbol('ON_START_FAILURE');
const CLICKHOUSE = Symbol('CLICKHOUSE');

/**
 * Starts recovery once the HTTP server is up (so /health answers "recovering" meanwhile); on
 * SIGTERM stops folding, checkpoints, then drains NATS.
 */
@Injectable()
class AggregatorLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  #starting: Promise<void> | undefined;

  constructor(
    @Inject(AggregatorService) private readonly aggregator: AggregatorService,
    @Inject(NatsClient) private readonly nats: NatsClient,
    @Inject(ON_START_FAILURE) private readonly onStartFailure: (error: Error) => void,
    @Inject(CLICKHOUSE) private readonly clickhouse: ClickHouseClient | undefined,
  ) {}

  onApplicationBootstrap(): void {
    this.#starting = this.aggregator.start().catch((error: Error) => {
      if (!this.aggregator.stopping) this.onStartFailure(error);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    const stopped = this.aggregator.stop();
    await this.#starting;
    await stopped;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nats.close();
    await this.clickhouse?.close();
  }
}

@Module({})
export class AggregatorModule {
  /** Connections are made before Nest starts (bootstrap.ts), so a bad setup fails the boot. */
  static forRoot(
    config: AggregatorConfig,
    nats: NatsClient,
    metrics: AggregatorMetrics,
    aggregator: AggregatorService,
    clickhouse: ClickHouseClient | undefined,
    onStartFailure: (error: Error) => void,
  ): DynamicModule {
    // Reports need ClickHouse: without it (AGGREGATOR_CLICKHOUSE=off) the routes do not exist.
    const reports =
      clickhouse === undefined
        ? { controllers: [], providers: [] }
        : {
            controllers: [ReportsController],
            providers: [
              { provide: ClickHouseClient, useValue: clickhouse },
              { provide: REPORT_QUERIES, useValue: loadReportQueries() },
            ],
          };
    return {
      module: AggregatorModule,
      controllers: [AnalyticsController, HealthController, MetricsController, ...reports.controllers],
      providers: [
        ...reports.providers,
        { provide: CLICKHOUSE, useValue: clickhouse },
        apiKeysProvider(config.apiKeys),
        { provide: AGGREGATOR_CONFIG, useValue: config },
        { provide: NatsClient, useValue: nats },
        { provide: AggregatorMetrics, useValue: metrics },
        { provide: Registry, useValue: metrics.registry },
        { provide: AggregatorService, useValue: aggregator },
        { provide: ON_START_FAILURE, useValue: onStartFailure },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        ApiKeyGuard,
        AnalyticsService,
        AggregatorLifecycle,
      ],
    };
  }
}
