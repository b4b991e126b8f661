import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus series of the writer, labelled by sink. No ids in labels. */
export class WriterMetrics {
  readonly registry = new Registry();

  readonly batches = new Counter({
    name: 'tally_writer_batches_total',
    help: 'Fetched batches by outcome: stored, transient_failure',
    labelNames: ['sink', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly sales = new Counter({
    name: 'tally_writer_sales_total',
    help: 'Sales by outcome: inserted, duplicate (already stored), dead_lettered',
    labelNames: ['sink', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly rows = new Counter({
    name: 'tally_writer_rows_total',
    help: 'Rows written (sales and lines)',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });

  readonly batchSeconds = new Histogram({
    name: 'tally_writer_batch_seconds',
    help: 'Time to store one batch, from the start of its write to its ack',
    labelNames: ['sink'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly batchMessages = new Histogram({
    name: 'tally_writer_batch_messages',
    help: 'Messages per fetched batch',
    labelNames: ['sink'] as const,
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'tally_writer_dead_letters_total',
    help: 'Messages or sales sent to the dead-letter stream, by cause: undecodable, rejected, last_delivery',
    labelNames: ['sink', 'cause'] as const,
    registers: [this.registry],
  });

  readonly consumerPending = new Gauge({
    name: 'tally_writer_consumer_pending_messages',
    help: 'Consumer lag: messages in the stream not yet delivered to this sink',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });

  readonly consumerAckPending = new Gauge({
    name: 'tally_writer_consumer_ack_pending_messages',
    help: 'Messages delivered to this sink and not yet acknowledged',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });

  readonly sinkUp = new Gauge({
    name: 'tally_writer_sink_up',
    help: '1 while the sink stores batches, 0 while it waits out a failure',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
