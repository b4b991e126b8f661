import { ConfigError, type Env, envDurationMs, envInt, envString } from '@tally/common';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, type StreamNames } from '@tally/contracts';
import { DEFAULT_DATABASE_URL } from '@tally/postgres';
import { type SpannerConfig, spannerConfigFromEnv } from '@tally/spanner';

export const SINK_NAMES = ['postgres', 'spanner'] as const;
export type SinkName = (typeof SINK_NAMES)[number];

/**
 * How a sink worker batches. A pull asks for a number of messages sized to a byte budget (see
 * JetStreamBatchSource) and waits at most maxWaitMs; its sales are then written in transactions
 * of at most `maxSales` sales each.
 */
export interface BatchOptions {
  /** Sales per transaction. */
  readonly maxSales: number;
  /** Messages per pull (each holds at least one sale, so this is maxSales). */
  readonly maxMessages: number;
  /** Target bytes per pull, which sizes the pull's message count; at least 1 MiB + 64 KiB. */
  readonly maxBytes: number;
  /** How long one pull waits to fill up (JetStream's minimum is 1 s). */
  readonly maxWaitMs: number;
  /** Pulled batches written at once, each on its own connection (see SinkWorkerOptions). */
  readonly inFlight: number;
}

/** Backoff after a transient failure: doubles from min to max while the sink stays down. */
export interface RetryOptions {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Where the Spanner sink writes; absent when Spanner is not configured (the sink is then off). */
export interface SpannerSinkConfig extends SpannerConfig {
  readonly consumer: string;
  /** Mutations per commit (Spanner's limit is 80,000). */
  readonly maxMutations: number;
}

export interface PostgresSinkConfig {
  readonly url: string;
  readonly consumer: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
}

/** The writer's whole configuration, read and validated once at boot. */
export interface WriterConfig {
  readonly port: number;
  readonly host: string;
  readonly natsUrl: string;
  readonly natsConnectTimeoutMs: number;
  readonly names: StreamNames;
  readonly sinks: readonly SinkName[];
  readonly batch: BatchOptions;
  readonly retry: RetryOptions;
  /** How often consumer lag (pending messages) is read for /metrics. */
  readonly lagPollMs: number;
  readonly postgres: PostgresSinkConfig;
  /** Undefined when neither SPANNER_PROJECT_ID nor SPANNER_EMULATOR_HOST is set. */
  readonly spanner: SpannerSinkConfig | undefined;
  readonly logLevel: string;
}

export const WRITER_CONFIG = Symbol('WRITER_CONFIG');

/** A pull's budget must fit any single message: the sales stream allows messages of up to 1 MiB. */
const MIN_BATCH_BYTES = 1024 * 1024 + 64 * 1024;

export function loadWriterConfig(env: Env): WriterConfig {
  const retry = {
    minMs: envDurationMs(env, 'WRITER_RETRY_MIN', '250ms'),
    maxMs: envDurationMs(env, 'WRITER_RETRY_MAX', '30s'),
  };
  if (retry.maxMs < retry.minMs) {
    throw new ConfigError(
      `WRITER_RETRY_MAX (${retry.maxMs} ms) must be at least WRITER_RETRY_MIN (${retry.minMs} ms)`,
    );
  }
  const maxWaitMs = envDurationMs(env, 'WRITER_BATCH_MAX_WAIT', '1s');
  const maxSales = envInt(env, 'WRITER_BATCH_MAX_SALES', 1000, { min: 1, max: 50_000 });
  if (maxWaitMs < 1000)
    throw new ConfigError(`WRITER_BATCH_MAX_WAIT=${env.WRITER_BATCH_MAX_WAIT}: must be at least 1s`);
  return {
    port: envInt(env, 'WRITER_PORT', 3002, { min: 0, max: 65535 }),
    host: envString(env, 'WRITER_HOST', '127.0.0.1'),
    natsUrl: envString(env, 'NATS_URL', 'nats://127.0.0.1:4222'),
    natsConnectTimeoutMs: envDurationMs(env, 'NATS_CONNECT_TIMEOUT', '10s'),
    names: {
      stream: envString(env, 'TALLY_STREAM', DEFAULT_STREAM),
      subjectPrefix: envString(env, 'TALLY_SUBJECT_PREFIX', DEFAULT_SUBJECT_PREFIX),
    },
    sinks: parseSinks(env.WRITER_SINKS),
    batch: {
      maxSales,
      maxMessages: maxSales,
      inFlight: envInt(env, 'WRITER_BATCHES_IN_FLIGHT', 2, { min: 1, max: 16 }),
      maxBytes: envInt(env, 'WRITER_BATCH_MAX_BYTES', 2 * 1024 * 1024, { min: MIN_BATCH_BYTES }),
      maxWaitMs,
    },
    retry,
    lagPollMs: envDurationMs(env, 'WRITER_LAG_POLL', '5s'),
    postgres: {
      url: envString(env, 'DATABASE_URL', DEFAULT_DATABASE_URL),
      consumer: envString(env, 'WRITER_POSTGRES_CONSUMER', 'writer-postgres'),
      poolSize: envInt(env, 'WRITER_POSTGRES_POOL_SIZE', 4, { min: 1, max: 100 }),
      statementTimeoutMs: envDurationMs(env, 'WRITER_POSTGRES_STATEMENT_TIMEOUT', '30s'),
    },
    spanner: spannerConfig(env),
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
  };
}

/** Spanner is configured when the emulator host or a project is named; the rest as spanner:migrate reads it. */
function spannerConfig(env: Env): SpannerSinkConfig | undefined {
  if (envString(env, 'SPANNER_EMULATOR_HOST', '') === '' && envString(env, 'SPANNER_PROJECT_ID', '') === '') {
    return undefined;
  }
  return {
    ...spannerConfigFromEnv(env),
    consumer: envString(env, 'WRITER_SPANNER_CONSUMER', 'writer-spanner'),
    maxMutations: envInt(env, 'WRITER_SPANNER_MAX_MUTATIONS', 80_000, { min: 100, max: 80_000 }),
  };
}

function parseSinks(raw: string | undefined): SinkName[] {
  const names = (raw ?? 'postgres,spanner')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new ConfigError('WRITER_SINKS: name at least one sink (postgres, spanner)');
  for (const name of names) {
    if (!(SINK_NAMES as readonly string[]).includes(name)) {
      throw new ConfigError(`WRITER_SINKS=${raw}: unknown sink "${name}"; known: ${SINK_NAMES.join(', ')}`);
    }
  }
  return [...new Set(names)] as SinkName[];
}
