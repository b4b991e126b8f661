import { envCatalogBucket } from '@tally/catalog';
import { type Env, envDurationMs, envString } from '@tally/common';
import { DEFAULT_STREAM } from '@tally/contracts';
import { DEFAULT_NATS_URL } from '@tally/nats';
import { DEFAULT_DATABASE_URL } from '@tally/postgres';

/** catalog:import's settings, read and validated once. */
export interface CatalogImportConfig {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly natsConnectTimeoutMs: number;
  /** The KV bucket ingest reads: TALLY_CATALOG_BUCKET, default `<TALLY_STREAM>_catalog`. */
  readonly bucket: string;
}

export function loadCatalogImportConfig(env: Env): CatalogImportConfig {
  return {
    databaseUrl: envString(env, 'DATABASE_URL', DEFAULT_DATABASE_URL),
    natsUrl: envString(env, 'NATS_URL', DEFAULT_NATS_URL),
    natsConnectTimeoutMs: envDurationMs(env, 'NATS_CONNECT_TIMEOUT', '10s'),
    bucket: envCatalogBucket(env, envString(env, 'TALLY_STREAM', DEFAULT_STREAM)),
  };
}
