import { ConfigError, type Env, envString } from '@tally/common';
import { migrateSpanner } from './migrations.js';
import { DEFAULT_SPANNER_CONFIG, databasePath, type SpannerConfig } from './spanner.client.js';

/**
 * Which Spanner database to use, from the environment: SPANNER_PROJECT_ID (default `tally-local`),
 * SPANNER_INSTANCE_ID (`tally`), SPANNER_DATABASE_ID (`tally`), SPANNER_EMULATOR_HOST (`host:port`;
 * unset means real Cloud Spanner with application default credentials).
 */
export function spannerConfigFromEnv(env: Env): SpannerConfig {
  const emulatorHost = envString(env, 'SPANNER_EMULATOR_HOST', '') || undefined;
  if (emulatorHost !== undefined && !/^[^:/\s]+:\d{1,5}$/.test(emulatorHost)) {
    throw new ConfigError(`SPANNER_EMULATOR_HOST=${emulatorHost}: must be host:port, e.g. 127.0.0.1:9010`);
  }
  const config = {
    projectId: envString(env, 'SPANNER_PROJECT_ID', DEFAULT_SPANNER_CONFIG.projectId),
    instanceId: envString(env, 'SPANNER_INSTANCE_ID', DEFAULT_SPANNER_CONFIG.instanceId),
    databaseId: envString(env, 'SPANNER_DATABASE_ID', DEFAULT_SPANNER_CONFIG.databaseId),
    emulatorHost,
  };
  // Spanner's own naming rules, checked here so a typo fails with the variable's name.
  if (!/^[a-z][-a-z0-9]{0,61}[a-z0-9]$/.test(config.instanceId)) {
    throw new ConfigError(
      `SPANNER_INSTANCE_ID=${config.instanceId}: 2-64 of [a-z0-9-], starting with a letter, not ending with -`,
    );
  }
  if (!/^[a-z][a-z0-9_-]{0,28}[a-z0-9]$/.test(config.databaseId)) {
    throw new ConfigError(
      `SPANNER_DATABASE_ID=${config.databaseId}: 2-30 of [a-z0-9_-], starting with a letter, ending with a letter or digit`,
    );
  }
  return config;
}

/** The inverse of spannerConfigFromEnv: the variables that select `config` (for child processes and tests). */
export function spannerEnv(config: SpannerConfig): Record<string, string> {
  return {
    ...(config.emulatorHost && { SPANNER_EMULATOR_HOST: config.emulatorHost }),
    SPANNER_PROJECT_ID: config.projectId,
    SPANNER_INSTANCE_ID: config.instanceId,
    SPANNER_DATABASE_ID: config.databaseId,
  };
}

export interface SpannerMigrateIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Folder of the DDL files; default: libs/spanner/ddl found from the working directory. */
  readonly ddlDir?: string;
}

const consoleIo: SpannerMigrateIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/**
 * `npm run spanner:migrate`: creates the emulator's instance and database when missing, then
 * applies every pending DDL file (idempotent; safe on every deploy). Returns the exit code.
 */
export async function runSpannerMigrate(env: Env, io: SpannerMigrateIo = consoleIo): Promise<number> {
  let config: SpannerConfig;
  try {
    config = spannerConfigFromEnv(env);
  } catch (error) {
    io.err(`spanner:migrate: ${(error as Error).message}`);
    return 2;
  }
  const where = `${databasePath(config)}${config.emulatorHost ? ` on the emulator at ${config.emulatorHost}` : ''}`;
  try {
    const result = await migrateSpanner(config, io.ddlDir === undefined ? {} : { ddlDir: io.ddlDir });
    if (result.createdInstance) io.out(`created instance ${config.instanceId} (emulator)`);
    if (result.createdDatabase) io.out(`created database ${config.databaseId} (emulator)`);
    io.out(
      result.applied.length === 0
        ? `${where} is up to date (${result.latest})`
        : `applied ${result.applied.length} DDL file(s) to ${where}: ${result.applied.join(', ')}`,
    );
    return 0;
  } catch (error) {
    const message = (error as Error).message;
    const hint = /default credentials/i.test(message)
      ? ' (for Cloud Spanner run `gcloud auth application-default login`; for the emulator set SPANNER_EMULATOR_HOST)'
      : '';
    io.err(`spanner:migrate failed on ${where}: ${message}${hint}`);
    return 1;
  }
}
