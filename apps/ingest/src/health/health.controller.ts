import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { isStreamReady, NatsClient } from '@tally/nats';
import type { FastifyReply } from 'fastify';
import { INGEST_CONFIG, type IngestConfig } from '../config/ingest.config.js';

/** Liveness: the process answers. Readiness: NATS is connected and the sales stream exists. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly nats: NatsClient,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
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
      checks: { nats, stream: stream ? this.config.names.stream : false },
    };
  }
}
