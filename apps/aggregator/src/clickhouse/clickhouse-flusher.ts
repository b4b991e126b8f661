import { createHash, type Hash } from 'node:crypto';
import type { ClickHouseClient } from '@tally/clickhouse';
import type { Settler } from '@tally/nats';
import type { Logger } from 'pino';
import type { Durable, FoldedBatch, FoldedBatchSink } from '../pipeline/folded-batch.js';
import { clickHouseTime, SALE_LINE_COLUMNS, saleLinesJson } from './sale-line-rows.js';

/**
 * The ClickHouse flush: folded batches → blocks of `sale_lines` rows → one INSERT per block →
 * the per-minute rollup recomputed for the cells the blocks since the last refresh touched →
 * their messages acked.
 *
 * Triggers, explicitly:
 * - a block is cut when it holds `maxRows` rows, or `maxMessages` messages, or when its first
 *   batch has waited `maxWaitMs`, and at shutdown;
 * - the rollup is refreshed once the oldest stored block waiting for it has waited
 *   `rollupEveryMs`, or when the blocks waiting hold `maxMessages` messages, and at shutdown.
 *   Each refresh re-reads every row of the minutes it rewrites (the current minute, at a steady
 *   rate), so refreshing after every block would read each minute's rows again once a block.
 *
 * Messages are acked only once their rows and the rollup cells they touched are stored, so
 * `maxMessages` bounds both the block and the blocks waiting for the rollup: keep it below the
 * consumer's max_ack_pending, which would otherwise stop deliveries.
 *
 * Never double counted, whatever fails:
 * - A failed INSERT is retried as the identical block with the same deduplication token until
 *   it succeeds; it is never merged into the next block (a merged block would carry a new token,
 *   defeating ClickHouse's insert deduplication). Meanwhile the messages are kept from
 *   redelivery with working().
 * - Rows a crash made us insert twice (inserted, killed before the ack, redelivered in another
 *   block) collapse in the ReplacingMergeTree, and every reader uses FINAL.
 * - The rollup is written as absolute totals recomputed from `sale_lines FINAL`, so a replayed
 *   block rewrites the same values instead of adding them again.
 *
 * Back-pressure: one block is being written at a time; while it is, the next fills up to the
 * same bounds, and then accept() waits, so the consumer loop stops fetching and memory stays
 * bounded by two blocks.
 */
export interface FlushOptions {
  readonly maxRows: number;
  readonly maxMessages: number;
  readonly maxWaitMs: number;
  /** Longest a stored block waits for the rollup refresh (and its messages for their ack). */
  readonly rollupEveryMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /**
   * Fault injection for crash tests (AGGREGATOR_FAULT_KILL=<point>:<blocks>); never set in
   * production. After storing `blocks` blocks the process SIGKILLs itself: `after-insert` at once,
   * between the insert and the acks; `with-buffer` as soon as the next block holds a batch, so
   * accepted but unflushed (and so unacked) sales die with it.
   */
  readonly fault?: { readonly point: 'after-insert' | 'with-buffer'; readonly blocks: number } | undefined;
}

export interface FlushMetrics {
  flushed(rows: number, seconds: number): void;
  failed(): void;
}

/**
 * A block being filled: its rows are encoded as they arrive (JSONCompactEachRow text, the
 * deduplication token's hash, the rollup cells they touch), so writing it serializes nothing at
 * once.
 */
interface Block {
  /**
   * The rows as JSONCompactEachRow lines (SALE_LINE_COLUMNS), UTF-8 bytes per batch; emptied once
   * joined for the insert. Bytes, not strings: the JS strings of a batch die young, where kept
   * until the block is written (up to maxWaitMs) they survived every scavenge meanwhile and were
   * copied each time (minor GC pauses of 16–38 ms at 5,000 sales/s, measured).
   */
  readonly chunks: Buffer[];
  rows: number;
  /** Hash of every row's (stream_seq, sale_id, line_no), in order: the deduplication token. */
  readonly hash: Hash;
  firstSeq: number;
  lastSeq: number;
  /** Rollup cells touched: branch → minutes (`YYYY-MM-DD hh:mm:00`). */
  readonly cells: Map<string, Set<string>>;
  token: string | undefined;
  /**
   * The batches' messages (kept from redelivery while a write is retried). Not the batches: their
   * decoded sales would live until the rollup refresh, long enough for the garbage collector to
   * promote them to the old generation, where every one of them is a cost to collect.
   */
  readonly inbound: (readonly Settler[])[];
  messages: number;
  readonly done: Deferred;
  readonly startedAt: number;
}

