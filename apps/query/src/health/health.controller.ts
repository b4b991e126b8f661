import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PostgresClient } from '@tally/postgres';
import type { FastifyReply } from 'fastify';

/** A readiness probe must answer quickly even when Postgres hangs instead of refusing. */
const PING_TIMEOUT_MS = 2_000;

/** Liveness: the process answers. Readiness: Postgres answers a query. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly postgres: PostgresClient) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const postgres = await this.reachable();
    reply.status(postgres ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: postgres ? 'ready' : 'not-ready', checks: { postgres } };
  }

  private async reachable(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.postgres.ping().then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
