import {
  type ApiKeys,
  ConfigError,
  type Env,
  envApiKeys,
  envDurationMs,
  envInt,
  envString,
} from '@tally/common';
import { DEFAULT_DATABASE_URL } from '@tally/postgres';

/** The query service's whole configuration, read and validated once at boot. */
export interface QueryConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  /** Connections in the pool: the most queries running at once; more wait for a free one. */
  readonly poolSize: number;
  /** Server-side statement_timeout: a query running longer fails (503) instead of holding a connection. */
  readonly statementTimeoutMs: number;
  /** Undefined when auth is explicitly disabled (TALLY_AUTH=disabled). */
  readonly apiKeys: ApiKeys | undefined;
  readonly logLevel: string;
}

export const QUERY_CONFIG = Symbol('QUERY_CONFIG');

export function loadQueryConfig(env: Env): QueryConfig {
  const apiKeys = envApiKeys(env);
  const statementTimeoutMs = envDurationMs(env, 'QUERY_STATEMENT_TIMEOUT', '10s');
  if (statementTimeoutMs < 1) {
    // Postgres reads statement_timeout = 0 as "no limit", which is not what a 0 would mean here.
    throw new ConfigError(`QUERY_STATEMENT_TIMEOUT=${env.QUERY_STATEMENT_TIMEOUT}: must be at least 1ms`);
  }
  return {
    port: envInt(env, 'QUERY_PORT', 3003, { min: 0, max: 65535 }),
    host: envString(env, 'QUERY_HOST', '127.0.0.1'),
    databaseUrl: envPostgresUrl(env, 'DATABASE_URL', DEFAULT_DATABASE_URL),
    poolSize: envInt(env, 'QUERY_DB_POOL_SIZE', 4, { min: 1, max: 1000 }),
    statementTimeoutMs,
    apiKeys,
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
  };
}

function envPostgresUrl(env: Env, name: string, fallback: string): string {
  const raw = envString(env, name, fallback);
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['postgres:', 'postgresql:'].includes(url.protocol)) {
    // The value may hold a password: name the variable and the rule, never echo it.
    throw new ConfigError(`${name}: must be a URL such as postgres://user@host:5432/tally`);
  }
  return raw;
}
