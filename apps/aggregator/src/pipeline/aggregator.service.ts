import type { NatsClient, Settler } from '@tally/nats';
import { JetStreamBatchSource, settlerOf } from '@tally/nats';
import type { Logger } from 'pino';
import {
  CheckpointConflictError,
  type CheckpointPointer,
  type CheckpointRepository,
} from '../checkpoint/checkpoint.repository.js';
import type { AggregatorConfig } from '../config/aggregator.config.js';
import type { AggregatorMetrics } from '../metrics/aggregator.metrics.js';
import {
  decodeSnapshot,
  SnapshotLayoutError,
  SnapshotLedger,
  SnapshotWriter,
} from '../windows/snapshot.codec.js';
import { layoutFingerprint } from '../windows/window-spec.js';
import { WindowState } from '../windows/window-state.js';
import type { Durable, FoldedBatch, FoldedBatchSink } from './folded-batch.js';
import { SalesFolder } from './sales-folder.js';
import { replayStream } from './stream-replay.js';

/** Longest stretch a checkpoint encodes before letting folding and requests run. */
const SNAPSHOT_SLICE_MS = 5;
/** Messages acked between two turns of the event loop (queueAcks). */
const ACK_SLICE = 1_000;

/**
 * The aggregator's life, top to bottom:
 *
 *   lease      take the consumer's lease (one instance folds a consumer at a time)
 *   restore    load the last snapshot: figures + the stream sequence S they cover
 *   replay     read the stream from S+1 to its end (ordered consumer), folding each message
 *   serve      ready: the API answers from memory; a first checkpoint is stored in the
 *              background (its compare-and-set fences a concurrent instance)
 *   loop       pull a batch from the durable consumer → fold (skip sequences ≤ the applied one)
 *              → hand the batch to the FoldedBatchSinks (ClickHouse) → ack
 *   timers     every tick: move the windows' clock; every interval: checkpoint (encoded in
 *              slices while folding goes on, see SnapshotWriter); lease renewal
 *   stop       finish the batch in hand, checkpoint, release the lease
 *
 * A SIGKILL at any instant loses nothing: the figures are rebuilt from the last snapshot and
 * the stream after it, and sequence-based skipping keeps any sale from counting twice.
 */
export class AggregatorService {
  #folder: SalesFolder | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #timers: NodeJS.Timeout[] = [];
  #revision = 0;
  #pointer: CheckpointPointer | undefined;
  #checkpointing: Promise<void> | undefined;
  #lastCheckpointAt = 0;
  /** What this process's checkpoints stored, so the next one writes only what changed. */
  readonly #ledger = new SnapshotLedger();
  #fatal: Error | undefined;
  #lastLagPoll = 0;
  #stopping = false;
  /** Acks waiting for the batch sinks. */
  readonly #settling = new Set<Promise<void>>();
  /** Durable batches' messages waiting for their acks (queueAcks). */
  readonly #acks: (readonly Settler[])[] = [];

  constructor(
    private readonly config: AggregatorConfig,
    private readonly nats: NatsClient,
    private readonly checkpoints: CheckpointRepository,
    private readonly metrics: AggregatorMetrics,
    private readonly sinks: readonly FoldedBatchSink[],
    private readonly logger: Logger,
  ) {}

  /** Ready once recovered, until stopped or fenced. */
  get ready(): boolean {
    return this.#folder !== undefined && this.#running && this.#fatal === undefined;
  }

  /** The folder, once recovered; undefined while starting. */
  get folder(): SalesFolder | undefined {
    return this.ready ? this.#folder : undefined;
  }

