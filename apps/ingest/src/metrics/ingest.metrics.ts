import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus series of the ingest service. Labels stay low-cardinality: no ids, only rules and outcomes. */
export class IngestMetrics {
  readonly registry = new Registry();

  readonly sales = new Counter({
    name: 'tally_ingest_sales_total',
    help: 'Sales by outcome: accepted, duplicate, rejected',
    labelNames: ['endpoint', 'status'] as const,
    registers: [this.registry],
  });

  readonly rejections = new Counter({
    name: 'tally_ingest_rejections_total',
    help: 'Rejected sales by the first rule they broke',
    labelNames: ['rule'] as const,
    registers: [this.registry],
  });

  readonly unavailable = new Counter({
    name: 'tally_ingest_unavailable_total',
    help: 'Requests answered 503, by cause',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });

  readonly publishSeconds = new Histogram({
    name: 'tally_ingest_publish_seconds',
    help: 'Time from publish to PubAck, per message',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly messageSales = new Histogram({
    name: 'tally_ingest_message_sales',
    help: 'Sales per published message (envelope size)',
    buckets: [1, 2, 5, 10, 50, 100, 250, 500, 1000],
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'tally_ingest_in_flight_messages',
    help: 'Messages published and awaiting their PubAck',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
