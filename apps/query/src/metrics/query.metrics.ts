import type pg from 'pg';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus series of the query service. Routes are labelled by pattern (`/v1/sales/:saleId`), never by URL. */
export class QueryMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'tally_query_requests_total',
    help: 'HTTP requests by route pattern and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  readonly requestSeconds = new Histogram({
    name: 'tally_query_request_seconds',
    help: 'Time from request to response, by route pattern and status code',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly dbConnections: Gauge<'state'>;

  constructor(pool: pg.Pool) {
    collectDefaultMetrics({ register: this.registry });
    this.dbConnections = new Gauge({
      name: 'tally_query_db_connections',
      help: 'Postgres pool connections: total, idle, and queries waiting for one (waiting > 0: the pool is the limit)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  /** `route` is Fastify's route pattern, undefined when no route matched (a 404 for an unknown path). */
  observe(route: string | undefined, status: number, elapsedMs: number): void {
    const labels = { route: route ?? 'unmatched', status: String(status) };
    this.requests.inc(labels);
    this.requestSeconds.observe(labels, elapsedMs / 1000);
  }
}