  async start(): Promise<void> {
    const started = performance.now();
    await this.takeLease();
    const { state, seq } = await this.restore();
    this.assertNotStopping();
    const folder = new SalesFolder(state, seq, this.metrics, this.logger);
    const fromSeq = seq + 1;
    const replayed = await replayStream(
      this.nats.js,
      this.config.names.stream,
      this.config.filterSubject,
      fromSeq,
      (message) => folder.replay(message),
    );
    this.assertNotStopping();
    folder.tick(Date.now());
    this.#folder = folder;
    const seconds = (performance.now() - started) / 1000;
    this.metrics.recoverySeconds.set(seconds);
    this.logger.info(
      { fromSeq, replayed, appliedThrough: folder.appliedThrough, seconds: Number(seconds.toFixed(3)) },
      'figures recovered: serving',
    );
    this.#running = true;
    // The recovered figures are checkpointed at once, without holding up readiness: until that
    // snapshot lands, the one restored plus the stream after it remain a valid recovery point.
    void this.checkpoint().catch((e) => this.checkpointFailed(e));
    const consumer = await this.nats.js.consumers.get(this.config.names.stream, this.config.consumer);
    const source = new JetStreamBatchSource(consumer, this.config.pull);
    this.#loop = this.run(source);
    this.every(this.config.tickMs, () => {
      folder.tick(Date.now());
      folder.land();
    });
    this.every(
      this.config.checkpoint.intervalMs,
      () => void this.checkpoint().catch((e) => this.checkpointFailed(e)),
    );
    this.every(Math.floor(this.config.checkpoint.leaseTtlMs / 3), () => void this.renewLease());
    this.every(1000, () => {
      this.metrics.stateKeys.set(folder.windows.landedKeyCount);
      this.metrics.checkpointAge.set((Date.now() - this.#lastCheckpointAt) / 1000);
    });
    this.every(this.config.lagPollMs, () => void this.pollLag(source));
  }

  /** Whether stop() was called: a start still waiting for the lease gives up. */
  get stopping(): boolean {
    return this.#stopping;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const wasRunning = this.#running;
    this.#running = false;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.#loop;
    await Promise.allSettled(this.sinks.map((sink) => sink.close()));
    await Promise.allSettled(this.#settling);
    this.ackAll();
    if (wasRunning && this.#fatal === undefined) {
      await this.#checkpointing?.catch(() => undefined);
      await this.checkpoint().catch((error) => this.logger.error({ err: error }, 'final checkpoint failed'));
      await this.checkpoints
        .releaseLease(this.config.consumer, this.config.instanceId)
        .catch((error) => this.logger.warn({ err: error }, 'lease release failed; it expires by itself'));
    }
    await this.checkpoints.close().catch(() => undefined);
  }

  private async run(source: JetStreamBatchSource): Promise<void> {
    const folder = this.#folder!;
    let failures = 0;
    while (this.#running) {
      try {
        const messages = await source.fetch();
        if (messages.length === 0) continue;
        this.metrics.batchMessages.observe(messages.length);
        const now = Date.now();
        folder.tick(now);
        const sales = messages.flatMap((m) => folder.fold(m, 'applied', now));
        folder.land();
        if (this.sinks.length === 0) {
          for (const message of messages) message.ack();
        } else {
          // Acked once every sink holds the batch durably; meanwhile the loop fetches on. What
          // waits for that holds the messages' settlers, not the messages.
          const settlers = messages.map((m) => settlerOf(m, this.nats.connection));
          this.ackWhenDurable(await this.handOff({ sales, messages: settlers }), settlers);
        }
        failures = 0;
      } catch (error) {
        if (!this.#running) break;
        failures++;
        const waitMs = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
        this.logger.warn({ err: (error as Error).message, waitMs }, 'pull or batch sink failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  /** Gives a folded batch to every sink (each may wait for room: back-pressure). */
  private handOff(batch: FoldedBatch): Promise<Durable[]> {
    return Promise.all(this.sinks.map((sink) => sink.accept(batch)));
  }

  /**
   * Acks the messages once every sink holds them durably. A method of its own so that what waits
   * for the acks holds the settlers only, not the batch's decoded sales nor its messages: held
   * for the seconds a sink takes, those would be copied by every scavenge meanwhile and then
   * promoted to the old generation.
   */
  private ackWhenDurable(accepted: readonly Durable[], messages: readonly Settler[]): void {
    const settled = Promise.all(accepted.map((a) => a.durable)).then(
      () => this.queueAcks(messages),
      // Only at shutdown: unacked, the messages are delivered again after a restart.
      (error) =>
        this.logger.warn({ err: (error as Error).message }, 'batch not stored by a sink: left unacked'),
    );
    this.#settling.add(settled);
    void settled.finally(() => this.#settling.delete(settled));
  }

  /**
   * Acks in slices of ACK_SLICE messages, the event loop free between two: a ClickHouse rollup
   * refresh makes every batch of the last seconds durable at once, and acking them all in one
   * go (16,000 messages at 5,000 sales/s) held the loop for ~135 ms (measured).
   */
  private queueAcks(messages: readonly Settler[]): void {
    this.#acks.push(messages);
    if (this.#acks.length === 1) setImmediate(() => this.ackSlice());
  }

  private ackSlice(): void {
    let acked = 0;
    while (this.#acks.length > 0 && acked < ACK_SLICE) {
      const messages = this.#acks.shift()!;
      for (const message of messages) message.ack();
      acked += messages.length;
    }
    if (this.#acks.length > 0) setImmediate(() => this.ackSlice());
  }

  /** Acks whatever is still queued, at once (shutdown). */
  private ackAll(): void {
    while (this.#acks.length > 0) this.ackSlice();
  }

  /**
   * Stores a snapshot of the figures with the sequence they cover. One at a time. The snapshot
   * and its sequence are taken together, between two batches (SnapshotWriter.begin); encoding
   * then proceeds in slices of SNAPSHOT_SLICE_MS while folding goes on (copy-on-write), so a
   * large state never stops the aggregator for the whole encoding.
   */
  checkpoint(): Promise<void> {
    if (this.#checkpointing !== undefined) return this.#checkpointing;
    const folder = this.#folder;
    if (folder === undefined || this.#fatal !== undefined) return Promise.resolve();
    const started = performance.now();
    this.#checkpointing = (async () => {
      // A snapshot begins by landing everything staged, at once (SnapshotWriter.begin); the
      // seconds still settling (LAND_SETTLE_MS of them) are landed first, a slice at a time
      // between batches, so that stop is only the current second's.
      await folder.landForCheckpoint();
      // The sequence and the figures are taken together, with no batch folded in between.
      const seq = folder.appliedThrough;
      const writer = SnapshotWriter.begin(folder.windows, this.#ledger);
      try {
        while (!writer.step(SNAPSHOT_SLICE_MS)) await new Promise((resolve) => setImmediate(resolve));
      } finally {
        writer.release();
      }
      const { revision, pointer } = await this.checkpoints.save(
        this.config.consumer,
        this.#revision,
        {
          seq,
          layout: layoutFingerprint(this.config.layout),
          takenAt: new Date().toISOString(),
          instanceId: this.config.instanceId,
        },
        writer.objects(),
        this.#pointer?.object,
      );
      writer.commit(pointer.object);
      // Stored and compressed: nothing reads the pages any more, the next checkpoint writes into them.
      writer.releasePages();
      this.#revision = revision;
      this.#pointer = pointer;
      this.#lastCheckpointAt = Date.now();
      this.metrics.checkpointBytes.set(pointer.bytes);
      this.metrics.checkpointStoredBytes.set(this.#ledger.storedBytes);
      this.metrics.checkpointAggregates.set({ part: 'written' }, writer.encoding);
      this.metrics.checkpointAggregates.set({ part: 'referred' }, writer.referring);
      this.metrics.checkpointSeconds.observe((performance.now() - started) / 1000);
    })().finally(() => {
      this.#checkpointing = undefined;
    });
    return this.#checkpointing;
  }

  private async restore(): Promise<{ state: WindowState; seq: number }> {
    const fresh = { state: new WindowState(this.config.layout, Date.now()), seq: 0 };
    const loaded = await this.checkpoints.load(this.config.consumer);
    if (loaded === undefined) {
      this.logger.info('no checkpoint: folding the stream from its start');
      return fresh;
    }
    this.#revision = loaded.revision;
    this.#pointer = loaded.pointer;
    if (loaded.snapshot === undefined || loaded.earlier === undefined) {
      this.logger.warn(
        { object: loaded.pointer.object, references: loaded.pointer.references },
        'checkpoint object missing: folding the stream from its start',
      );
      return fresh;
    }
    try {
      const state = decodeSnapshot(loaded.snapshot, this.config.layout, loaded.earlier);
      this.logger.info(
        { seq: loaded.pointer.seq, bytes: loaded.pointer.bytes, objects: 1 + loaded.earlier.size },
        'snapshot restored',
      );
      return { state, seq: loaded.pointer.seq };
    } catch (error) {
      const why = error instanceof SnapshotLayoutError ? 'window layout changed' : 'snapshot unreadable';
      this.logger.warn({ err: (error as Error).message }, `${why}: folding the stream from its start`);
      return fresh;
    }
  }

  private async takeLease(): Promise<void> {
    const { consumer, instanceId, checkpoint } = this.config;
    for (;;) {
      if (this.#stopping) throw new Error('stopped while waiting for the lease');
      const lease = await this.checkpoints.acquireLease(consumer, instanceId, checkpoint.leaseTtlMs);
      if (lease.ok) return;
      this.logger.warn(
        { consumer, holder: lease.holder.instanceId, until: new Date(lease.holder.expiresAt).toISOString() },
        'another instance folds this consumer; waiting for its lease to lapse (give each instance its own AGGREGATOR_CONSUMER to scale out)',
      );
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, checkpoint.leaseTtlMs / 3)));
    }
  }

  private async renewLease(): Promise<void> {
    const { consumer, instanceId, checkpoint } = this.config;
    try {
      const lease = await this.checkpoints.acquireLease(consumer, instanceId, checkpoint.leaseTtlMs);
      if (!lease.ok)
        this.fail(new CheckpointConflictError(`lease of ${consumer} taken by ${lease.holder.instanceId}`));
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'lease renewal failed; retrying');
    }
  }

  private async pollLag(source: JetStreamBatchSource): Promise<void> {
    if (Date.now() - this.#lastLagPoll < this.config.lagPollMs / 2) return;
    this.#lastLagPoll = Date.now();
    try {
      this.metrics.lag.set((await source.info()).pending);
    } catch {
      // Lag is informative; the next poll tries again.
    }
  }

  /** A stop() during start: give up before folding (stop() found nothing running to stop). */
  private assertNotStopping(): void {
    if (this.#stopping) throw new Error('stopped during start');
  }

  private checkpointFailed(error: unknown): void {
    if (error instanceof CheckpointConflictError) this.fail(error);
    else this.logger.warn({ err: (error as Error).message }, 'checkpoint failed; the next interval retries');
  }

  /** Another instance took over: stop folding (figures would diverge), stay up to say so. */
  private fail(error: unknown): void {
    if (this.#fatal !== undefined) return;
    this.#fatal = error as Error;
    this.#running = false;
    this.logger.error({ err: (error as Error).message }, 'fenced out by another instance: stopped folding');
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.#timers.push(timer);
  }
}
