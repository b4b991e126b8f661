import { type Env, envDurationMs, envString } from '@tally/common';
import { DEFAULT_STREAM } from '@tally/contracts';
import { DEFAULT_DATABASE_URL } from '@tally/postgres';
import { type SpannerConfig, spannerConfigFromEnv } from '@tally/spanner';

/** The reconcile command's settings, from the environment as the other apps read them. */
export interface ReconcileConfig {
  readonly databaseUrl: string;
  readonly spanner: SpannerConfig;
  readonly natsUrl: string;
  readonly natsConnectTimeoutMs: number;
  /** The sales stream, read by sequence when repairing. */
  readonly stream: string;
  /** Listener of /metrics with --metrics-port. */
  readonly metricsHost: string;
}

/** Throws ConfigError naming the variable and the rule. */
export function loadReconcileConfig(env: Env): ReconcileConfig {
  return {
    databaseUrl: envString(env, 'DATABASE_URL', DEFAULT_DATABASE_URL),
    spanner: spannerConfigFromEnv(env),
    natsUrl: envString(env, 'NATS_URL', 'nats://127.0.0.1:4222'),
    natsConnectTimeoutMs: envDurationMs(env, 'NATS_CONNECT_TIMEOUT', '10s'),
    stream: envString(env, 'TALLY_STREAM', DEFAULT_STREAM),
    metricsHost: envString(env, 'RECONCILE_HOST', '127.0.0.1'),
  };
}
