import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Env } from '@tally/common';
import type { StreamNames } from '@tally/contracts';
import { waitFor } from '@tally/testing';
import { pino } from 'pino';
import { createAggregatorApp } from '../src/bootstrap.js';
import { type AggregatorConfig, loadAggregatorConfig } from '../src/config/aggregator.config.js';
import type { AggregatorService } from '../src/pipeline/aggregator.service.js';

export const AGG_KEY_ALL = 'agg-key-all';
export const AGG_KEY_NORTH = 'agg-key-north';

/** The environment a test aggregator runs with: the test's stream, fast timers, known keys. */
export function aggregatorEnv(names: StreamNames, env: Env = {}): Record<string, string> {
  return {
    TALLY_STREAM: names.stream,
    TALLY_SUBJECT_PREFIX: names.subjectPrefix,
    TALLY_API_KEYS: `${AGG_KEY_ALL}=*,${AGG_KEY_NORTH}=b-north`,
    AGGREGATOR_PORT: '0',
    AGGREGATOR_LAG_POLL: '200ms',
    AGGREGATOR_STREAM_INTERVAL: '100ms',
    AGGREGATOR_INSTANCE_ID: 'test-instance',
    // chdb opens one folder per process: tests that run ClickHouse turn it on with their own folder.
    AGGREGATOR_CLICKHOUSE: 'off',
    NATS_CONNECT_TIMEOUT: '3s',
    ...(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>),
  };
}

export interface RunningAggregator {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly config: AggregatorConfig;
  readonly aggregator: AggregatorService;
}

/** The real aggregator app in-process on an ephemeral port, serving once its figures are recovered. */
export async function startAggregator(names: StreamNames, env: Env = {}): Promise<RunningAggregator> {
  const config = loadAggregatorConfig(aggregatorEnv(names, env));
  let failure: Error | undefined;
  const { app, aggregator } = await createAggregatorApp(config, {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    onStartFailure: (error) => {
      failure = error;
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  await waitFor(
    'aggregator recovered',
    () => {
      if (failure) throw failure;
      return aggregator.ready || undefined;
    },
    { timeoutMs: 20_000 },
  );
  return { app, url: await app.getUrl(), config, aggregator };
}

/** GET with the all-branches key; returns status and parsed JSON. */
export async function getJson(
  url: string,
  key = AGG_KEY_ALL,
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies and assert on them
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json() };
}
