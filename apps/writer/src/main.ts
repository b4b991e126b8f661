import 'reflect-metadata';
import { runApp } from '@tally/common';
import { createWriterApp } from './bootstrap.js';
import { loadWriterConfig } from './config/writer.config.js';

await runApp({
  name: 'writer',
  loadConfig: loadWriterConfig,
  create: createWriterApp,
  context: (config) => ({ sinks: config.sinks, stream: config.names.stream }),
});
