import type { Logger } from 'pino';
import { ConfigError, type Env } from '../config/env.js';
import { createLogger } from '../logging/logger.js';

/** What main.ts needs of a built app. */
export interface ListeningApp {
  listen(options: { port: number; host: string }): Promise<unknown>;
  getUrl(): Promise<string>;
  close(): Promise<void>;
}

export interface RunAppOptions<C extends { port: number; host: string; logLevel: string }> {
  /** `ingest`, `writer`...: the logger's name and the prefix of a configuration error. */
  readonly name: string;
  readonly loadConfig: (env: Env) => C;
  readonly create: (config: C, logger: Logger) => Promise<ListeningApp>;
  /** Extra fields for the start-up and fatal log lines (never secrets). */
  readonly context?: (config: C) => Record<string, unknown>;
}

/**
 * Every app's main.ts: read the one config object (a bad value exits 2 naming the variable and
 * the rule), build the app, listen, log where; any start-up failure is logged as fatal with its
 * message (which names the fix, e.g. `npm run nats:apply`) and exits 1.
 */
export async function runApp<C extends { port: number; host: string; logLevel: string }>(
  options: RunAppOptions<C>,
): Promise<void> {
  let config: C;
  try {
    config = options.loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${options.name}: configuration error: ${error.message}`);
    process.exit(2);
  }
  const logger = createLogger(options.name, config.logLevel);
  const context = options.context?.(config) ?? {};
  try {
    const app = await options.create(config, logger);
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (error) {
      await app.close();
      throw error;
    }
    logger.info({ url: await app.getUrl(), ...context }, `${options.name} listening`);
  } catch (error) {
    logger.fatal({ err: error, ...context }, (error as Error).message);
    process.exitCode = 1;
  }
}
