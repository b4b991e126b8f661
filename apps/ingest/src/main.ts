import 'reflect-metadata';
import { ConfigError, createLogger } from '@tally/common';
import { createIngestApp } from './bootstrap.js';
import { type IngestConfig, loadIngestConfig } from './config/ingest.config.js';

let config: IngestConfig;
try {
  config = loadIngestConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`ingest: configuration error: ${error.message}`);
  process.exit(2);
}

const logger = createLogger('ingest', config.logLevel);
try {
  const app = await createIngestApp(config, logger);
  await app.listen({ port: config.port, host: config.host });
  logger.info({ url: await app.getUrl(), stream: config.names.stream }, 'ingest listening');
} catch (error) {
  logger.fatal({ err: error }, (error as Error).message);
  process.exitCode = 1;
}
