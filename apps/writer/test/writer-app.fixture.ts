import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Env } from '@tally/common';
import type { StreamNames } from '@tally/contracts';
import { pino } from 'pino';
import { createWriterApp } from '../src/bootstrap.js';
import { loadWriterConfig, type WriterConfig } from '../src/config/writer.config.js';

/** The environment a test writer runs with: fast retries and lag polls, the test's stream and database. */
export function writerEnv(names: StreamNames, databaseUrl: string, env: Env = {}): Record<string, string> {
  return {
    TALLY_STREAM: names.stream,
    TALLY_SUBJECT_PREFIX: names.subjectPrefix,
    DATABASE_URL: databaseUrl,
    WRITER_PORT: '0',
    WRITER_RETRY_MIN: '50ms',
    WRITER_RETRY_MAX: '500ms',
    WRITER_LAG_POLL: '200ms',
    NATS_CONNECT_TIMEOUT: '3s',
    ...(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>),
  };
}

/** The real writer app in-process on an ephemeral port. */
export async function startWriter(
  names: StreamNames,
  databaseUrl: string,
  env: Env = {},
): Promise<{ app: NestFastifyApplication; url: string; config: WriterConfig }> {
  const config = loadWriterConfig(writerEnv(names, databaseUrl, env));
  const app = await createWriterApp(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: await app.getUrl(), config };
}
