import 'reflect-metadata';
import { runApp } from '@tally/common';
import { redactUrl } from '@tally/postgres';
import { createQueryApp } from './bootstrap.js';
import { loadQueryConfig } from './config/query.config.js';

// A schema behind the code names its fix (npm run db:migrate); an unreachable database names its URL.
await runApp({
  name: 'query',
  loadConfig: loadQueryConfig,
  create: createQueryApp,
  context: (config) => ({ database: redactUrl(config.databaseUrl) }),
});
