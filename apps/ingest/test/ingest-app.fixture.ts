import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { defaultCatalogBucket } from '@tally/catalog';
import type { StreamNames } from '@tally/contracts';
import { pino } from 'pino';
import { createIngestApp } from '../src/bootstrap.js';
import { type IngestConfig, loadIngestConfig } from '../src/config/ingest.config.js';

export const KEY_ALL = 'key-all-branches';
export const KEY_BRANCH_1 = 'key-branch-1';

/** The real ingest app on an ephemeral port, wired to a test stream and that stream's own catalog bucket. */
export async function startIngest(
  names: StreamNames,
  overrides: Partial<IngestConfig> = {},
): Promise<{ app: NestFastifyApplication; url: string; config: IngestConfig }> {
  const config: IngestConfig = {
    ...loadIngestConfig({
      TALLY_API_KEYS: `${KEY_ALL}=*,${KEY_BRANCH_1}=branch-1`,
      INGEST_PORT: '0',
      NATS_CONNECT_TIMEOUT: '3s',
    }),
    names,
    catalogBucket: defaultCatalogBucket(names.stream),
    ...overrides,
  };
  const app = await createIngestApp(config, pino({ level: 'silent' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: await app.getUrl(), config };
}

export function post(url: string, body: unknown, key = KEY_ALL, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A reply body as loosely typed JSON: the tests assert its shape. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies and assert on them
export const json = (res: Response): Promise<any> => res.json();
