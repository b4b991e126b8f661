import { encodeEnvelope, Headers, type Sale, type StreamedSale } from '@tally/contracts';
import type { BatchSource, ConsumerState, InboundMessage } from '@tally/nats';
import { makeStreamSale } from '@tally/testing';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WriterMetrics } from '../metrics/writer.metrics.js';
import type { DeadLetterPublisher } from './dead-letter.publisher.js';
import type { DeadLetter, SaleSink, WriteResult } from './sale-sink.js';
import { SinkWorker } from './sink-worker.js';

// Strict fakes of the worker's three boundaries (stream, store, dead-letter stream): every call is
// recorded, and a message may be settled once only, so a double ack is a failing test.

type Settlement = 'ack' | 'nak' | 'term';

class FakeMessage implements InboundMessage {
  readonly subject = 'sales.b1';
  readonly info: { deliveryCount: number; stream: string; pending: number };
  readonly headers: { get(key: string): string };
  settlement: Settlement | undefined;
  nakDelay: number | undefined;
  workingCalls = 0;

  constructor(
    readonly seq: number,
    readonly data: Uint8Array,
    deliveryCount = 1,
  ) {
    this.info = { deliveryCount, stream: 'SALES', pending: 0 };
    this.headers = { get: (key: string) => (key === Headers.requestId ? `req-${seq}` : '') };
  }

  static of(seq: number, sales: readonly Sale[], deliveryCount = 1): FakeMessage {
    return new FakeMessage(seq, encodeEnvelope(sales), deliveryCount);
  }

  ack(): void {
    this.settle('ack');
  }
  nak(millis?: number): void {
    this.nakDelay = millis;
    this.settle('nak');
  }
  term(): void {
    this.settle('term');
  }
  working(): void {
    this.workingCalls++;
  }

  private settle(how: Settlement): void {
    if (this.settlement) throw new Error(`message ${this.seq}: ${how} after ${this.settlement}`);
    this.settlement = how;
  }
}

class FakeSource implements BatchSource {
  private readonly batches: FakeMessage[][];
  constructor(
    batches: FakeMessage[][],
    private readonly state: Partial<ConsumerState> = {},
  ) {
    this.batches = [...batches];
  }
  async fetch(): Promise<InboundMessage[]> {
    const next = this.batches.shift();
    if (next) return next;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return [];
  }
  async info(): Promise<ConsumerState> {
    return { pending: 0, ackPending: 0, maxDeliver: 10, ackWaitMs: 30_000, ...this.state };
  }
}

class PermanentError extends Error {}
class TransientError extends Error {}

/** A store that keeps sale ids, refuses `poisoned` ones permanently, and can be taken down. */
class FakeSink implements SaleSink {
  readonly name = 'fake';
  readonly stored = new Map<string, StreamedSale>();
  readonly writes: string[][] = [];
  readonly recorded: DeadLetter[] = [];
  down = false;
  probes = 0;
  /** Called before each write resolves: lets a test look at the messages mid-write. */
  onWrite: (() => void) | undefined;

  constructor(private readonly poisoned = new Set<string>()) {}

  async write(sales: readonly StreamedSale[]): Promise<WriteResult> {
    if (this.down) throw new TransientError('connection refused');
    this.writes.push(sales.map((s) => s.sale.saleId));
    const bad = sales.find((s) => this.poisoned.has(s.sale.saleId));
    if (bad) throw new PermanentError(`sale ${bad.sale.saleId} breaks a constraint`);
    this.onWrite?.();
    let inserted = 0;
    for (const s of sales) {
      if (this.stored.has(s.sale.saleId)) continue;
      this.stored.set(s.sale.saleId, s);
      inserted++;
    }
    return { inserted, duplicates: sales.length - inserted, rows: inserted };
  }
  isPermanent(error: unknown): boolean {
    return error instanceof PermanentError;
  }
  describe(error: unknown): string {
    return (error as Error).message;
  }
  async probe(): Promise<void> {
    this.probes++;
    if (this.down) throw new TransientError('still down');
  }
  async recordDeadLetter(letter: DeadLetter): Promise<void> {
    this.recorded.push(letter);
  }
  async close(): Promise<void> {}
}

