import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { pino } from 'pino';
import { createQueryApp } from '../src/bootstrap.js';
import { loadQueryConfig, type QueryConfig } from '../src/config/query.config.js';

export const KEY_ALL = 'key-all-branches';
export const KEY_BRANCH_1 = 'key-branch-1';

/** The real query app on an ephemeral port, reading the given database. */
export async function startQuery(
  databaseUrl: string,
  overrides: Partial<QueryConfig> = {},
): Promise<{ app: NestFastifyApplication; url: string; config: QueryConfig }> {
  const config: QueryConfig = {
    ...loadQueryConfig({
      TALLY_API_KEYS: `${KEY_ALL}=*,${KEY_BRANCH_1}=branch-1`,
      QUERY_PORT: '0',
      DATABASE_URL: databaseUrl,
    }),
    ...overrides,
  };
  const app = await createQueryApp(config, pino({ level: 'silent' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: await app.getUrl(), config };
}

/** GET with `Authorization: Bearer <key>`; a null key sends no Authorization header. */
export function get(url: string, key: string | null = KEY_ALL, headers: Record<string, string> = {}) {
  return fetch(url, { headers: { ...(key !== null && { authorization: `Bearer ${key}` }), ...headers } });
}

/** A reply body as loosely typed JSON: the tests assert its shape. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies and assert on them
export const json = (res: Response): Promise<any> => res.json();