/** Stored blocks waiting for one rollup refresh of the cells they touched. */
interface Unrolled {
  readonly cells: Map<string, Set<string>>;
  readonly blocks: Block[];
  messages: number;
  /** rollupEveryMs has passed since the first of them was stored. */
  due: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class ClickHouseFlusher implements FoldedBatchSink {
  readonly name = 'clickhouse';
  /** The block filling up. */
  #open: Block | undefined;
  /** Whether a block or the rollup is being written (one write at a time). */
  #busy = false;
  /** The open block's wait ran out while another write was going on. */
  #due = false;
  #timer: NodeJS.Timeout | undefined;
  /** Blocks stored in sale_lines whose rollup cells are not refreshed yet (their acks wait). */
  #unrolled: Unrolled | undefined;
  #closing = false;
  #lastVersion = 0;
  #stored = 0;
  /** accept() calls waiting for room, and close() waiting for the end. */
  #waiters: (() => void)[] = [];

  constructor(
    private readonly client: ClickHouseClient,
    private readonly options: FlushOptions,
    private readonly metrics: FlushMetrics,
    private readonly logger: Logger,
  ) {}

  async accept(batch: FoldedBatch): Promise<Durable> {
    // Back-pressure: a full block waits for the one being written; so does the caller.
    while (this.#open !== undefined && this.isFull(this.#open)) await this.changed();
    this.#open ??= this.newBlock();
    const block = this.#open;
    block.chunks.push(Buffer.from(encodeRows(block, batch), 'utf8'));
    block.inbound.push(batch.messages);
    block.messages += batch.messages.length;
    if (this.options.fault?.point === 'with-buffer') this.maybeKill(batch.messages.length > 0);
    if (this.isFull(block)) {
      this.pump();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#due = true;
        this.pump();
      }, this.options.maxWaitMs);
    }
    return { durable: block.done.promise };
  }

