import { type ApiKeys, type Env, envApiKeys, envDurationMs, envInt, envString } from '@tally/common';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, type StreamNames } from '@tally/contracts';

/** The ingest service's whole configuration, read and validated once at boot. */
export interface IngestConfig {
  readonly port: number;
  readonly host: string;
  readonly natsUrl: string;
  readonly natsConnectTimeoutMs: number;
  readonly names: StreamNames;
  /** Undefined when auth is explicitly disabled (TALLY_AUTH=disabled). */
  readonly apiKeys: ApiKeys | undefined;
  readonly maxFutureSkewMs: number;
  /** Messages awaiting their PubAck; past this, requests are refused with 503. */
  readonly maxInFlight: number;
  readonly publishTimeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly batchMaxSales: number;
  readonly envelopeMaxSales: number;
  readonly envelopeMaxBytes: number;
  readonly singleBodyLimitBytes: number;
  readonly batchBodyLimitBytes: number;
  readonly logLevel: string;
}

export const INGEST_CONFIG = Symbol('INGEST_CONFIG');

export function loadIngestConfig(env: Env): IngestConfig {
  const apiKeys = envApiKeys(env);
  return {
    port: envInt(env, 'INGEST_PORT', 3000, { min: 0, max: 65535 }),
    host: envString(env, 'INGEST_HOST', '127.0.0.1'),
    natsUrl: envString(env, 'NATS_URL', 'nats://127.0.0.1:4222'),
    natsConnectTimeoutMs: envDurationMs(env, 'NATS_CONNECT_TIMEOUT', '10s'),
    names: {
      stream: envString(env, 'TALLY_STREAM', DEFAULT_STREAM),
      subjectPrefix: envString(env, 'TALLY_SUBJECT_PREFIX', DEFAULT_SUBJECT_PREFIX),
    },
    apiKeys,
    maxFutureSkewMs: envDurationMs(env, 'TALLY_MAX_FUTURE_SKEW', '5m'),
    maxInFlight: envInt(env, 'INGEST_MAX_IN_FLIGHT', 2048, { min: 1 }),
    publishTimeoutMs: envDurationMs(env, 'INGEST_PUBLISH_TIMEOUT', '5s'),
    retryAfterSeconds: envInt(env, 'INGEST_RETRY_AFTER_SECONDS', 1, { min: 1 }),
    batchMaxSales: envInt(env, 'INGEST_BATCH_MAX_SALES', 5000, { min: 1, max: 100_000 }),
    envelopeMaxSales: envInt(env, 'INGEST_ENVELOPE_MAX_SALES', 500, { min: 1 }),
    envelopeMaxBytes: envInt(env, 'INGEST_ENVELOPE_MAX_BYTES', 512 * 1024, {
      min: 4096,
      max: 1024 * 1024 - 4096,
    }),
    singleBodyLimitBytes: envInt(env, 'INGEST_BODY_LIMIT', 1024 * 1024, { min: 1024 }),
    batchBodyLimitBytes: envInt(env, 'INGEST_BATCH_BODY_LIMIT', 32 * 1024 * 1024, { min: 1024 }),
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
  };
}
