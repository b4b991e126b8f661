import { hostname } from 'node:os';
import { type ClickHouseConfig, clickHouseConfigFromEnv } from '@tally/clickhouse';
import {
  type ApiKeys,
  ConfigError,
  type Env,
  envApiKeys,
  envDurationMs,
  envEnum,
  envInt,
  envString,
} from '@tally/common';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, type StreamNames, salesSubjects } from '@tally/contracts';
import type { PullBudget } from '@tally/nats';
import type { FlushOptions } from '../clickhouse/clickhouse-flusher.js';
import { type WindowLayout, windowLayout } from '../windows/window-spec.js';

/** The aggregator's whole configuration, read and validated once at boot. */
export interface AggregatorConfig {
  readonly port: number;
  readonly host: string;
  readonly natsUrl: string;
  readonly natsConnectTimeoutMs: number;
  readonly names: StreamNames;
  /**
   * The durable consumer this instance folds; one instance per consumer (a lease enforces it).
   * Scaling out = one consumer per partition of branches, each with its own filter subject.
   */
  readonly consumer: string;
  /** The consumer's filter subject, which replay after a restart uses too. */
  readonly filterSubject: string;
  /** Names this process in the lease; stable across restarts of the same instance (the host name by default). */
  readonly instanceId: string;
  readonly layout: WindowLayout;
  readonly pull: PullBudget;
  readonly checkpoint: CheckpointOptions;
  /** How often the windows' clock moves when no sales arrive. */
  readonly tickMs: number;
  /** Server-Sent Events push a changed summary at most this often. */
  readonly streamIntervalMs: number;
  /** How often consumer lag is read for /metrics. */
  readonly lagPollMs: number;
  /** Undefined when AGGREGATOR_CLICKHOUSE=off: no flush, no reports. */
  readonly clickhouse: ClickHouseConfig | undefined;
  readonly flush: FlushOptions;
  /** Undefined when auth is explicitly disabled (TALLY_AUTH=disabled). */
  readonly apiKeys: ApiKeys | undefined;
  readonly logLevel: string;
}

export interface CheckpointOptions {
  /** KV bucket of checkpoint pointers and leases; the snapshots go to the object store `<bucket>_snapshots`. */
  readonly bucket: string;
  /** A snapshot is taken this often (and at shutdown); replay after a crash covers at most this much. */
  readonly intervalMs: number;
  /** A lease not renewed for this long is free: another instance may take the consumer over. */
  readonly leaseTtlMs: number;
}

