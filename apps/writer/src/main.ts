import 'reflect-metadata';
import { ConfigError, createLogger } from '@tally/common';
import { createWriterApp } from './bootstrap.js';
import { loadWriterConfig, type WriterConfig } from './config/writer.config.js';

let config: WriterConfig;
try {
  config = loadWriterConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`writer: configuration error: ${error.message}`);
  process.exit(2);
}

const logger = createLogger('writer', config.logLevel);
try {
  const app = await createWriterApp(config, logger);
  await app.listen({ port: config.port, host: config.host });
  logger.info(
    { url: await app.getUrl(), sinks: config.sinks, stream: config.names.stream },
    'writer running',
  );
} catch (error) {
  logger.fatal({ err: error }, (error as Error).message);
  process.exitCode = 1;
}
