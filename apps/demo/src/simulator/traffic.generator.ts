import type { SaleInput } from '@tally/contracts';
import type { Tally } from '../check/agreement.js';
import { netUnits } from './basket-simulator.js';
import type { SubmitOutcome } from './ingest.client.js';

export interface TrafficStats {
  readonly sent: number;
  /** Acknowledged by ingest (accepted, or duplicate of an earlier attempt): stored in the stream. */
  readonly acknowledged: number;
  readonly rejected: number;
  readonly failed: number;
  /** Requests sent again after a 503 or a lost answer. */
  readonly retries: number;
  /** The reference every store must match: acknowledged receipts and their signed net revenue. */
  readonly tally: Tally;
  /** The first few problems of rejected or failed sales, to print. */
  readonly problems: readonly string[];
}

export interface TrafficOptions {
  /** Sales per second. */
  readonly rate: number;
  /** Sales to send; Infinity until stopped. */
  readonly total: number;
  /** Requests awaiting their answer at most (default 256). */
  readonly maxInFlight?: number;
}

/**
 * Paces the simulator at `rate` sales per second through ingest and keeps the reference tally:
 * what ingest acknowledged, counted and summed by the demo itself (never by the stores it is
 * compared with). A sale is due at `start + n / rate`; a slow ingest makes sales queue up to
 * `maxInFlight`, then the pace waits rather than piling up requests.
 */
export class TrafficGenerator {
  private sent = 0;
  private acknowledged = 0;
  private rejected = 0;
  private failed = 0;
  private retries = 0;
  private count = 0;
  private net = 0n;
  private readonly problems: string[] = [];

  constructor(
    private readonly nextSale: () => SaleInput,
    private readonly submit: (sale: SaleInput) => Promise<SubmitOutcome>,
    private readonly options: TrafficOptions,
  ) {}

  stats(): TrafficStats {
    return {
      sent: this.sent,
      acknowledged: this.acknowledged,
      rejected: this.rejected,
      failed: this.failed,
      retries: this.retries,
      tally: { count: this.count, netUnits: this.net },
      problems: [...this.problems],
    };
  }

  /** Sends until `total` are sent or `stopped()` says so, then waits for the answers in flight. */
  async run(stopped: () => boolean): Promise<TrafficStats> {
    const maxInFlight = this.options.maxInFlight ?? 256;
    const inFlight = new Set<Promise<void>>();
    const started = performance.now();
    while (this.sent < this.options.total && !stopped()) {
      const due = Math.min(
        this.options.total,
        Math.floor(((performance.now() - started) / 1000) * this.options.rate) + 1,
      );
      while (this.sent < due && !stopped()) {
        this.sent++;
        const sale = this.nextSale();
        const p = this.submit(sale).then(
          (outcome) => this.record(sale, outcome),
          (error: Error) => this.record(sale, { status: 'failed', attempts: 1, problem: error.message }),
        );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      }
      const nextDue = started + (this.sent / this.options.rate) * 1000;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(1, Math.min(50, nextDue - performance.now()))),
      );
    }
    await Promise.all(inFlight);
    return this.stats();
  }

  private record(sale: SaleInput, outcome: SubmitOutcome): void {
    this.retries += outcome.attempts - 1;
    if (outcome.status === 'accepted' || outcome.status === 'duplicate') {
      this.acknowledged++;
      this.count++;
      this.net += netUnits(sale);
      return;
    }
    if (outcome.status === 'rejected') this.rejected++;
    else this.failed++;
    if (this.problems.length < 5) this.problems.push(`${sale.saleId} ${outcome.status}: ${outcome.problem}`);
  }
}
