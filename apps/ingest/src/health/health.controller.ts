import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CatalogCache } from '@tally/catalog';
import { isStreamReady, NatsClient } from '@tally/nats';
import type { FastifyReply } from 'fastify';
import { INGEST_CONFIG, type IngestConfig } from '../config/ingest.config.js';

/**
 * Liveness: the process answers. Readiness: NATS is connected and the sales stream exists.
 * The catalog's size and revision are reported for information (the catalog is loaded before
 * the app serves at all; an empty one is a valid state).
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly nats: NatsClient,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly catalog: CatalogCache,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const nats = this.nats.isConnected;
    const stream = nats && (await isStreamReady(this.nats.jsm, this.config.names.stream));
    const ready = nats && stream;
    reply.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: ready ? 'ready' : 'not-ready',
      checks: {
        nats,
        stream: stream ? this.config.names.stream : false,
        catalog: { bucket: this.catalog.bucket, ...this.catalog.size, revision: this.catalog.revision },
      },
    };
  }
}
