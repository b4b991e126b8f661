import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { MetricsController, ProblemDetailsFilter } from '@tally/common';
import { NatsClient } from '@tally/nats';
import { Registry } from 'prom-client';
import { WRITER_CONFIG, type WriterConfig } from './config/writer.config.js';
import { HealthController } from './health/health.controller.js';
import { WriterMetrics } from './metrics/writer.metrics.js';
import { SINK_WORKERS, type SinkWorkerEntry, SinkWorkersService } from './sink-workers.service.js';

@Module({})
export class WriterModule {
  /** Connections and workers are made before Nest starts (bootstrap.ts), so a bad setup fails the boot. */
  static forRoot(
    config: WriterConfig,
    nats: NatsClient,
    metrics: WriterMetrics,
    workers: readonly SinkWorkerEntry[],
  ): DynamicModule {
    return {
      module: WriterModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: WRITER_CONFIG, useValue: config },
        { provide: NatsClient, useValue: nats },
        { provide: WriterMetrics, useValue: metrics },
        { provide: Registry, useValue: metrics.registry },
        { provide: SINK_WORKERS, useValue: workers },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        SinkWorkersService,
      ],
    };
  }
}
