import { envCatalogBucket } from '@tally/catalog';
import { type ApiKeys, type Env, envApiKeys, envDurationMs, envEnum, envInt, envString } from '@tally/common';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, MAX_QUANTITY, type StreamNames } from '@tally/contracts';

/** Which ids must be in the catalog (CATALOG_ENFORCE). */
export interface CatalogEnforcement {
  readonly products: boolean;
  readonly branches: boolean;
}

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
  /** KV bucket holding the catalog (TALLY_CATALOG_BUCKET, default `<stream>_catalog`). */
  readonly catalogBucket: string;
  /** How long boot may wait for the catalog's current entries. */
  readonly catalogLoadTimeoutMs: number;
  /** Reject sales naming a product or branch the catalog does not know (default: neither). */
  readonly catalogEnforce: CatalogEnforcement;
  /** Most units of one product in one sale (its lines' quantities summed); undefined: no limit. */
  readonly maxUnitsPerProduct: number | undefined;
}

export const INGEST_CONFIG = Symbol('INGEST_CONFIG');

/** CATALOG_ENFORCE values and the ids each makes the catalog's business. */
const ENFORCE: Readonly<Record<'off' | 'on' | 'products' | 'branches', readonly string[]>> = {
  off: [],
  on: ['products', 'branches'],
  products: ['products'],
  branches: ['branches'],
};

export function loadIngestConfig(env: Env): IngestConfig {
  const apiKeys = envApiKeys(env);
  const stream = envString(env, 'TALLY_STREAM', DEFAULT_STREAM);
  const enforce =
    ENFORCE[envEnum(env, 'CATALOG_ENFORCE', ['off', 'on', 'products', 'branches'] as const, 'off')];
  const maxUnits = envString(env, 'MAX_UNITS_PER_PRODUCT', '');
  return {
    port: envInt(env, 'INGEST_PORT', 3000, { min: 0, max: 65535 }),
    host: envString(env, 'INGEST_HOST', '127.0.0.1'),
    natsUrl: envString(env, 'NATS_URL', 'nats://127.0.0.1:4222'),
    natsConnectTimeoutMs: envDurationMs(env, 'NATS_CONNECT_TIMEOUT', '10s'),
    names: {
      stream,
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
    catalogBucket: envCatalogBucket(env, stream),
    catalogLoadTimeoutMs: envDurationMs(env, 'CATALOG_LOAD_TIMEOUT', '30s'),
    catalogEnforce: { products: enforce.includes('products'), branches: enforce.includes('branches') },
    maxUnitsPerProduct:
      maxUnits === '' ? undefined : envInt(env, 'MAX_UNITS_PER_PRODUCT', 0, { min: 1, max: MAX_QUANTITY }),
  };
}