  /**
   * Writes what is buffered, refreshes the rollup and waits for it. A write that fails now is
   * not retried: its messages stay unacked and come back after a restart.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.pump();
    while (this.#busy || this.#open !== undefined || this.#unrolled !== undefined) await this.changed();
  }

  private maybeKill(now: boolean): void {
    if (now && this.#stored >= this.options.fault!.blocks) process.kill(process.pid, 'SIGKILL');
  }

  private isFull(block: Block): boolean {
    return block.rows >= this.options.maxRows || block.messages >= this.options.maxMessages;
  }

  private newBlock(): Block {
    return {
      chunks: [],
      rows: 0,
      hash: createHash('sha256'),
      firstSeq: 0,
      lastSeq: 0,
      cells: new Map(),
      token: undefined,
      inbound: [],
      messages: 0,
      done: deferred(),
      startedAt: Date.now(),
    };
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Starts the next write, unless one is going on (its end calls pump again): the rollup when it
   * is due, else the open block when it is full, due or closing.
   */
  private pump(): void {
    if (this.#busy) return;
    let write: Promise<void>;
    const unrolled = this.#unrolled;
    const block = this.#open;
    if (
      unrolled !== undefined &&
      (unrolled.due || unrolled.messages >= this.options.maxMessages || this.#closing)
    ) {
      clearTimeout(unrolled.timer);
      this.#unrolled = undefined;
      write = this.refreshUntilStored(unrolled).then(
        () => {
          for (const b of unrolled.blocks) b.done.resolve();
        },
        (error: Error) => {
          for (const b of unrolled.blocks) b.done.reject(error);
        },
      );
    } else if (block !== undefined && (this.isFull(block) || this.#due || this.#closing)) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#due = false;
      this.#open = undefined;
      write = this.writeUntilStored(block).then(
        () => this.awaitRollup(block),
        (error: Error) => block.done.reject(error),
      );
    } else {
      return;
    }
    this.#busy = true;
    this.notify();
    void write.finally(() => {
      this.#busy = false;
      this.pump();
      this.notify();
    });
  }

  /** A stored block joins those waiting for the rollup refresh. */
  private awaitRollup(block: Block): void {
    if (block.rows === 0) {
      block.done.resolve();
      return;
    }
    let unrolled = this.#unrolled;
    if (unrolled === undefined) {
      const fresh: Unrolled = { cells: new Map(), blocks: [], messages: 0, due: false, timer: undefined };
      fresh.timer = setTimeout(() => {
        fresh.due = true;
        this.pump();
      }, this.options.rollupEveryMs);
      this.#unrolled = unrolled = fresh;
    }
    unrolled.blocks.push(block);
    unrolled.messages += block.messages;
    for (const [branch, minutes] of block.cells) {
      const known = unrolled.cells.get(branch);
      if (known === undefined) unrolled.cells.set(branch, new Set(minutes));
      else for (const minute of minutes) known.add(minute);
    }
  }

  private async writeUntilStored(block: Block): Promise<void> {
    if (block.rows === 0) return;
    const token = blockToken(block);
    const bytes = Buffer.concat(block.chunks);
    // The block waits on for the rollup refresh (seconds), without its rows.
    block.chunks.length = 0;
    await this.untilStored(
      async () => {
        const started = performance.now();
        await this.client.insert('sale_lines', { columns: SALE_LINE_COLUMNS, bytes }, token);
        this.metrics.flushed(block.rows, (performance.now() - started) / 1000);
        this.#stored++;
        if (this.options.fault?.point === 'after-insert') this.maybeKill(true);
      },
      [block],
      { rows: block.rows, token },
      'ClickHouse flush failed; retrying the identical block',
    );
  }

  /** Refreshes the rollup cells the waiting blocks touched, retrying (it is idempotent) until it succeeds. */
  private refreshUntilStored(unrolled: Unrolled): Promise<void> {
    return this.untilStored(
      () => this.refreshRollup(unrolled.cells),
      unrolled.blocks,
      { blocks: unrolled.blocks.length },
      'ClickHouse rollup refresh failed; retrying',
    );
  }

  /**
   * Runs `write` until it succeeds (each try the same write: the identical block, or the
   * idempotent refresh), backing off between tries and keeping the blocks' messages from
   * redelivery meanwhile with working(). At shutdown a failure is final.
   */
  private async untilStored(
    write: () => Promise<void>,
    blocks: readonly Block[],
    context: Record<string, unknown>,
    warning: string,
  ): Promise<void> {
    let waitMs = this.options.retryMinMs;
    for (;;) {
      try {
        await write();
        return;
      } catch (error) {
        this.metrics.failed();
        if (this.#closing) throw error;
        this.logger.warn({ err: (error as Error).message, ...context, waitMs }, warning);
        for (const block of blocks)
          for (const messages of block.inbound) for (const m of messages) m.working();
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(this.options.retryMaxMs, waitMs * 2);
      }
    }
  }

  /**
   * Rewrites the rollup cells (branch × minute) the rows touched with their absolute totals over
   * every deduplicated raw row: idempotent, so a replay changes nothing.
   */
  private async refreshRollup(touched: ReadonlyMap<string, ReadonlySet<string>>): Promise<void> {
    let min = '9999';
    let max = '0000';
    const [cellBranches, cellMinutes] = [[] as string[], [] as string[]];
    for (const [branch, minutes] of touched) {
      for (const minute of minutes) {
        cellBranches.push(branch);
        cellMinutes.push(minute);
        if (minute < min) min = minute;
        if (minute > max) max = minute;
      }
    }
    const branches = [...touched.keys()];
    this.#lastVersion = Math.max(Date.now(), this.#lastVersion + 1);
    await this.client.command(
      `INSERT INTO sales_minute
       SELECT toStartOfMinute(occurred_at) AS minute, branch_id, category, product_id,
              countIf(kind = 'sale') AS lines, uniqExactIf(sale_id, kind = 'sale') AS sales,
              sum(net_quantity) AS net_units, sum(net_amount) AS net_revenue, {version:UInt64} AS version
       FROM sale_lines FINAL
       WHERE branch_id IN {branches:Array(String)}
         AND occurred_at >= {min:DateTime} AND occurred_at < {max:DateTime} + 60
         AND (branch_id, toStartOfMinute(occurred_at)) IN (
               SELECT tupleElement(cell, 1), tupleElement(cell, 2)
               FROM (SELECT arrayJoin(arrayZip({cellBranches:Array(String)}, {cellMinutes:Array(DateTime)})) AS cell))
       GROUP BY minute, branch_id, category, product_id`,
      {
        version: this.#lastVersion,
        branches,
        min,
        max,
        cellBranches,
        cellMinutes,
      },
    );
  }
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The service handles the rejection; this keeps an unobserved one from crashing the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * A batch's rows as JSONCompactEachRow lines; the block's token hash, sequence range and rollup cells
 * take them in as well.
 */
function encodeRows(block: Block, batch: FoldedBatch): string {
  let text = '';
  // The rows' keys go to the hash in one piece per batch: the same digest as row by row.
  let keys = '';
  for (const streamed of batch.sales) {
    const { sale, streamSeq } = streamed;
    if (sale.lines.length === 0) continue;
    text += saleLinesJson(streamed);
    for (const line of sale.lines) keys += `${streamSeq}/${sale.saleId}/${line.lineNo};`;
    if (block.rows === 0) block.firstSeq = streamSeq;
    block.lastSeq = streamSeq;
    block.rows += sale.lines.length;
    // A sale's lines share its branch and minute: one rollup cell per sale.
    let minutes = block.cells.get(sale.branchId);
    if (minutes === undefined) {
      minutes = new Set();
      block.cells.set(sale.branchId, minutes);
    }
    minutes.add(`${clickHouseTime(sale.occurredAt).slice(0, 16)}:00`);
  }
  block.hash.update(keys);
  return text;
}

/**
 * The same block always gets the same token: its sales' stream sequences and row keys. Taken
 * once per block (a retry reuses it: the hash cannot be read twice).
 */
function blockToken(block: Block): string {
  block.token ??= `sale_lines-${block.firstSeq}-${block.lastSeq}-${block.rows}-${block.hash.digest('hex').slice(0, 16)}`;
  return block.token;
}
