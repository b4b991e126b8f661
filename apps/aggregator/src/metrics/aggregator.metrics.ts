import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus series of the aggregator. No ids in labels. */
export class AggregatorMetrics {
  readonly registry = new Registry();

  readonly sales = new Counter({
    name: 'tally_aggregator_sales_total',
    help: 'Sales folded into the figures, by outcome: live (entered the rolling windows), late (older than the allowed lateness or the longest window: all-time only)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly messages = new Counter({
    name: 'tally_aggregator_messages_total',
    help: 'Stream messages by outcome: applied, replayed (after a restart), skipped (already in the figures: a redelivery), undecodable',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly freshness = new Histogram({
    name: 'tally_aggregator_freshness_seconds',
    help: 'From ingest accepting a sale (receivedAt) to the sale counting in the figures',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly batchMessages = new Histogram({
    name: 'tally_aggregator_batch_messages',
    help: 'Messages per batch pulled from the durable consumer (each batch costs a pull request and an ack flush)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    registers: [this.registry],
  });

  readonly appliedSequence = new Gauge({
    name: 'tally_aggregator_applied_sequence',
    help: 'Highest stream sequence folded into the figures',
    registers: [this.registry],
  });

  readonly lag = new Gauge({
    name: 'tally_aggregator_lag_messages',
    help: 'Messages on the stream not yet delivered to the aggregator consumer (lag to the stream head)',
    registers: [this.registry],
  });

  readonly checkpointAge = new Gauge({
    name: 'tally_aggregator_checkpoint_age_seconds',
    help: 'Time since the last checkpoint was stored',
    registers: [this.registry],
  });

  readonly checkpointSeconds = new Histogram({
    name: 'tally_aggregator_checkpoint_seconds',
    help: 'Time to serialize and store one checkpoint',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly checkpointBytes = new Gauge({
    name: 'tally_aggregator_checkpoint_bytes',
    help: 'Bytes the last checkpoint wrote, compressed (the aggregates changed since the one before; checkpoints are incremental)',
    registers: [this.registry],
  });

  readonly checkpointStoredBytes = new Gauge({
    name: 'tally_aggregator_checkpoint_stored_bytes',
    help: 'Body bytes, before compression, of every snapshot object the last checkpoint needs (what a restart decodes)',
    registers: [this.registry],
  });

  readonly checkpointAggregates = new Gauge({
    name: 'tally_aggregator_checkpoint_aggregates',
    help: 'Aggregates (buckets and totals) in the last checkpoint, by whether it wrote them or referred to an earlier object',
    labelNames: ['part'],
    registers: [this.registry],
  });

  readonly stateKeys = new Gauge({
    name: 'tally_aggregator_state_keys',
    help: 'Category, product and customer entries held across all buckets and totals (what memory grows with)',
    registers: [this.registry],
  });

  readonly recoverySeconds = new Gauge({
    name: 'tally_aggregator_recovery_seconds',
    help: 'Time the last start took from boot to serving: snapshot load plus stream replay',
    registers: [this.registry],
  });

  readonly flushRows = new Counter({
    name: 'tally_aggregator_clickhouse_rows_total',
    help: 'Sale lines written to ClickHouse (a block retried after a failure counts once)',
    registers: [this.registry],
  });

  readonly flushSeconds = new Histogram({
    name: 'tally_aggregator_clickhouse_flush_seconds',
    help: 'Time of one ClickHouse block: insert plus rollup refresh',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly flushFailures = new Counter({
    name: 'tally_aggregator_clickhouse_failures_total',
    help: 'Failed ClickHouse block writes (each retried as the identical block)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The flusher's view of these metrics. */
  readonly flush = {
    flushed: (rows: number, seconds: number) => {
      this.flushRows.inc(rows);
      this.flushSeconds.observe(seconds);
    },
    failed: () => this.flushFailures.inc(),
  };
}
