import { ConfigError, type Env, envString } from '@tally/common';
import { defaultCatalogBucket } from './catalog-bucket.repository.js';

/** KV bucket names: what nats.js accepts (it becomes the stream `KV_<bucket>`). */
const BUCKET_NAME = /^[-\w]+$/;

/**
 * `TALLY_CATALOG_BUCKET`, shared by catalog:import (which publishes) and ingest (which reads):
 * default `<TALLY_STREAM>_catalog`, so both sides agree without setting anything.
 */
export function envCatalogBucket(env: Env, stream: string): string {
  const bucket = envString(env, 'TALLY_CATALOG_BUCKET', defaultCatalogBucket(stream));
  if (!BUCKET_NAME.test(bucket)) {
    throw new ConfigError(`TALLY_CATALOG_BUCKET=${bucket}: must be letters, digits, _ or - only`);
  }
  return bucket;
}
