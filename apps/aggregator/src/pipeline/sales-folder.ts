import { decodeEnvelope, Headers, type StreamedSale } from '@tally/contracts';
import type { InboundMessage } from '@tally/nats';
import type { Logger } from 'pino';
import type { AggregatorMetrics } from '../metrics/aggregator.metrics.js';
import { contributionOf } from '../windows/sale-contribution.js';
import type { WindowState } from '../windows/window-state.js';

/** How long one landing of staged sales may take (after each batch and tick). */
export const LAND_SLICE_MS = 3;
/**
 * How long a second of event time stays staged after the clock left it, gathering the sales
 * that arrive late for it (tills send seconds after the sale; ingest stamps receivedAt then).
 * Landed earlier, a second would be landed again for each batch that holds one of its late
 * sales, each time merging a handful of sales into its 22 aggregates: measured with the
 * benchmark's 0–2 s arrival delay and a landing after every batch of 100, that was 90 % of the
 * aggregator's time. Reads and snapshots land everything first, so no figure waits for it.
 */
export const LAND_SETTLE_MS = 5_000;

/**
 * Lands, for at most LAND_SLICE_MS, the staged seconds that ended LAND_SETTLE_MS or more before
 * the clock: what the service does after each batch and tick (the benchmarks call it too).
 */
export function landSettled(state: WindowState): void {
  state.land(LAND_SLICE_MS, Math.floor((state.nowMs - LAND_SETTLE_MS) / state.slotMs));
}
/**
 * How long one slice of landing before a read may take, and at most how many slices: what is
 * left then lands at once when the figures are read. Longer than LAND_SLICE_MS: a read waits
 * for every slice and for whatever runs between two of them, so few slices keep it short, and
 * 15 ms is still far from the whole landing at once (up to 250 ms at 5,000 sales/s).
 */
export const READ_LAND_SLICE_MS = 15;
export const READ_LAND_SLICES = 30;
/** At most this many landing slices before a checkpoint begins (late sales keep arriving meanwhile). */
const CHECKPOINT_LAND_SLICES = 200;
/** Replayed messages between two landings of everything staged. */
const REPLAY_LAND_EVERY = 1000;

/**
 * Folds stream messages into the window state exactly once, by stream sequence.
 *
 * `appliedThrough` is the highest sequence in the figures. Messages reach the folder in stream
 * order (replay after a restart, then first deliveries of the one durable consumer), so any
 * message at or below it is already counted (a redelivery after a crash, or a message replayed
 * from the stream before the consumer delivered it again) and is skipped. This, with the
 * snapshot storing `appliedThrough` beside the figures, is what makes a restart count every
 * sale once.
 */
export class SalesFolder {
  appliedThrough: number;
  /** Bumped whenever the figures change: lets the live stream skip unchanged pushes cheaply. */
  version = 0;
  #replayed = 0;

  constructor(
    private state: WindowState,
    appliedThrough: number,
    private readonly metrics: AggregatorMetrics,
    private readonly logger: Logger,
  ) {
    this.appliedThrough = appliedThrough;
    metrics.appliedSequence.set(appliedThrough);
  }

  get windows(): WindowState {
    return this.state;
  }

  /**
   * Folds one message; returns its sales (for the batch sinks) whether or not they were new to
   * the figures, or [] if it is not an envelope (counted and logged: the writer dead-letters it).
   */
  fold(message: InboundMessage, outcome: 'applied' | 'replayed', now: number = Date.now()): StreamedSale[] {
    let sales: StreamedSale[];
    const requestId = message.headers?.get(Headers.requestId) || undefined;
    try {
      sales = decodeEnvelope(message.data).map((sale) => ({ sale, streamSeq: message.seq, requestId }));
    } catch (error) {
      this.metrics.messages.inc({ outcome: 'undecodable' });
      this.logger.error({ seq: message.seq, err: (error as Error).message }, 'undecodable message skipped');
      if (message.seq > this.appliedThrough) this.advanceTo(message.seq);
      return [];
    }
    if (message.seq <= this.appliedThrough) {
      this.metrics.messages.inc({ outcome: 'skipped' });
      return sales;
    }
    let live = 0;
    for (const { sale } of sales) {
      const contribution = contributionOf(sale);
      if (this.state.apply(contribution) === 'live') live++;
      this.metrics.freshness.observe(Math.max(0, now - contribution.receivedAtMs) / 1000);
    }
    this.metrics.sales.inc({ outcome: 'live' }, live);
    if (sales.length > live) this.metrics.sales.inc({ outcome: 'late' }, sales.length - live);
    this.metrics.messages.inc({ outcome });
    this.advanceTo(message.seq);
    return sales;
  }

  /**
   * Folds a message read back from the stream at start-up. The clock stands still meanwhile, so
   * everything staged is landed every REPLAY_LAND_EVERY messages: a long replay holds a bounded
   * number of staged seconds.
   */
  replay(message: InboundMessage): StreamedSale[] {
    const sales = this.fold(message, 'replayed');
    if (++this.#replayed % REPLAY_LAND_EVERY === 0) this.state.flush();
    return sales;
  }

  /**
   * Lands settled staged sales for at most LAND_SLICE_MS (see landSettled, WindowState.land): the
   * service calls it after each batch and tick, so a busy second is landed in slices.
   */
  land(): void {
    landSettled(this.state);
  }

  /**
   * Before a checkpoint begins: lands every staged second but the clock's, settled or not,
   * LAND_SLICE_MS at a time between batches (at most CHECKPOINT_LAND_SLICES slices), so that
   * the begin's own landing (SnapshotWriter.begin) is only the current second's.
   */
  landForCheckpoint(): Promise<void> {
    return this.landInSlices(LAND_SLICE_MS, CHECKPOINT_LAND_SLICES);
  }

  /**
   * Before a read: lands everything staged, the current second included, READ_LAND_SLICE_MS at a
   * time with the event loop free between slices (at most READ_LAND_SLICES of them). A read lands
   * everything first (WindowState.view), so exact figures never wait for LAND_SETTLE_MS; done in
   * one go, that is every sale of the last seconds at once: 44 ms at the median and up to 250 ms
   * at 5,000 sales/s (measured in-process), during which nothing is folded.
   */
  landForRead(sliceMs: number = READ_LAND_SLICE_MS): Promise<void> {
    return this.landInSlices(sliceMs, READ_LAND_SLICES, Number.POSITIVE_INFINITY);
  }

  /**
   * Lands staged seconds before `beforeSlot` (by default the clock's, at each slice) `sliceMs`
   * at a time, letting batches and requests run between slices, for at most `maxSlices`
   * slices: what is left then lands at once where it is needed.
   */
  private async landInSlices(sliceMs: number, maxSlices: number, beforeSlot?: number): Promise<void> {
    for (let slices = 0; slices < maxSlices; slices++) {
      if (this.state.land(sliceMs, beforeSlot)) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Moves the windows' clock; figures change when a bucket enters or leaves a window. */
  tick(now: number): void {
    // Every bucket width is a multiple of the smallest, so no window moves unless it does.
    const smallest = this.state.slotMs;
    const before = Math.floor(this.state.nowMs / smallest);
    this.state.advance(now);
    if (Math.floor(this.state.nowMs / smallest) !== before) this.version++;
  }

  private advanceTo(seq: number): void {
    this.appliedThrough = seq;
    this.version++;
    this.metrics.appliedSequence.set(seq);
  }
}
