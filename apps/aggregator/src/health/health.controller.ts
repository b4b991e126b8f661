import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { NatsClient } from '@tally/nats';
import type { FastifyReply } from 'fastify';
import { AggregatorService } from '../pipeline/aggregator.service.js';

/** Liveness: the process answers. Readiness: NATS is connected and the figures are recovered and folding. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly nats: NatsClient,
    private readonly aggregator: AggregatorService,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(@Res({ passthrough: true }) reply: FastifyReply): Record<string, unknown> {
    const nats = this.nats.isConnected;
    const figures = this.aggregator.ready ? 'serving' : 'recovering';
    const ready = nats && this.aggregator.ready;
    reply.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not-ready', checks: { nats, figures } };
  }
}
