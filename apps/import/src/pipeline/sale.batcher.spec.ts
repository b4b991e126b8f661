import type { SaleInput } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { ImportAborted, type SaleBatchSender, type SaleOutcome } from './ingest.client.js';
import type { Receipt } from './receipt.grouper.js';
import { type BatchResult, SaleBatcher } from './sale.batcher.js';

const receipt = (n: number): Receipt => ({
  kind: 'receipt',
  key: String(n),
  sale: { saleId: `t:${n}` } as SaleInput,
  rows: [{ line: n + 1, raw: '' }],
});

/** A sender whose requests finish only when the test releases them. */
class GatedSender implements SaleBatchSender {
  readonly batches: string[][] = [];
  readonly requestIds: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private gates: Array<() => void> = [];
  constructor(private readonly fail?: (batch: number) => Error | undefined) {}

  async send(sales: readonly SaleInput[], requestId: string): Promise<SaleOutcome[]> {
    this.batches.push(sales.map((s) => s.saleId));
    this.requestIds.push(requestId);
    const batch = this.batches.length;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    this.inFlight--;
    const error = this.fail?.(batch);
    if (error) throw error;
    return sales.map(() => ({ status: 'accepted' }));
  }

  release(): void {
    for (const gate of this.gates.splice(0)) gate();
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('sale batcher', () => {
  it('cuts batches by count in file order, so the same file always makes the same batches', async () => {
    const sender = new GatedSender();
    const results: BatchResult[] = [];
    const batcher = new SaleBatcher(sender, { batchSize: 3, concurrency: 8, runId: 'r' }, async (r) => {
      results.push(r);
    });
    for (let i = 1; i <= 7; i++) await batcher.add(receipt(i));
    const done = batcher.finish();
    await tick();
    sender.release();
    await done;
    expect(sender.batches).toEqual([['t:1', 't:2', 't:3'], ['t:4', 't:5', 't:6'], ['t:7']]);
    expect(sender.requestIds).toEqual(['import-r-1', 'import-r-2', 'import-r-3']);
    expect(results.flatMap((r) => r.receipts.map((x) => x.key))).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('makes add wait while every request slot is taken: the reader above cannot run ahead', async () => {
    const sender = new GatedSender();
    const batcher = new SaleBatcher(
      sender,
      { batchSize: 2, concurrency: 2, runId: 'r' },
      async () => undefined,
    );
    let added = 0;
    const producer = (async () => {
      for (let i = 1; i <= 10; i++) {
        await batcher.add(receipt(i));
        added = i;
      }
    })();
    await tick();
    // Two batches in flight, the fifth receipt's batch (receipts 5–6) waits for a slot.
    expect(sender.maxInFlight).toBe(2);
    expect(added).toBe(5);
    for (let round = 0; round < 5; round++) {
      sender.release();
      await tick();
    }
    await producer;
    const done = batcher.finish();
    sender.release();
    await done;
    expect(sender.maxInFlight).toBe(2);
    expect(sender.batches.flat()).toHaveLength(10);
  });

  it('stops taking receipts after a request fails for good and rethrows that failure', async () => {
    const sender = new GatedSender((batch) =>
      batch === 1 ? new ImportAborted('ingest refused the API key (401)') : undefined,
    );
    const batcher = new SaleBatcher(
      sender,
      { batchSize: 1, concurrency: 1, runId: 'r' },
      async () => undefined,
    );
    await batcher.add(receipt(1));
    const second = batcher.add(receipt(2));
    await tick();
    sender.release();
    await expect(second).rejects.toThrow('401');
    await expect(batcher.add(receipt(3))).rejects.toThrow('401');
    expect(sender.batches).toEqual([['t:1']]);
  });
});
