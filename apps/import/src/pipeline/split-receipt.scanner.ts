import { hash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CsvItem } from './csv.reader.js';

/**
 * Pass 1 of an import: which receipts are split, in constant memory.
 *
 * Lines of one receipt must be consecutive rows. If an order id comes back after other
 * receipts, sending the two parts would store whichever part ingest sees first under the sale
 * id and drop the other as its duplicate: lines lost without a word. So before anything is sent,
 * this pass reads the file once and lists every key that occurs in more than one run of rows
 * (with grouping `none`: in more than one row); pass 2 rejects all rows of those keys with
 * that reason.
 *
 * Memory: one 64-bit hash per run, in sorted chunks of `chunkEntries` (8 MiB by default)
 * spilled to a temporary file each, then merged; only the split keys stay in memory, and if
 * there are more than `maxSplit` of them the file is evidently not grouped and the import
 * stops before sending anything. Hash collisions (probability about n²/2^65 for n receipts,
 * ~10^-7 at 3 million) could only flag a receipt as split that is not.
 */

export interface ScanOptions {
  readonly keyOf: (fields: readonly string[]) => string | undefined;
  readonly grouping: 'consecutive' | 'none';
  readonly chunkEntries?: number;
  readonly maxSplit?: number;
  readonly tmpDir?: string;
  /** Stops the scan (Ctrl-C): the result then has `interrupted`. */
  readonly signal?: AbortSignal;
  /** Called every few thousand rows with the rows seen so far. */
  readonly onProgress?: (rows: number) => void;
}

export interface ScanResult {
  /** Records in the file after the header (rows and unreadable records). */
  readonly rows: number;
  /** Hash of each key found in more than one place → in how many. */
  readonly split: ReadonlyMap<bigint, number>;
  /** More than maxSplit keys are split: the file is not grouped by its key. */
  readonly tooManySplit: boolean;
  readonly interrupted?: boolean;
}

export const DEFAULT_MAX_SPLIT = 100_000;

export function keyHash(key: string): bigint {
  return hash('sha1', key, 'buffer').readBigUInt64BE(0);
}

export async function scanSplitReceipts(
  items: AsyncIterable<CsvItem>,
  options: ScanOptions,
): Promise<ScanResult> {
  const chunkEntries = options.chunkEntries ?? 1 << 20;
  const maxSplit = options.maxSplit ?? DEFAULT_MAX_SPLIT;
  let chunk = new BigUint64Array(chunkEntries);
  let filled = 0;
  let rows = 0;
  let previous: string | undefined;
  let dir: string | undefined;
  const runs: string[] = [];

  const spill = async () => {
    dir ??= await mkdtemp(path.join(options.tmpDir ?? tmpdir(), 'tally-import-'));
    const file = path.join(dir, `run-${runs.length}.bin`);
    const sorted = chunk.subarray(0, filled).sort();
    const handle = await open(file, 'w');
    try {
      await handle.write(new Uint8Array(sorted.buffer, sorted.byteOffset, sorted.byteLength));
    } finally {
      await handle.close();
    }
    runs.push(file);
    filled = 0;
  };

  try {
    for await (const item of items) {
      rows++;
      if (rows % 4096 === 0) {
        options.onProgress?.(rows);
        if (options.signal?.aborted)
          return { rows, split: new Map(), tooManySplit: false, interrupted: true };
      }
      if (item.kind !== 'row') continue;
      const key = options.keyOf(item.fields);
      if (key === undefined) continue;
      if (options.grouping === 'consecutive' && key === previous) continue;
      previous = key;
      chunk[filled++] = keyHash(key);
      if (filled === chunkEntries) await spill();
    }
    options.onProgress?.(rows);
    let split: Map<bigint, number>;
    if (runs.length === 0) {
      split = duplicatesInSorted(chunk.subarray(0, filled).sort(), maxSplit);
    } else {
      if (filled > 0) await spill();
      chunk = new BigUint64Array(0);
      split = await duplicatesInRuns(runs, maxSplit);
    }
    return { rows, split, tooManySplit: split.size > maxSplit };
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

function duplicatesInSorted(sorted: BigUint64Array, maxSplit: number): Map<bigint, number> {
  const split = new Map<bigint, number>();
  for (let i = 1; i < sorted.length && split.size <= maxSplit; i++) {
    if (sorted[i] === sorted[i - 1]) split.set(sorted[i]!, (split.get(sorted[i]!) ?? 1) + 1);
  }
  return split;
}

/** k-way merge of sorted run files, each read in blocks; counts values occurring more than once. */
async function duplicatesInRuns(files: readonly string[], maxSplit: number): Promise<Map<bigint, number>> {
  const readers = await Promise.all(files.map((file) => RunReader.open(file)));
  const split = new Map<bigint, number>();
  try {
    let last: bigint | undefined;
    let count = 0;
    for (;;) {
      let min: RunReader | undefined;
      for (const reader of readers) {
        if (reader.current !== undefined && (min === undefined || reader.current < min.current!))
          min = reader;
      }
      if (min === undefined) break;
      const value = min.current!;
      await min.next();
      if (value === last) {
        count++;
        split.set(value, count);
        if (split.size > maxSplit) break;
      } else {
        last = value;
        count = 1;
      }
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.close()));
  }
  return split;
}

class RunReader {
  current: bigint | undefined;
  private block = new BigUint64Array(8192);
  private length = 0;
  private index = 0;

  private constructor(private readonly handle: Awaited<ReturnType<typeof open>>) {}

  static async open(file: string): Promise<RunReader> {
    const reader = new RunReader(await open(file, 'r'));
    await reader.next();
    return reader;
  }

  async next(): Promise<void> {
    if (this.index === this.length) {
      const bytes = new Uint8Array(this.block.buffer);
      const { bytesRead } = await this.handle.read(bytes, 0, bytes.byteLength, null);
      this.length = bytesRead / 8;
      this.index = 0;
      if (this.length === 0) {
        this.current = undefined;
        return;
      }
    }
    this.current = this.block[this.index++];
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
