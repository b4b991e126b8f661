import { stat } from 'node:fs/promises';
import type { Mapping } from '../mapping/mapping.schema.js';
import { MappingError, RowMapper } from '../mapping/row.mapper.js';
import { type CsvFormat, type CsvItem, readCsv } from './csv.reader.js';
import { ImportAborted, type SaleBatchSender } from './ingest.client.js';
import { type GroupedItem, groupReceipts, type Receipt } from './receipt.grouper.js';
import { rejectForErrors, validateReceipt } from './receipt.validation.js';
import { RejectsWriter } from './rejects.writer.js';
import { type BatchResult, SaleBatcher } from './sale.batcher.js';
import { scanSplitReceipts } from './split-receipt.scanner.js';

/**
 * CSV import of sales history: `npm run import -- <file.csv> --mapping <preset | file>`.
 *
 * The pipeline, read top to bottom (each stage pulls from the one above, so the file is read
 * only as fast as ingest takes sales, and memory stays flat whatever the file's size):
 *
 *   pass 1   csv.reader → split-receipt.scanner: one hash per run of rows with the same order
 *            id, sorted in spilled chunks: the order ids found in more than one place (rows of a
 *            receipt must be consecutive) and the row count for the ETA. Nothing is sent yet.
 *   pass 2   csv.reader      rows of the file, streamed (csv-parse with the mapping's delimiter,
 *                            quote, escape, encoding), each with its line number
 *            row.mapper      mapping file → contract fields: columns, date formats and time zone,
 *                            decimal separators, fixed values and defaults, product list
 *            receipt.grouper consecutive rows with one order id → one receipt (or one row → one
 *                            sale); sale id `<prefix>:<order id>`; all-or-nothing receipts
 *            validateSale    the contract's own validator (@tally/contracts), as ingest runs it
 *            sale.batcher    N sales per POST /v1/sales/batch, bounded requests in flight,
 *                            retries on 503/429 (ingest.client)
 *   output   summary (new, already stored, rejected) and the rejects file: every row not
 *            imported, with its line number and reason. No row is dropped without a line there.
 *
 * Re-importing a file is a no-op: the sale ids come from the source's order ids, ingest answers
 * `duplicate` for ids it holds (JetStream's duplicate window) and every store keys by sale id.
 */

export interface ImportProgress {
  readonly phase: 'scan' | 'import';
  readonly rows: number;
  /** Known in the import phase (counted by the scan). */
  readonly totalRows?: number;
  readonly bytes: number;
  readonly totalBytes: number;
  readonly counts: ImportCounts;
}

export interface ImportCounts {
  /** Receipts formed from the rows (sent or rejected). */
  receipts: number;
  /** Stored by this import. */
  accepted: number;
  /** Already held by ingest (an earlier import of the same rows). */
  duplicate: number;
  /** Receipts rejected, locally or by ingest. */
  rejected: number;
  /** Dry run: receipts that passed validation and would be sent. */
  valid: number;
  rowsImported: number;
  rowsRejected: number;
  rowsValid: number;
}

