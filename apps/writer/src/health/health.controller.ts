import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { NatsClient } from '@tally/nats';
import type { FastifyReply } from 'fastify';
import { SinkWorkersService } from '../sink-workers.service.js';

/** Liveness: the process answers. Readiness: NATS is connected and every sink is storing (not waiting out a failure). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly nats: NatsClient,
    private readonly workers: SinkWorkersService,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(@Res({ passthrough: true }) reply: FastifyReply): Record<string, unknown> {
    const nats = this.nats.isConnected;
    const sinks = Object.fromEntries(this.workers.workers.map((w) => [w.name, w.isUp ? 'up' : 'down']));
    const ready = nats && Object.values(sinks).every((s) => s === 'up');
    reply.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not-ready', checks: { nats, sinks } };
  }
}