export const AGGREGATOR_CONFIG = Symbol('AGGREGATOR_CONFIG');

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function loadAggregatorConfig(env: Env): AggregatorConfig {
  const names: StreamNames = {
    stream: envString(env, 'TALLY_STREAM', DEFAULT_STREAM),
    subjectPrefix: envString(env, 'TALLY_SUBJECT_PREFIX', DEFAULT_SUBJECT_PREFIX),
  };
  const consumer = envName(env, 'AGGREGATOR_CONSUMER', 'aggregator');
  const maxWaitMs = envDurationMs(env, 'AGGREGATOR_PULL_MAX_WAIT', '1s');
  if (maxWaitMs < 1000) throw new ConfigError('AGGREGATOR_PULL_MAX_WAIT: must be at least 1s');
  const checkpoint: CheckpointOptions = {
    bucket: envName(env, 'AGGREGATOR_CHECKPOINT_BUCKET', `${names.stream}_aggregator`),
    intervalMs: envDurationMs(env, 'AGGREGATOR_CHECKPOINT_INTERVAL', '10s'),
    leaseTtlMs: envDurationMs(env, 'AGGREGATOR_LEASE_TTL', '15s'),
  };
  if (checkpoint.intervalMs < 100)
    throw new ConfigError('AGGREGATOR_CHECKPOINT_INTERVAL: must be at least 100ms');
  if (checkpoint.leaseTtlMs < 3000) throw new ConfigError('AGGREGATOR_LEASE_TTL: must be at least 3s');
  return {
    port: envInt(env, 'AGGREGATOR_PORT', 3001, { min: 0, max: 65535 }),
    host: envString(env, 'AGGREGATOR_HOST', '127.0.0.1'),
    natsUrl: envString(env, 'NATS_URL', 'nats://127.0.0.1:4222'),
    natsConnectTimeoutMs: envDurationMs(env, 'NATS_CONNECT_TIMEOUT', '10s'),
    names,
    consumer,
    filterSubject: envString(env, 'AGGREGATOR_FILTER_SUBJECT', salesSubjects(names)),
    instanceId: envString(env, 'AGGREGATOR_INSTANCE_ID', hostname()),
    layout: layoutFrom(env),
    pull: {
      maxMessages: envInt(env, 'AGGREGATOR_PULL_MAX_MESSAGES', 5000, { min: 1, max: 100_000 }),
      maxBytes: envInt(env, 'AGGREGATOR_PULL_MAX_BYTES', 8 * 1024 * 1024, { min: 1024 * 1024 + 64 * 1024 }),
      maxWaitMs,
      // Freshness first: an idle pull returns with the first sale to arrive (see PullBudget).
      idleMessages: envInt(env, 'AGGREGATOR_PULL_IDLE_MESSAGES', 1, { min: 1, max: 100_000 }),
    },
    checkpoint,
    tickMs: envDurationMs(env, 'AGGREGATOR_TICK', '250ms'),
    streamIntervalMs: envDurationMs(env, 'AGGREGATOR_STREAM_INTERVAL', '1s'),
    lagPollMs: envDurationMs(env, 'AGGREGATOR_LAG_POLL', '2s'),
    clickhouse:
      envEnum(env, 'AGGREGATOR_CLICKHOUSE', ['on', 'off'], 'on') === 'on'
        ? clickHouseConfigFromEnv(env)
        : undefined,
    flush: {
      maxRows: envInt(env, 'AGGREGATOR_FLUSH_MAX_ROWS', 100_000, { min: 1, max: 10_000_000 }),
      maxMessages: envInt(env, 'AGGREGATOR_FLUSH_MAX_MESSAGES', 10_000, { min: 1, max: 1_000_000 }),
      maxWaitMs: envDurationMs(env, 'AGGREGATOR_FLUSH_MAX_WAIT', '1s'),
      rollupEveryMs: envDurationMs(env, 'AGGREGATOR_FLUSH_ROLLUP_EVERY', '5s'),
      retryMinMs: envDurationMs(env, 'AGGREGATOR_FLUSH_RETRY_MIN', '250ms'),
      retryMaxMs: envDurationMs(env, 'AGGREGATOR_FLUSH_RETRY_MAX', '30s'),
      fault: faultFrom(env.AGGREGATOR_FAULT_KILL),
    },
    apiKeys: envApiKeys(env),
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
  };
}

function layoutFrom(env: Env): WindowLayout {
  const buckets = envInt(env, 'AGGREGATOR_BUCKETS_PER_WINDOW', 60, { min: 1, max: 3600 });
  const lateness = envDurationMs(env, 'AGGREGATOR_ALLOWED_LATENESS', '5m');
  try {
    return windowLayout(buckets, lateness);
  } catch (error) {
    throw new ConfigError(
      `AGGREGATOR_BUCKETS_PER_WINDOW=${buckets}, AGGREGATOR_ALLOWED_LATENESS=${lateness}ms: ${(error as Error).message}`,
    );
  }
}

function envName(env: Env, name: string, fallback: string): string {
  const value = envString(env, name, fallback);
  if (!NAME.test(value)) throw new ConfigError(`${name}=${value}: must be 1-64 of [A-Za-z0-9_-]`);
  return value;
}

/** AGGREGATOR_FAULT_KILL=after-insert:2 or with-buffer:1 (crash tests only). */
function faultFrom(raw: string | undefined): FlushOptions['fault'] {
  if (raw === undefined || raw === '') return undefined;
  const match = /^(after-insert|with-buffer):([1-9][0-9]{0,5})$/.exec(raw);
  if (!match)
    throw new ConfigError(
      `AGGREGATOR_FAULT_KILL=${raw}: must be after-insert:<blocks> or with-buffer:<blocks>`,
    );
  return { point: match[1] as 'after-insert' | 'with-buffer', blocks: Number(match[2]) };
}
