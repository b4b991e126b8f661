import { type Env, envDurationMs, envInt, envString } from '@tally/common';

/** The import command's settings from the environment (flags override url and key). */
export interface ImportConfig {
  /** Ingest's base URL. */
  readonly url: string;
  /** Bearer key for ingest; undefined when ingest runs with TALLY_AUTH=disabled. */
  readonly apiKey?: string;
  /** The query API asked which sales are stored before each batch; undefined: not asked. */
  readonly queryUrl?: string;
  /** How far in the future occurredAt may lie, as ingest's TALLY_MAX_FUTURE_SKEW. */
  readonly maxFutureSkewMs: number;
  readonly requestTimeoutMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly retryForMs: number;
  /** Order ids found in separate places beyond which the file counts as not grouped (held in memory). */
  readonly maxSplitOrders: number;
}

/** Throws ConfigError naming the variable and the rule. */
export function loadImportConfig(env: Env): ImportConfig {
  const apiKey = envString(env, 'IMPORT_API_KEY', '');
  const queryUrl = envString(env, 'IMPORT_QUERY_URL', '');
  return {
    url: envString(env, 'IMPORT_URL', 'http://127.0.0.1:3000'),
    ...(apiKey !== '' && { apiKey }),
    ...(queryUrl !== '' && { queryUrl }),
    maxFutureSkewMs: envDurationMs(env, 'TALLY_MAX_FUTURE_SKEW', '5m'),
    requestTimeoutMs: envDurationMs(env, 'IMPORT_REQUEST_TIMEOUT', '60s'),
    retryMinMs: envDurationMs(env, 'IMPORT_RETRY_MIN', '250ms'),
    retryMaxMs: envDurationMs(env, 'IMPORT_RETRY_MAX', '10s'),
    retryForMs: envDurationMs(env, 'IMPORT_RETRY_FOR', '5m'),
    maxSplitOrders: envInt(env, 'IMPORT_MAX_SPLIT_ORDERS', 100_000, { min: 0, max: 10_000_000 }),
  };
}
