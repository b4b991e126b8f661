import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { NatsClient } from '@tally/nats';
import type { SaleSink } from './pipeline/sale-sink.js';
import type { SinkWorker } from './pipeline/sink-worker.js';

export const SINK_WORKERS = Symbol('SINK_WORKERS');

export interface SinkWorkerEntry {
  readonly worker: SinkWorker;
  readonly sink: SaleSink;
}

/**
 * Lifecycle of the sink workers: started once the app is up; on SIGTERM they stop pulling and
 * finish their batches first, then the stores are closed and the NATS connection drained (which
 * flushes the last acks).
 */
@Injectable()
export class SinkWorkersService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(SINK_WORKERS) private readonly entries: readonly SinkWorkerEntry[],
    @Inject(NatsClient) private readonly nats: NatsClient,
  ) {}

  get workers(): readonly SinkWorker[] {
    return this.entries.map((e) => e.worker);
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const { worker } of this.entries) await worker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.entries.map(({ worker }) => worker.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nats.close();
    await Promise.all(this.entries.map(({ sink }) => sink.close()));
  }
}