export interface ImportRequest {
  readonly file: string;
  readonly mapping: Mapping;
  readonly rejectsFile: string;
  /** Where sales go; undefined: dry run (map and validate only). */
  readonly sender?: SaleBatchSender;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly maxFutureSkewMs: number;
  readonly runId?: string;
  readonly tmpDir?: string;
  /** Split order ids beyond which the file counts as not grouped (and nothing is sent). */
  readonly maxSplit?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface ImportSummary {
  readonly file: string;
  readonly mapping: string;
  readonly dryRun: boolean;
  /** Records read after the header. */
  readonly rows: number;
  readonly counts: ImportCounts;
  /** Rows neither imported nor rejected: the import stopped before sending them. */
  readonly rowsNotSent: number;
  readonly rejectsFile: string;
  readonly elapsedMs: number;
  /** Why the import stopped early, if it did. */
  readonly aborted?: string;
}

const PROGRESS_EVERY_ROWS = 2048;

export async function importCsv(request: ImportRequest): Promise<ImportSummary> {
  const started = Date.now();
  const { mapping } = request;
  const format = csvFormat(mapping);
  const totalBytes = (await stat(request.file)).size;
  const counts: ImportCounts = {
    receipts: 0,
    accepted: 0,
    duplicate: 0,
    rejected: 0,
    valid: 0,
    rowsImported: 0,
    rowsRejected: 0,
    rowsValid: 0,
  };
  const grouping = mapping.receipt.grouping;

  // Header and mapper: a mapping naming a column the file lacks stops here (MappingError).
  const first = readCsv(request.file, format);
  const header = await readHeader(first.items, mapping);
  await first.items.return(undefined);
  const mapper = new RowMapper(mapping, header);

  // Pass 1: split receipts and the row count.
  const scanSource = readCsv(request.file, format);
  const scan = await scanSplitReceipts(withoutHeader(scanSource.items, mapping), {
    keyOf: (fields) => mapper.keyOf(fields),
    grouping,
    ...(request.maxSplit !== undefined && { maxSplit: request.maxSplit }),
    ...(request.tmpDir !== undefined && { tmpDir: request.tmpDir }),
    ...(request.signal !== undefined && { signal: request.signal }),
    onProgress: (rows) =>
      request.onProgress?.({ phase: 'scan', rows, bytes: scanSource.bytesRead(), totalBytes, counts }),
  });
  const rejects = await RejectsWriter.open(request.rejectsFile);
  const summary = (rows: number, aborted?: string): ImportSummary => {
    counts.rowsRejected = rejects.rows;
    const accounted = counts.rowsImported + counts.rowsRejected + counts.rowsValid;
    return {
      file: request.file,
      mapping: mapping.name,
      dryRun: request.sender === undefined,
      rows,
      counts,
      rowsNotSent: Math.max(0, rows - accounted),
      rejectsFile: request.rejectsFile,
      elapsedMs: Date.now() - started,
      ...(aborted !== undefined && { aborted }),
    };
  };
  if (scan.interrupted) {
    await rejects.close();
    return summary(scan.rows, `interrupted in pass 1 after ${scan.rows} rows (nothing was sent)`);
  }
  if (scan.tooManySplit) {
    await rejects.close();
    return summary(
      scan.rows,
      `the file is not grouped by ${mapping.receipt.key.join('+')}: more than ${scan.split.size - 1} order ids occur in separate places; sort it by that column, or use grouping "none" if every row is a sale (nothing was sent)`,
    );
  }

  // Pass 2: map, group, validate, send.
  const source = readCsv(request.file, format);
  let rows = 0;
  let lastLine = 0;
  const progress = () =>
    request.onProgress?.({
      phase: 'import',
      rows,
      totalRows: scan.rows,
      bytes: source.bytesRead(),
      totalBytes,
      counts: { ...counts, rowsRejected: rejects.rows },
    });
  async function* counted(items: AsyncIterable<CsvItem>): AsyncGenerator<CsvItem> {
    for await (const item of items) {
      rows++;
      lastLine = item.line;
      if (rows % PROGRESS_EVERY_ROWS === 0) progress();
      yield item;
    }
  }

  const onResult = async ({ receipts, outcomes }: BatchResult) => {
    for (let i = 0; i < receipts.length; i++) {
      const receipt = receipts[i]!;
      const outcome = outcomes[i]!;
      if (outcome.status === 'rejected') {
        counts.rejected++;
        await rejects.write(rejectForErrors(receipt, outcome.errors, mapper).rows);
      } else {
        counts[outcome.status]++;
        counts.rowsImported += receipt.rows.length;
      }
    }
    progress();
  };
  const batcher =
    request.sender === undefined
      ? undefined
      : new SaleBatcher(
          request.sender,
          {
            batchSize: request.batchSize,
            concurrency: request.concurrency,
            runId: request.runId ?? runIdNow(),
          },
          onResult,
        );

  let aborted: string | undefined;
  const grouped = groupReceipts(counted(withoutHeader(source.items, mapping)), mapper, {
    grouping,
    split: scan.split,
    keyColumns: mapping.receipt.key.join('+'),
  });
  try {
    for await (const item of grouped) {
      await handle(item);
      if (request.signal?.aborted) throw new ImportAborted('interrupted');
    }
    await batcher?.finish();
  } catch (error) {
    if (!(error instanceof ImportAborted)) throw error;
    aborted = `${error.message} (stopped after reading line ${lastLine})`;
    await grouped.return(undefined);
    await batcher?.drain();
  } finally {
    await rejects.close();
  }
  progress();
  return summary(rows, aborted);

  async function handle(item: GroupedItem): Promise<void> {
    if (item.kind === 'rejected') {
      if (item.receipt) {
        counts.receipts++;
        counts.rejected++;
      }
      await rejects.write(item.rows);
      return;
    }
    counts.receipts++;
    const invalid = validateReceipt(item, mapper, { maxFutureSkewMs: request.maxFutureSkewMs });
    if (invalid !== undefined) {
      counts.rejected++;
      await rejects.write(invalid.rows);
      return;
    }
    if (batcher === undefined) {
      counts.valid++;
      counts.rowsValid += item.rows.length;
      return;
    }
    await batcher.add(item as Receipt);
  }
}

export function csvFormat(mapping: Mapping): CsvFormat {
  const quote = mapping.csv?.quote ?? '"';
  return {
    delimiter: mapping.csv?.delimiter ?? ',',
    quote,
    escape: mapping.csv?.escape ?? quote,
    encoding: mapping.csv?.encoding ?? 'utf8',
  };
}

async function readHeader(items: AsyncGenerator<CsvItem>, mapping: Mapping): Promise<string[]> {
  if (mapping.csv?.header === false) {
    if (mapping.csv.columns === undefined) {
      throw new MappingError('csv.columns: required when csv.header is false (the file has no header row)');
    }
    return mapping.csv.columns;
  }
  const first = await items.next();
  if (first.done) throw new MappingError('the file is empty: no header row');
  if (first.value.kind !== 'row')
    throw new MappingError(`the header row cannot be read: ${first.value.message}`);
  return first.value.fields.map((name) => name.trim());
}

async function* withoutHeader(items: AsyncGenerator<CsvItem>, mapping: Mapping): AsyncGenerator<CsvItem> {
  if (mapping.csv?.header !== false) await items.next();
  yield* items;
}

function runIdNow(): string {
  return Date.now().toString(36);
}
