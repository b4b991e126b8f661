import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CatalogCache } from '@tally/catalog';
import { ApiKeyGuard, apiKeysProvider, MetricsController, ProblemDetailsFilter } from '@tally/common';
import { NatsClient } from '@tally/nats';
import { Registry } from 'prom-client';
import { INGEST_CONFIG, type IngestConfig } from './config/ingest.config.js';
import { HealthController } from './health/health.controller.js';
import { IngestMetrics } from './metrics/ingest.metrics.js';
import { SaleIntakeService } from './sales/sale-intake.service.js';
import { SalePublisher } from './sales/sale-publisher.repository.js';
import { SalesController } from './sales/sales.controller.js';

/** Stops the catalog watch and drains the NATS connection on shutdown, after the HTTP server stopped taking requests. */
class NatsShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(NatsClient) private readonly nats: NatsClient,
    @Inject(CatalogCache) private readonly catalog: CatalogCache,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    this.catalog.close();
    await this.nats.close();
  }
}

@Module({})
export class IngestModule {
  /**
   * The config, the live NATS connection and the loaded catalog are made before Nest starts, so
   * a bad setup fails the boot.
   */
  static forRoot(config: IngestConfig, nats: NatsClient, catalog: CatalogCache): DynamicModule {
    const metrics = new IngestMetrics();
    return {
      module: IngestModule,
      controllers: [SalesController, HealthController, MetricsController],
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        apiKeysProvider(config.apiKeys),
        { provide: NatsClient, useValue: nats },
        { provide: CatalogCache, useValue: catalog },
        { provide: IngestMetrics, useValue: metrics },
        { provide: Registry, useValue: metrics.registry },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        ApiKeyGuard,
        SalePublisher,
        SaleIntakeService,
        NatsShutdown,
      ],
    };
  }
}