class FakeDeadLetters implements DeadLetterPublisher {
  readonly published: DeadLetter[] = [];
  failing = false;
  async publish(letter: DeadLetter): Promise<void> {
    if (this.failing) throw new Error('NATS unavailable');
    this.published.push(letter);
  }
}

const sales = (n: number) => Array.from({ length: n }, () => makeStreamSale());
let worker: SinkWorker | undefined;

function startWorker(
  sink: FakeSink,
  source: FakeSource,
  deadLetters = new FakeDeadLetters(),
  maxSales = 1000,
  inFlight = 1,
) {
  worker = new SinkWorker(sink, source, deadLetters, new WriterMetrics(), pino({ level: 'silent' }), {
    retry: { minMs: 5, maxMs: 20 },
    maxSales,
    inFlight,
    lagPollMs: 60_000,
  });
  return { worker, deadLetters, started: worker.start() };
}

async function until(what: string, predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

describe('SinkWorker', () => {
  it('acks a message only once the write holding its sales has resolved', async () => {
    const messages = [FakeMessage.of(1, sales(2)), FakeMessage.of(2, sales(1))];
    const sink = new FakeSink();
    const settledDuringWrite: (Settlement | undefined)[] = [];
    sink.onWrite = () => settledDuringWrite.push(...messages.map((m) => m.settlement));
    startWorker(sink, new FakeSource([messages]));
    await until('both acked', () => messages.every((m) => m.settlement === 'ack'));
    expect(settledDuringWrite).toEqual([undefined, undefined]);
    expect(sink.writes).toHaveLength(1);
    expect(sink.stored.size).toBe(3);
  });

  it('writes two pulled batches at once, acking each batch only when its own write resolves', async () => {
    const first = [FakeMessage.of(1, sales(1))];
    const second = [FakeMessage.of(2, sales(1))];
    const sink = new FakeSink();
    const gates: (() => void)[] = [];
    const write = sink.write.bind(sink);
    sink.write = async (s) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return write(s);
    };
    startWorker(sink, new FakeSource([first, second]), undefined, 1000, 2);
    await until('both writes started', () => gates.length === 2);
    gates[1]!();
    await until('second acked', () => second[0]!.settlement === 'ack');
    expect(first[0]!.settlement).toBeUndefined();
    gates[0]!();
    await until('first acked', () => first[0]!.settlement === 'ack');
  });

  it('writes a pull in transactions of at most maxSales sales without splitting a message', async () => {
    const messages = [
      FakeMessage.of(1, sales(3)),
      FakeMessage.of(2, sales(3)),
      FakeMessage.of(3, sales(5)),
      FakeMessage.of(4, sales(1)),
    ];
    const sink = new FakeSink();
    startWorker(sink, new FakeSource([messages]), undefined, 4);
    await until('all acked', () => messages.every((m) => m.settlement === 'ack'));
    expect(sink.writes.map((w) => w.length)).toEqual([3, 3, 5, 1]);
  });

  it('isolates a sale breaking a constraint: it alone is dead-lettered, the sales around it are stored', async () => {
    const [a, bad, c] = sales(3);
    const others = sales(5);
    const mixed = FakeMessage.of(7, [a!, bad!, c!]);
    const plain = others.map((s, i) => FakeMessage.of(10 + i, [s]));
    const sink = new FakeSink(new Set([bad!.saleId]));
    const { deadLetters } = startWorker(
      sink,
      new FakeSource([[...plain.slice(0, 2), mixed, ...plain.slice(2)]]),
    );
    await until('all settled', () => [mixed, ...plain].every((m) => m.settlement));

    expect(mixed.settlement).toBe('ack');
    expect(plain.every((m) => m.settlement === 'ack')).toBe(true);
    expect([...sink.stored.keys()].sort()).toEqual([a!, c!, ...others].map((s) => s.saleId).sort());
    expect(deadLetters.published).toMatchObject([
      {
        saleId: bad!.saleId,
        streamSeq: 7,
        requestId: 'req-7',
        reason: expect.stringContaining('breaks a constraint'),
      },
    ]);
    expect(sink.recorded).toHaveLength(1);
  });

  it('terminates a message whose every sale was dead-lettered', async () => {
    const [bad] = sales(1);
    const message = FakeMessage.of(3, [bad!]);
    startWorker(new FakeSink(new Set([bad!.saleId])), new FakeSource([[message]]));
    await until('settled', () => message.settlement !== undefined);
    expect(message.settlement).toBe('term');
  });

  it('dead-letters an undecodable message whole and stores the rest of its pull', async () => {
    const good = FakeMessage.of(1, sales(1));
    const garbage = new FakeMessage(2, new TextEncoder().encode('not json'));
    const sink = new FakeSink();
    const { deadLetters } = startWorker(sink, new FakeSource([[good, garbage]]));
    await until('settled', () => good.settlement !== undefined && garbage.settlement !== undefined);
    expect(good.settlement).toBe('ack');
    expect(garbage.settlement).toBe('term');
    expect(deadLetters.published).toMatchObject([
      { streamSeq: 2, saleId: '', reason: expect.stringMatching(/^undecodable/) },
    ]);
    expect(Buffer.from(deadLetters.published[0]!.payload).toString()).toBe('not json');
  });

  it('holds a batch through a store outage without nak or redelivery, keeps it alive, and stores it once the store answers', async () => {
    const messages = [FakeMessage.of(1, sales(2)), FakeMessage.of(2, sales(1))];
    const sink = new FakeSink();
    sink.down = true;
    const source = new FakeSource([messages], { ackWaitMs: 30 });
    const { worker } = startWorker(sink, source);
    await until('probing', () => sink.probes >= 3);
    expect(worker.isUp).toBe(false);
    expect(messages.map((m) => m.settlement)).toEqual([undefined, undefined]);
    await until('kept alive', () => messages.every((m) => m.workingCalls > 0));

    sink.down = false;
    await until('stored', () => messages.every((m) => m.settlement === 'ack'));
    expect(sink.stored.size).toBe(3);
    expect(worker.isUp).toBe(true);
  });

  it('dead-letters a message whose last delivery fails transiently, and holds the others', async () => {
    const last = FakeMessage.of(1, sales(1), 10);
    const early = FakeMessage.of(2, sales(1), 3);
    const sink = new FakeSink();
    sink.down = true;
    const { deadLetters } = startWorker(sink, new FakeSource([[last, early]]));
    await until('last one dead-lettered', () => last.settlement !== undefined);
    expect(last.settlement).toBe('term');
    expect(deadLetters.published[0]!.reason).toMatch(/^delivery 10 of 10 failed: connection refused/);
    expect(early.settlement).toBeUndefined();
    sink.down = false;
    await until('the other stored', () => early.settlement === 'ack');
    expect([...sink.stored.values()].map((s) => s.streamSeq)).toEqual([2]);
  });

  it('hands held messages back with nak when stopped during an outage', async () => {
    const messages = [FakeMessage.of(1, sales(1)), FakeMessage.of(2, sales(1))];
    const sink = new FakeSink();
    sink.down = true;
    const { worker: w } = startWorker(sink, new FakeSource([messages]));
    await until('probing', () => sink.probes >= 1);
    await w.stop();
    worker = undefined;
    expect(messages.map((m) => m.settlement)).toEqual(['nak', 'nak']);
  });

  it('keeps a poison sale in hand, not terminated, while its dead letter cannot be published', async () => {
    const [bad] = sales(1);
    const message = FakeMessage.of(5, [bad!]);
    const sink = new FakeSink(new Set([bad!.saleId]));
    const deadLetters = new FakeDeadLetters();
    deadLetters.failing = true;
    startWorker(sink, new FakeSource([[message]]), deadLetters);
    await until('retrying', () => sink.writes.length >= 3);
    expect(message.settlement).toBeUndefined();
    deadLetters.failing = false;
    await until('dead-lettered', () => message.settlement !== undefined);
    expect(message.settlement).toBe('term');
    expect(deadLetters.published).toHaveLength(1);
  });
});
