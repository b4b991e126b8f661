import type { SaleBatchSender, SaleOutcome } from './ingest.client.js';
import type { Receipt } from './receipt.grouper.js';

/**
 * Receipts → batches of `batchSize` sales → ingest, with at most `concurrency` requests in
 * flight. `add` waits while every slot is taken, which stops the reading of the file above it:
 * back-pressure, so at most (concurrency + 1) × batchSize receipts are ever held.
 *
 * Batches are cut by count only, in file order, never by time: importing the same file again
 * sends byte-identical batches, which ingest packs into the same messages, so within JetStream's
 * duplicate window even the stream gains nothing (and after it, the stores still key by sale id).
 */

export interface BatchResult {
  readonly receipts: readonly Receipt[];
  readonly outcomes: readonly SaleOutcome[];
}

export class SaleBatcher {
  private current: Receipt[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private sent = 0;

  constructor(
    private readonly sender: SaleBatchSender,
    private readonly options: {
      readonly batchSize: number;
      readonly concurrency: number;
      readonly runId: string;
    },
    private readonly onResult: (result: BatchResult) => Promise<void>,
  ) {}

  /** Queues a receipt; resolves once it is in a batch or a slot was free. Throws a failure of an earlier batch. */
  async add(receipt: Receipt): Promise<void> {
    this.throwIfFailed();
    this.current.push(receipt);
    if (this.current.length >= this.options.batchSize) await this.dispatch();
  }

  /** Sends what is left and waits for every request; throws the first failure. */
  async finish(): Promise<void> {
    if (this.failure === undefined && this.current.length > 0) await this.dispatch();
    await this.drain();
    this.throwIfFailed();
  }

  /** Waits for the requests in flight without sending more (after a failure or an interruption). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  get maxHeldReceipts(): number {
    return (this.options.concurrency + 1) * this.options.batchSize;
  }

  private async dispatch(): Promise<void> {
    const receipts = this.current;
    this.current = [];
    while (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const requestId = `import-${this.options.runId}-${++this.sent}`;
    const task: Promise<void> = this.run(receipts, requestId).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async run(receipts: Receipt[], requestId: string): Promise<void> {
    try {
      const outcomes = await this.sender.send(
        receipts.map((r) => r.sale),
        requestId,
      );
      await this.onResult({ receipts, outcomes });
    } catch (error) {
      this.failure ??= error;
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
