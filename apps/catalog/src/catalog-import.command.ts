import { createReadStream } from 'node:fs';
import path from 'node:path';
import {
  type Catalog,
  CatalogBucket,
  CatalogRepository,
  type CsvParseResult,
  type CsvRowError,
  parseBranchesCsv,
  parseProductsCsv,
  type UpsertCounts,
} from '@tally/catalog';
import { ConfigError, type Env } from '@tally/common';
import { NatsClient } from '@tally/nats';
import { assertSchemaCurrent, PostgresClient, redactUrl } from '@tally/postgres';
import { ArgsError, type CatalogImportArgs, parseCatalogImportArgs, USAGE } from './catalog-import.args.js';
import { type CatalogImportConfig, loadCatalogImportConfig } from './catalog-import.config.js';

/**
 * `npm run catalog:import`: CSV -> Postgres -> NATS KV.
 *
 * 1. Both files are read and checked whole first. Any bad row (or header) imports nothing:
 *    a catalog half loaded would be worse than the old one, and the list of errors is what
 *    the user needs to fix the file.
 * 2. NATS is connected before Postgres is written, so an unreachable NATS fails the run before
 *    anything changed.
 * 3. Postgres is upserted in one transaction (the catalog of record).
 * 4. The whole catalog is read back from Postgres and published to the KV bucket (only what
 *    differs is written; keys Postgres no longer has are deleted), so the bucket mirrors
 *    Postgres even if an earlier publish failed or rows came from elsewhere: re-running the
 *    import is how to republish.
 *
 * Kept apart from main.ts so tests run it with their own argv, env and output. Returns the exit code.
 */
export interface CatalogImportIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Folder relative file names are resolved against (npm runs scripts from the package root). */
  readonly cwd: string;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Row errors printed per file; the rest are counted. */
const MAX_ERRORS_SHOWN = 50;

export async function runCatalogImport(
  argv: readonly string[],
  env: Env,
  io: CatalogImportIo,
): Promise<number> {
  let args: CatalogImportArgs;
  let config: CatalogImportConfig;
  try {
    const parsed = parseCatalogImportArgs(argv);
    if (parsed.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    args = parsed;
    config = loadCatalogImportConfig(env);
  } catch (error) {
    if (error instanceof ArgsError) {
      io.err(`catalog:import: ${error.message}\n(npm run catalog:import -- --help shows the usage)`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.err(`catalog:import: configuration error: ${error.message}`);
      return EXIT.usage;
    }
    throw error;
  }

  const files: { -readonly [K in keyof Catalog]?: Catalog[K] } = {};
  let bad = 0;
  if (args.productsFile !== undefined) {
    const file = path.resolve(io.cwd, args.productsFile);
    const result = await readFile(file, 'products', io, (input) =>
      parseProductsCsv(input, { defaultCurrency: args.currency }),
    );
    if (result === undefined) return EXIT.failed;
    bad += result.errors.length;
    files.products = result.rows;
  }
  if (args.branchesFile !== undefined) {
    const file = path.resolve(io.cwd, args.branchesFile);
    const result = await readFile(file, 'branches', io, parseBranchesCsv);
    if (result === undefined) return EXIT.failed;
    bad += result.errors.length;
    files.branches = result.rows;
  }
  if (bad > 0) {
    io.err(`catalog:import: nothing imported: ${bad} error(s); fix the file(s) and run again`);
    return EXIT.failed;
  }
  if (args.dryRun) {
    io.out('dry run: the file(s) are valid; nothing written');
    return EXIT.ok;
  }
  return importCatalog(files, config, io);
}

/** Reads and checks one file, printing its summary and errors; undefined if it cannot be read. */
async function readFile<T>(
  file: string,
  kind: 'products' | 'branches',
  io: CatalogImportIo,
  parse: (input: ReturnType<typeof createReadStream>) => Promise<CsvParseResult<T>>,
): Promise<CsvParseResult<T> | undefined> {
  let result: CsvParseResult<T>;
  try {
    result = await parse(createReadStream(file));
  } catch (error) {
    io.err(`catalog:import: cannot read ${file}: ${(error as Error).message}`);
    return undefined;
  }
  const errors = result.errors.length === 0 ? '' : `, ${result.errors.length} error(s)`;
  io.out(`${kind.padEnd(9)} ${file}: ${result.records} row(s)${errors}`);
  for (const e of result.errors.slice(0, MAX_ERRORS_SHOWN)) io.err(formatRowError(file, e));
  if (result.errors.length > MAX_ERRORS_SHOWN) {
    io.err(`${file}: … and ${result.errors.length - MAX_ERRORS_SHOWN} more error(s)`);
  }
  return result;
}

/** `products.csv:4: listPrice: decimal: must be a decimal ≥ 0 …` */
export function formatRowError(file: string, e: CsvRowError): string {
  return `${file}:${e.line}: ${e.field === undefined ? '' : `${e.field}: `}${e.rule}: ${e.message}`;
}

async function importCatalog(
  files: Partial<Catalog>,
  config: CatalogImportConfig,
  io: CatalogImportIo,
): Promise<number> {
  let nats: NatsClient;
  try {
    nats = await NatsClient.connect({
      url: config.natsUrl,
      name: 'tally-catalog-import',
      reconnect: false,
      timeoutMs: config.natsConnectTimeoutMs,
    });
  } catch (error) {
    io.err(`catalog:import: nothing imported: ${(error as Error).message}`);
    return EXIT.failed;
  }
  const postgres = PostgresClient.create({
    url: config.databaseUrl,
    applicationName: 'tally-catalog-import',
  });
  try {
    let catalog: Catalog;
    try {
      await assertSchemaCurrent(postgres.pool);
      const repository = new CatalogRepository(postgres);
      const counts = await repository.upsert(files);
      const parts = [
        counts.products && `products ${describeCounts(counts.products)}`,
        counts.branches && `branches ${describeCounts(counts.branches)}`,
      ].filter(Boolean);
      io.out(`postgres  ${redactUrl(config.databaseUrl)}: ${parts.join('; ')}`);
      catalog = await repository.read();
    } catch (error) {
      io.err(
        `catalog:import: nothing imported: PostgreSQL at ${redactUrl(config.databaseUrl)}: ${(error as Error).message}`,
      );
      return EXIT.failed;
    }
    try {
      const bucket = await CatalogBucket.open(nats.connection, config.bucket);
      const published = await bucket.publish(catalog);
      io.out(
        `nats      bucket ${config.bucket}: ${published.put} put, ${published.deleted} deleted, ${published.unchanged} unchanged ` +
          `(catalog: ${catalog.products.length} products, ${catalog.branches.length} branches)`,
      );
    } catch (error) {
      io.err(
        `catalog:import: Postgres holds the import, but publishing to bucket ${config.bucket} on ${config.natsUrl} failed: ` +
          `${(error as Error).message}; run the import again to publish`,
      );
      return EXIT.failed;
    }
    return EXIT.ok;
  } finally {
    await postgres.close();
    await nats.close();
  }
}

function describeCounts(c: UpsertCounts): string {
  return `${c.inserted} inserted, ${c.updated} updated, ${c.unchanged} unchanged`;
}
