import 'reflect-metadata';
import { ConfigError, createLogger } from '@tally/common';
import { redactUrl } from '@tally/postgres';
import { createQueryApp } from './bootstrap.js';
import { loadQueryConfig, type QueryConfig } from './config/query.config.js';

let config: QueryConfig;
try {
  config = loadQueryConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`query: configuration error: ${error.message}`);
  process.exit(2);
}

const logger = createLogger('query', config.logLevel);
const database = redactUrl(config.databaseUrl);
try {
  const app = await createQueryApp(config, logger);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    throw error;
  }
  logger.info({ url: await app.getUrl(), database }, 'query listening');
} catch (error) {
  // A schema behind the code names its fix (npm run db:migrate); an unreachable database names its URL.
  logger.fatal({ err: error, database }, (error as Error).message);
  process.exitCode = 1;
}
