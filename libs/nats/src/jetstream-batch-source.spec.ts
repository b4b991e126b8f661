import type { Consumer, FetchOptions } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { JetStreamBatchSource } from './jetstream-batch-source.js';

/** A consumer whose pulls return messages of the given sizes, recording what each pull asked for. */
function fakeConsumer(pulls: number[][], backlog?: number) {
  const asked: FetchOptions[] = [];
  const consumer = {
    async fetch(options: FetchOptions) {
      asked.push(options);
      const sizes = pulls.shift() ?? [];
      return (async function* () {
        for (const [i, size] of sizes.entries()) {
          yield { data: new Uint8Array(size), info: { pending: backlog ?? sizes.length - i - 1 } };
        }
      })();
    },
  } as unknown as Consumer;
  return { consumer, asked };
}

const batch = { maxSales: 1000, maxMessages: 1000, maxBytes: 2 * 1024 * 1024, maxWaitMs: 1000, inFlight: 2 };

describe('JetStreamBatchSource', () => {
  it('sizes each pull to the byte budget by the previous pull, counting messages, never bytes', async () => {
    const { consumer, asked } = fakeConsumer([[500, 500], Array(1000).fill(200_000), [300_000], []]);
    const source = new JetStreamBatchSource(consumer, batch);
    await source.fetch(); // nothing seen yet: assume the largest message (1 MiB)
    await source.fetch(); // ~500-byte messages seen: capped at maxMessages
    await source.fetch(); // 200 KB messages: 10 fit in 2 MiB
    await source.fetch(); // 300 KB: 6
    expect(asked.map((o) => ('max_messages' in o ? o.max_messages : undefined))).toEqual([2, 1000, 10, 6]);
    expect(asked.every((o) => !('max_bytes' in o) && o.expires === 1000)).toBe(true);
  });

  it('asks for no more than the backlog the last message reported, and for the full budget when there is none', async () => {
    const { consumer, asked } = fakeConsumer([[500], [500], [500]], 30);
    const source = new JetStreamBatchSource(consumer, batch);
    await source.fetch();
    await source.fetch();
    const idle = fakeConsumer([[500], [500]], 0);
    const idleSource = new JetStreamBatchSource(idle.consumer, batch);
    await idleSource.fetch();
    await idleSource.fetch();
    const sizes = (o: FetchOptions[]) => o.map((x) => ('max_messages' in x ? x.max_messages : undefined));
    expect(sizes(asked)).toEqual([2, 30]);
    expect(sizes(idle.asked)).toEqual([2, 1000]);
  });

  it('asks for idleMessages when there is no backlog, so the pull of a quiet stream returns with its first message', async () => {
    const { consumer, asked } = fakeConsumer([[500], [500], [500]], 0);
    const source = new JetStreamBatchSource(consumer, { ...batch, idleMessages: 1 });
    await source.fetch();
    await source.fetch();
    const busy = fakeConsumer([[500], [500]], 30);
    const busySource = new JetStreamBatchSource(busy.consumer, { ...batch, idleMessages: 1 });
    await busySource.fetch();
    await busySource.fetch();
    const sizes = (o: FetchOptions[]) => o.map((x) => ('max_messages' in x ? x.max_messages : undefined));
    expect(sizes(asked)).toEqual([1, 1]);
    expect(sizes(busy.asked)).toEqual([1, 30]);
  });

  it('keeps the last estimate after an empty pull', async () => {
    const { consumer, asked } = fakeConsumer([[100_000], [], []]);
    const source = new JetStreamBatchSource(consumer, batch);
    await source.fetch();
    await source.fetch();
    await source.fetch();
    expect(asked.map((o) => ('max_messages' in o ? o.max_messages : undefined))).toEqual([2, 20, 20]);
  });
});
