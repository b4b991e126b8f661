import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/**
 * The ingest service's one NATS connection, with its live state. The client reconnects
 * forever; while it is disconnected, `connected` is false and publishers refuse at once
 * (503) rather than letting requests queue behind a dead link.
 */
export class NatsGateway {
  private isConnected = true;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly logger: Logger,
  ) {
    void this.watchStatus();
  }

  /** Connects, retrying until `timeoutMs`; throws an error naming the URL if NATS never answers. */
  static async connect(url: string, name: string, timeoutMs: number, logger: Logger): Promise<NatsGateway> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const nc = await connect({
          servers: url,
          name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          timeout: Math.max(500, Math.min(2000, deadline - Date.now())),
        });
        const jsm = await jetstreamManager(nc, { checkAPI: false });
        return new NatsGateway(nc, jetstream(nc), jsm, logger);
      } catch (error) {
        if (Date.now() >= deadline) {
          throw new Error(
            `NATS is unreachable at ${url} (${(error as Error).message}). Start it (nats-server -js) or set NATS_URL.`,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  get connected(): boolean {
    return this.isConnected && !this.nc.isClosed();
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.isConnected = false;
        this.logger.warn({ server: status.server }, 'NATS disconnected; refusing sales until it is back');
      } else if (status.type === 'reconnect') {
        this.isConnected = true;
        this.logger.info({ server: status.server }, 'NATS reconnected');
      }
    }
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
