import 'reflect-metadata';
import { runApp } from '@tally/common';
import { createIngestApp } from './bootstrap.js';
import { loadIngestConfig } from './config/ingest.config.js';

await runApp({
  name: 'ingest',
  loadConfig: loadIngestConfig,
  create: createIngestApp,
  context: (config) => ({ stream: config.names.stream }),
});
