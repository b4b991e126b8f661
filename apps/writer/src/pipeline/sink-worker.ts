import { decodeEnvelope, encodeEnvelope, Headers, type StreamedSale } from '@tally/contracts';
import type { BatchSource, ConsumerState, InboundMessage } from '@tally/nats';
import type { Logger } from 'pino';
import type { RetryOptions } from '../config/writer.config.js';
import type { WriterMetrics } from '../metrics/writer.metrics.js';
import { backoffDelay, sleep } from './backoff.js';
import type { DeadLetterPublisher } from './dead-letter.publisher.js';
import type { DeadLetter, SaleSink } from './sale-sink.js';

/**
 * SinkWorker: one store, fed exactly once from its own durable JetStream consumer.
 *
 *   pull ──► decode ──► sink.write(≤ maxSales sales): ONE transaction ──► ack its messages
 *     └── the next pull is already under way while this one is written, and up to `inFlight`
 *         pulled batches are written at once, so preparing one overlaps the store executing another
 *
 * The ack point. A message is acked only after the transaction holding all of its sales has
 * committed. A crash at any instant therefore leaves every unstored message unacked, and
 * JetStream delivers it again after ack_wait; the sink skips sale ids it already holds, so a
 * message stored but not yet acked when the process died is not stored twice.
 *
 * Failures, by kind:
 * - Transient (the store is unreachable, a timeout, a serialization failure): the worker keeps
 *   the batch in hand and stops pulling; it backs off (doubling from retry.minMs to
 *   retry.maxMs), probes the store until it answers, then retries the unsettled rest of the
 *   batch whole. Messages in hand are kept alive with `working()`, so an outage of any length
 *   costs no redelivery. It does not nak them: a nak'ed message comes straight back into the
 *   pull already open (the prefetch), and each such round trip spends one of the consumer's
 *   max_deliver deliveries, after which JetStream drops a message silently.
 * - Last delivery: for the same reason, a message on its last allowed delivery whose write
 *   fails transiently is dead-lettered at once rather than held: if this process died while
 *   holding it, JetStream would never deliver it again.
 * - Permanent (sink.isPermanent: a bad value, a broken constraint): the sales are split in
 *   halves and retried until the offending sales stand alone; the others commit. Each
 *   offending sale goes to the dead-letter stream (and the store's dead_letters table) with the
 *   reason; its message is acked once all its other sales are stored.
 * - Undecodable message: dead-lettered whole and terminated; the rest of the batch goes on.
 *
 * Terminating is a plain `term()`: servers before 2.10 ignore a `+TERM` that carries a reason and
 * would redeliver the message; the reason is in the dead letter and the log instead.
 *
 * Shutdown (stop()): no new pull starts; the batch in hand and the one already prefetched are
 * written and acked (or, if the store is down, nak'ed so another instance takes them at once);
 * then stop() resolves and the caller drains the NATS connection, which flushes the acks.
 */
export interface SinkWorkerOptions {
  readonly retry: RetryOptions;
  /** Sales per transaction (see BatchOptions). */
  readonly maxSales: number;
  /**
   * Pulled batches being written at once, each on its own connection: while the store executes
   * one batch's statement, the worker decodes and prepares the next, so the writer's CPU work
   * and the store's overlap instead of taking turns. Each message is still acked only after its
   * own transaction commits; order between batches does not matter (sales are independent and
   * every write is idempotent).
   */
  readonly inFlight: number;
  readonly lagPollMs: number;
}

/** One sale of a batch and the message it came in. */
interface Unit {
  readonly item: StreamedSale;
  readonly message: Tracked;
  settled: boolean;
}

/** A message of the batch and how many of its sales are still unsettled. */
interface Tracked {
  readonly message: InboundMessage;
  readonly requestId: string | undefined;
  readonly total: number;
  open: number;
  rejected: number;
  /** Dead-lettered whole (last delivery): its remaining units are dropped from retries. */
  gone: boolean;
}

const MAX_REASON = 1000;

