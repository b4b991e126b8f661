import type { SaleSubmission } from '@tally/contracts';
import type { Tally } from '../check/agreement.js';
import { lineNetUnits, type SimulatedSale } from './basket-simulator.js';
import type { SubmitOutcome } from './ingest.client.js';

/** One category of the acknowledged receipts' lines. */
export interface CategoryReference {
  readonly lines: number;
  /** Lines sent without a category (a lean till's): ingest had to fill it from the catalog. */
  readonly withoutCategory: number;
  /** Signed net revenue in units of 1/10,000. */
  readonly netUnits: bigint;
}

/** The deliberately rule-breaking receipts (--bad-share) and what ingest made of them. */
export interface DeliberateStats {
  readonly sent: number;
  /** Refused, naming the rule each breaks. */
  readonly refused: number;
  /** Acknowledged: stored after all (the rules are off, or one did not hold). */
  readonly accepted: number;
  /** Refused without naming the rule it breaks. */
  readonly misjudged: number;
}

export interface TrafficStats {
  readonly sent: number;
  /** Acknowledged by ingest (accepted, or duplicate of an earlier attempt): stored in the stream. */
  readonly acknowledged: number;
  readonly rejected: number;
  readonly failed: number;
  /** Requests sent again after a 503 or a lost answer. */
  readonly retries: number;
  /** The reference every store must match: acknowledged receipts, signed net revenue, per category too. */
  readonly tally: Tally;
  /** The acknowledged lines per category (the category each must be stored with). */
  readonly categories: ReadonlyMap<string, CategoryReference>;
  /** Rejected receipts per rule their problem names (a receipt counts once per rule). */
  readonly rejectedByRule: ReadonlyMap<string, number>;
  readonly deliberate: DeliberateStats;
  /** Rejected receipts that broke no rule on purpose: the demo's own sales refused. */
  readonly unexpectedRejections: number;
  /** The first few problems (sales refused or not acknowledged when they should have been), to print. */
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
 *
 * The reference holds acknowledged receipts only, whatever they are: a deliberately bad receipt
 * that ingest stored (rules off) is in it, one it refused is not. Each acknowledged line counts
 * for the category the simulator says it must be stored with, which for a line sent without one
 * is the catalog's. Rejections are counted by the rules ingest names.
 */
export class TrafficGenerator {
  private sent = 0;
  private acknowledged = 0;
  private rejected = 0;
  private failed = 0;
  private retries = 0;
  private count = 0;
  private net = 0n;
  private unexpectedRejections = 0;
  private readonly categories = new Map<string, CategoryReference>();
  private readonly rejectedByRule = new Map<string, number>();
  private deliberate: DeliberateStats = { sent: 0, refused: 0, accepted: 0, misjudged: 0 };
  private readonly problems: string[] = [];

  constructor(
    private readonly nextSale: () => SimulatedSale,
    private readonly submit: (sale: SaleSubmission) => Promise<SubmitOutcome>,
    private readonly options: TrafficOptions,
  ) {}

  stats(): TrafficStats {
    return {
      sent: this.sent,
      acknowledged: this.acknowledged,
      rejected: this.rejected,
      failed: this.failed,
      retries: this.retries,
      tally: {
        count: this.count,
        netUnits: this.net,
        categories: new Map([...this.categories].map(([category, c]) => [category, c.netUnits])),
      },
      categories: new Map(this.categories),
      rejectedByRule: new Map(this.rejectedByRule),
      deliberate: { ...this.deliberate },
      unexpectedRejections: this.unexpectedRejections,
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
        if (sale.breaks !== undefined)
          this.deliberate = { ...this.deliberate, sent: this.deliberate.sent + 1 };
        const p = this.submit(sale.sale).then(
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

  private record(simulated: SimulatedSale, outcome: SubmitOutcome): void {
    const { sale, breaks } = simulated;
    this.retries += outcome.attempts - 1;
    if (outcome.status === 'accepted' || outcome.status === 'duplicate') {
      this.acknowledged++;
      this.count++;
      lineNetUnits(sale).forEach((units, i) => {
        const category = simulated.categories[i]!;
        const before = this.categories.get(category) ?? { lines: 0, withoutCategory: 0, netUnits: 0n };
        this.categories.set(category, {
          lines: before.lines + 1,
          withoutCategory: before.withoutCategory + (sale.lines[i]!.category === undefined ? 1 : 0),
          netUnits: before.netUnits + units,
        });
        this.net += units;
      });
      if (breaks !== undefined)
        this.deliberate = { ...this.deliberate, accepted: this.deliberate.accepted + 1 };
      return;
    }
    if (outcome.status === 'failed') {
      this.failed++;
      this.problem(`${sale.saleId} failed: ${outcome.problem}`);
      return;
    }
    this.rejected++;
    for (const rule of outcome.rules) this.rejectedByRule.set(rule, (this.rejectedByRule.get(rule) ?? 0) + 1);
    if (breaks === undefined) {
      this.unexpectedRejections++;
      this.problem(`${sale.saleId} rejected: ${outcome.problem}`);
    } else if (outcome.rules.includes(breaks)) {
      this.deliberate = { ...this.deliberate, refused: this.deliberate.refused + 1 };
    } else {
      this.deliberate = { ...this.deliberate, misjudged: this.deliberate.misjudged + 1 };
      this.problem(`${sale.saleId} breaks ${breaks} but was rejected for: ${outcome.problem}`);
    }
  }

  private problem(text: string): void {
    if (this.problems.length < 5) this.problems.push(text);
  }
}
