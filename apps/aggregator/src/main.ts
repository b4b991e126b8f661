import 'reflect-metadata';
import { runApp } from '@tally/common';
import { createAggregatorApp } from './bootstrap.js';
import { loadAggregatorConfig } from './config/aggregator.config.js';

await runApp({
  name: 'aggregator',
  loadConfig: loadAggregatorConfig,
  create: async (config, logger) => (await createAggregatorApp(config, { logger })).app,
  context: (config) => ({ stream: config.names.stream, consumer: config.consumer }),
});