export class SinkWorker {
  readonly #stop = new AbortController();
  /** Messages pulled and not yet settled: kept alive with working() while the store is down. */
  readonly #inHand = new Set<InboundMessage>();
  #running: Promise<void> | undefined;
  #timers: NodeJS.Timeout[] = [];
  #up = true;
  #maxDeliver = -1;
  /** Consecutive failed attempts (writes, probes or pulls); drives the backoff. */
  #failures = 0;
  /** The probe loop under way while the store is down, shared by every held batch. */
  #recovery: Promise<void> | undefined;

  constructor(
    private readonly sink: SaleSink,
    private readonly source: BatchSource,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly metrics: WriterMetrics,
    private readonly logger: Logger,
    private readonly options: SinkWorkerOptions,
  ) {}

  /** False while the worker waits out a store failure. */
  get isUp(): boolean {
    return this.#up;
  }

  get name(): string {
    return this.sink.name;
  }

  /** Checks the consumer (fails if it is missing) and starts the pull loop. */
  async start(): Promise<void> {
    const state = await this.source.info();
    this.#maxDeliver = state.maxDeliver;
    this.recordLag(state);
    this.setUp(true);
    const keepAliveMs = Math.min(Math.max(state.ackWaitMs / 3, 250), 10_000);
    this.#timers = [
      setInterval(() => void this.pollLag(), this.options.lagPollMs),
      setInterval(() => this.keepAlive(), keepAliveMs),
    ];
    for (const timer of this.#timers) timer.unref();
    this.#running = this.run();
    this.logger.info({ maxDeliver: state.maxDeliver, pending: state.pending }, 'sink worker started');
  }

  /** Stops pulling, finishes what was pulled, resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    for (const timer of this.#timers) clearInterval(timer);
  }

  private get stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  private async run(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let next: Promise<InboundMessage[]> | undefined = this.pull();
    while (next) {
      const batch = await next;
      next = this.stopping ? undefined : this.pull();
      if (batch.length === 0) continue;
      const processing: Promise<void> = this.process(batch).finally(() => inFlight.delete(processing));
      inFlight.add(processing);
      if (inFlight.size >= this.options.inFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    this.logger.info('sink worker stopped');
  }

  private async pull(): Promise<InboundMessage[]> {
    try {
      const batch = await this.source.fetch();
      for (const message of batch) this.#inHand.add(message);
      return batch;
    } catch (error) {
      this.#failures++;
      const delay = this.backoff();
      this.logger.warn({ err: error, retryInMs: delay }, 'pull from JetStream failed');
      await sleep(delay, this.#stop.signal);
      return [];
    }
  }

  /** Stores one pulled batch, retrying transient failures in place until stored (or stopped). */
  private async process(batch: InboundMessage[]): Promise<void> {
    const started = performance.now();
    this.metrics.batchMessages.observe({ sink: this.sink.name }, batch.length);
    const { units, tracked } = await this.decode(batch);
    for (;;) {
      try {
        const pending = units.filter((u) => !u.settled && !u.message.gone);
        for (const chunk of this.transactions(pending)) await this.store(chunk);
        break;
      } catch (error) {
        const open = tracked.filter((t) => t.open > 0 && !t.gone);
        if (!(await this.onTransientFailure(error, open))) return;
      }
    }
    this.#failures = 0;
    this.setUp(true);
    this.metrics.batches.inc({ sink: this.sink.name, outcome: 'stored' });
    this.metrics.batchSeconds.observe({ sink: this.sink.name }, (performance.now() - started) / 1000);
  }

  /** Decodes every message; undecodable ones are dead-lettered, empty ones acked. */
  private async decode(batch: InboundMessage[]): Promise<{ units: Unit[]; tracked: Tracked[] }> {
    const units: Unit[] = [];
    const tracked: Tracked[] = [];
    for (const message of batch) {
      let sales: ReturnType<typeof decodeEnvelope>;
      try {
        sales = decodeEnvelope(message.data);
      } catch (error) {
        const reason = `undecodable: ${(error as Error).message}`;
        // Dead letter not published (NATS trouble): hand the message back to try again later.
        if (!(await this.deadLetterMessage(message, 'undecodable', reason)))
          this.nak(message, this.backoff());
        continue;
      }
      if (sales.length === 0) {
        this.ack(message);
        continue;
      }
      const requestId = message.headers?.get(Headers.requestId) || undefined;
      const t: Tracked = {
        message,
        requestId,
        total: sales.length,
        open: sales.length,
        rejected: 0,
        gone: false,
      };
      tracked.push(t);
      for (const sale of sales) {
        units.push({ item: { sale, streamSeq: message.seq, requestId }, message: t, settled: false });
      }
    }
    return { units, tracked };
  }

