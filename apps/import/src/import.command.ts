import path from 'node:path';
import { ConfigError, type Env } from '@tally/common';
import { ArgsError, type ImportArgs, parseImportArgs, USAGE } from './import.args.js';
import { loadImportConfig } from './import.config.js';
import { loadMapping } from './mapping/mapping.loader.js';
import type { Mapping } from './mapping/mapping.schema.js';
import { MappingError } from './mapping/row.mapper.js';
import { type ImportSummary, importCsv } from './pipeline/csv-import.service.js';
import { IngestClient, type SaleBatchSender } from './pipeline/ingest.client.js';
import { StoredSalesFilter } from './pipeline/stored-sales.filter.js';
import { type ProgressReporter, progressReporter, silentProgress } from './progress/progress.reporter.js';
import { formatSummary } from './summary.format.js';

export interface ImportIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Where progress goes (a bar when it is a TTY); undefined: none. */
  readonly progress?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Ends the import early (main.ts aborts it on SIGINT and SIGTERM). */
  readonly signal?: AbortSignal;
  /** Relative paths resolve against this folder (npm run's caller: INIT_CWD). */
  readonly cwd?: string;
}

/** Exit codes: every row imported; some rows rejected; bad arguments or settings; stopped early. */
export const EXIT = { ok: 0, rejected: 1, usage: 2, stopped: 3 } as const;

/**
 * `npm run import -- <file.csv> --mapping <preset | file> [options]` (see USAGE). Kept apart
 * from main.ts so tests run it with their own argv, env and output. Returns the exit code.
 */
export async function runImport(argv: readonly string[], env: Env, io: ImportIo): Promise<number> {
  let args: ImportArgs;
  let mapping: Mapping;
  let config: ReturnType<typeof loadImportConfig>;
  const cwd = io.cwd ?? process.cwd();
  try {
    const parsed = parseImportArgs(argv);
    if (parsed.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    args = parsed;
    config = loadImportConfig(env);
    mapping = loadMapping(
      args.mapping,
      {
        ...(args.branchId !== undefined && { branchId: args.branchId }),
        ...(args.currency !== undefined && { currency: args.currency }),
        ...(args.timezone !== undefined && { timezone: args.timezone }),
        ...(args.saleIdPrefix !== undefined && { saleIdPrefix: args.saleIdPrefix }),
      },
      cwd,
    );
  } catch (error) {
    if (error instanceof ArgsError) {
      io.err(`import: ${error.message}\n(npm run import -- --help shows the usage)`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError || error instanceof MappingError) {
      io.err(`import: ${error.message}`);
      return EXIT.usage;
    }
    throw error;
  }

  const file = path.resolve(cwd, args.file);
  const rejectsFile = path.resolve(cwd, args.rejects ?? `${args.file}.rejects.csv`);
  const url = args.url ?? config.url;
  const progress: ProgressReporter =
    args.quiet || io.progress === undefined ? silentProgress : progressReporter(io.progress);
  const apiKey = args.apiKey ?? config.apiKey;
  const queryUrl = args.queryUrl ?? config.queryUrl;
  let warnedUnavailable = false;
  const withStoredFilter = (ingest: IngestClient): SaleBatchSender =>
    queryUrl === undefined
      ? ingest
      : new StoredSalesFilter(ingest, {
          url: queryUrl,
          ...(apiKey !== undefined && { apiKey }),
          requestTimeoutMs: config.requestTimeoutMs,
          onUnavailable: (reason) => {
            if (warnedUnavailable) return;
            warnedUnavailable = true;
            io.err(`import: ${reason}: sending batches whole (the stores still keep each sale once)`);
          },
        });
  let summary: ImportSummary;
  try {
    summary = await importCsv({
      file,
      mapping,
      rejectsFile,
      ...(!args.dryRun && {
        sender: withStoredFilter(
          new IngestClient({
            url,
            ...(apiKey !== undefined && { apiKey }),
            requestTimeoutMs: config.requestTimeoutMs,
            retryMinMs: config.retryMinMs,
            retryMaxMs: config.retryMaxMs,
            retryForMs: args.retryForMs ?? config.retryForMs,
            ...(io.signal !== undefined && { signal: io.signal }),
            onRetry: ({ status, waitMs, attempt }) => {
              if (attempt === 1 || attempt % 10 === 0) {
                io.err(
                  `import: ingest answered ${status}; retrying in ${(waitMs / 1000).toFixed(1)} s (attempt ${attempt})`,
                );
              }
            },
          }),
        ),
      }),
      batchSize: args.batchSize,
      concurrency: args.concurrency,
      maxFutureSkewMs: config.maxFutureSkewMs,
      maxSplit: config.maxSplitOrders,
      ...(io.signal !== undefined && { signal: io.signal }),
      onProgress: (p) => progress.update(p),
    });
  } catch (error) {
    progress.stop();
    if (error instanceof MappingError) {
      io.err(`import: ${error.message}`);
      return EXIT.usage;
    }
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'EACCES'
    ) {
      io.err(`import: ${(error as Error).message}`);
      return EXIT.usage;
    }
    throw error;
  }
  progress.stop();
  if (args.json) io.out(JSON.stringify(summary));
  else for (const line of formatSummary(summary)) io.out(line);
  if (summary.aborted !== undefined) return EXIT.stopped;
  return summary.counts.rowsRejected > 0 ? EXIT.rejected : EXIT.ok;
}
