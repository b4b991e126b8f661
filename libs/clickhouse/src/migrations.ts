import { findUp, loadSqlFiles, type SqlFile } from '@tally/common';
import type { ClickHouseClient } from './clickhouse.client.js';

/**
 * ClickHouse schema lifecycle: the numbered files of `clickhouse/migrations/`, applied in order
 * by `npm run clickhouse:migrate` (and by the aggregator at start-up in embedded mode, where it
 * owns the data folder), each recorded in `schema_migrations` with its checksum. Every statement
 * is idempotent (IF NOT EXISTS), so a file interrupted half-way is applied again as a whole.
 * An applied file must never change: add a new one (see clickhouse/README.md).
 */
const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations
(version String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
ENGINE = ReplacingMergeTree ORDER BY version`;

export class ClickHouseMigrationError extends Error {
  override readonly name = 'ClickHouseMigrationError';
}

export class ClickHouseSchemaNotReadyError extends Error {
  override readonly name = 'ClickHouseSchemaNotReadyError';
}

export function findClickHouseMigrationsDir(from: string = process.cwd()): string {
  return findUp('clickhouse/migrations', '0001_create_sale_lines.sql', from);
}

export function loadClickHouseMigrations(dir: string = findClickHouseMigrationsDir()): SqlFile[] {
  return loadSqlFiles(dir);
}

export async function migrateClickHouse(
  client: ClickHouseClient,
  files: readonly SqlFile[] = loadClickHouseMigrations(),
): Promise<{ applied: string[]; latest: string }> {
  await client.command(BOOKKEEPING);
  const recorded = await recordedVersions(client);
  const applied: string[] = [];
  for (const file of files) {
    const checksum = recorded.get(file.version);
    if (checksum !== undefined) {
      if (checksum !== file.checksum) {
        throw new ClickHouseMigrationError(
          `${file.version}.sql changed after it was applied; never edit an applied migration: add a new one`,
        );
      }
      continue;
    }
    for (const statement of file.statements) await client.command(statement);
    await client.insert('schema_migrations', [{ version: file.version, checksum: file.checksum }]);
    applied.push(file.version);
  }
  return { applied, latest: files.at(-1)?.version ?? '' };
}

/** Refuses to run against a schema behind the code, naming the fix. */
export async function assertClickHouseSchemaCurrent(
  client: ClickHouseClient,
  files: readonly SqlFile[] = loadClickHouseMigrations(),
): Promise<void> {
  let recorded: Map<string, string>;
  try {
    recorded = await recordedVersions(client);
  } catch {
    recorded = new Map();
  }
  const missing = files.filter((f) => !recorded.has(f.version)).map((f) => f.version);
  if (missing.length > 0) {
    throw new ClickHouseSchemaNotReadyError(
      `ClickHouse schema is behind (missing ${missing.join(', ')}): run \`npm run clickhouse:migrate\``,
    );
  }
}

async function recordedVersions(client: ClickHouseClient): Promise<Map<string, string>> {
  const rows = await client.rows<{ version: string; checksum: string }>(
    'SELECT version, checksum FROM schema_migrations FINAL',
  );
  return new Map(rows.map((r) => [r.version, r.checksum]));
}