  /**
   * After a transient failure: dead-letter what is on its last delivery, then wait for the store.
   * Returns false when stopping (the open messages were handed back with nak).
   */
  private async onTransientFailure(error: unknown, open: Tracked[]): Promise<boolean> {
    this.#failures++;
    this.setUp(false);
    this.metrics.batches.inc({ sink: this.sink.name, outcome: 'transient_failure' });
    const reason = this.sink.describe(error);
    this.logger.warn(
      {
        reason,
        messages: open.length,
        requestIds: open.slice(0, 10).map((t) => t.requestId),
        attempt: this.#failures,
      },
      'store failed; holding the batch until the store answers',
    );
    for (const t of open) {
      const delivery = t.message.info.deliveryCount;
      if (this.#maxDeliver > 0 && delivery >= this.#maxDeliver) {
        const last = `delivery ${delivery} of ${this.#maxDeliver} failed: ${reason}`;
        if (await this.deadLetterMessage(t.message, 'last_delivery', last)) t.gone = true;
      }
    }
    if (open.every((t) => t.gone)) return true;
    await this.waitForStore();
    if (!this.stopping) return true;
    const delay = this.backoff();
    for (const t of open) if (!t.gone) this.nak(t.message, delay);
    return false;
  }

  /**
   * Splits sales into transactions of at most maxSales sales, never splitting a message (a
   * message with more sales than that is a transaction of its own).
   */
  private *transactions(units: Unit[]): Generator<Unit[]> {
    let chunk: Unit[] = [];
    for (let i = 0; i < units.length; ) {
      // A message's sales are contiguous in `units`.
      const message = units[i]!.message;
      let end = i;
      while (end < units.length && units[end]!.message === message) end++;
      if (chunk.length > 0 && chunk.length + (end - i) > this.options.maxSales) {
        yield chunk;
        chunk = [];
      }
      for (; i < end; i++) chunk.push(units[i]!);
    }
    if (chunk.length > 0) yield chunk;
  }

  /** Writes the units in one transaction; on a permanent failure, halves until the culprits stand alone. */
  private async store(units: Unit[]): Promise<void> {
    if (units.length === 0) return;
    try {
      const result = await this.sink.write(units.map((u) => u.item));
      this.metrics.sales.inc({ sink: this.sink.name, outcome: 'inserted' }, result.inserted);
      this.metrics.sales.inc({ sink: this.sink.name, outcome: 'duplicate' }, result.duplicates);
      this.metrics.rows.inc({ sink: this.sink.name }, result.rows);
    } catch (error) {
      if (!this.sink.isPermanent(error)) throw error;
      if (units.length > 1) {
        const half = units.length >>> 1;
        await this.store(units.slice(0, half));
        await this.store(units.slice(half));
        return;
      }
      await this.rejectSale(units[0]!, this.sink.describe(error));
    }
    for (const unit of units) this.settle(unit);
  }

  /** One sale is settled (stored or dead-lettered); the last one of its message settles the message. */
  private settle(unit: Unit): void {
    unit.settled = true;
    const t = unit.message;
    t.open--;
    if (t.open > 0) return;
    if (t.rejected === t.total) this.term(t.message);
    else this.ack(t.message);
  }

  private async rejectSale(unit: Unit, reason: string): Promise<void> {
    const { sale, streamSeq } = unit.item;
    const letter = this.letter(unit.message.message, reason, sale.saleId, encodeEnvelope([sale]));
    // Cannot publish the dead letter (NATS trouble): a transient failure like any other.
    if (!(await this.publishDeadLetter(letter, 'rejected'))) {
      throw new Error(`dead letter for sale ${sale.saleId} (message ${streamSeq}) could not be published`);
    }
    unit.message.rejected++;
  }

  /** Dead-letters a whole message and terminates it; false (message left in hand) if it could not be published. */
  private async deadLetterMessage(message: InboundMessage, cause: string, reason: string): Promise<boolean> {
    if (!(await this.publishDeadLetter(this.letter(message, reason, '', message.data), cause))) return false;
    this.term(message);
    return true;
  }

  private letter(message: InboundMessage, reason: string, saleId: string, payload: Uint8Array): DeadLetter {
    return {
      sink: this.sink.name,
      stream: message.info.stream,
      streamSeq: message.seq,
      saleId,
      subject: message.subject,
      requestId: message.headers?.get(Headers.requestId) || null,
      deliveries: message.info.deliveryCount,
      reason: reason.replace(/[\r\n]+/g, ' ').slice(0, MAX_REASON),
      payload,
    };
  }

  private async publishDeadLetter(letter: DeadLetter, cause: string): Promise<boolean> {
    const context = {
      streamSeq: letter.streamSeq,
      saleId: letter.saleId || undefined,
      requestId: letter.requestId ?? undefined,
      reason: letter.reason,
    };
    try {
      await this.deadLetters.publish(letter);
    } catch (error) {
      this.logger.error(
        { ...context, err: error },
        'could not publish a dead letter; the message stays for a retry',
      );
      return false;
    }
    try {
      await this.sink.recordDeadLetter(letter);
    } catch (error) {
      this.logger.warn(
        { ...context, err: this.sink.describe(error) },
        'dead letter not recorded in the store (it is in the dead-letter stream)',
      );
    }
    this.metrics.deadLetters.inc({ sink: this.sink.name, cause });
    if (letter.saleId) this.metrics.sales.inc({ sink: this.sink.name, outcome: 'dead_lettered' });
    this.logger.error({ ...context, cause }, 'dead-lettered');
    return true;
  }

  /**
   * Sleeps the backoff, then probes until the store answers (or the worker is stopped). Batches
   * failing at the same time share one wait, so there is one probe loop however many are held.
   */
  private waitForStore(): Promise<void> {
    this.#recovery ??= this.probeUntilUp().finally(() => {
      this.#recovery = undefined;
    });
    return this.#recovery;
  }

  private async probeUntilUp(): Promise<void> {
    while (!this.stopping) {
      await sleep(this.backoff(), this.#stop.signal);
      if (this.stopping) return;
      try {
        await this.sink.probe();
        this.logger.info('store answers again; retrying the batch');
        return;
      } catch (error) {
        this.#failures++;
        this.logger.warn(
          { reason: this.sink.describe(error), attempt: this.#failures },
          'store still unreachable',
        );
      }
    }
  }

  /** While the store is down, tell JetStream every message in hand is still being worked on. */
  private keepAlive(): void {
    if (this.#up) return;
    for (const message of this.#inHand) message.working();
  }

  private ack(message: InboundMessage): void {
    this.#inHand.delete(message);
    message.ack();
  }

  private nak(message: InboundMessage, delayMs: number): void {
    this.#inHand.delete(message);
    message.nak(delayMs);
  }

  private term(message: InboundMessage): void {
    this.#inHand.delete(message);
    message.term();
  }

  private backoff(): number {
    return backoffDelay(this.#failures, this.options.retry.minMs, this.options.retry.maxMs);
  }

  private setUp(up: boolean): void {
    this.#up = up;
    this.metrics.sinkUp.set({ sink: this.sink.name }, up ? 1 : 0);
  }

  private async pollLag(): Promise<void> {
    try {
      this.recordLag(await this.source.info());
    } catch (error) {
      this.logger.debug({ err: error }, 'consumer info failed');
    }
  }

  private recordLag(state: ConsumerState): void {
    this.metrics.consumerPending.set({ sink: this.sink.name }, state.pending);
    this.metrics.consumerAckPending.set({ sink: this.sink.name }, state.ackPending);
  }
}
