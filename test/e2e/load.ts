import { randomInt } from 'node:crypto';
import { seededRandom } from '@tally/common';
import { formatUnits, type SaleInput, type SaleLineInput, sumDecimals, validateSale } from '@tally/contracts';
import { post } from '../../apps/ingest/test/ingest-app.fixture.js';

/**
 * Load for the end-to-end tests: varied valid sales from a seeded random source, sent through
 * the real ingest endpoints, with a ledger of what ingest answered. What ingest accepted (status
 * `accepted` or `duplicate`) is what must land in every store exactly once; the expected totals
 * are computed from those inputs with the real validator, independently of any store.
 */

/** A seeded pseudo-random source (mulberry32): the same seed replays the same sales and timings. */
export class Random {
  readonly next: () => number;

  constructor(readonly seed: number) {
    /** Uniform in [0, 1). */
    this.next = seededRandom(seed);
  }

  /** A seed from E2E_SEED, or a fresh one. Log it: rerun a failure with E2E_SEED=<seed>. */
  static seedFromEnv(): number {
    const raw = process.env.E2E_SEED;
    if (raw !== undefined && raw !== '') {
      const seed = Number(raw);
      if (!Number.isSafeInteger(seed)) throw new Error(`E2E_SEED=${raw}: not an integer`);
      return seed;
    }
    return randomInt(2 ** 31);
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

export const BRANCHES = ['b-north', 'b-south', 'b-east', 'b-west', 'b-central'] as const;
const CATEGORIES = ['fruit', 'dairy', 'bakery', 'drinks', 'household'] as const;

/**
 * Valid sales as a client sends them: 1–4 lines, prices with up to 4 decimals (as strings and
 * sometimes as JSON numbers), discounts, explicit line amounts, and a share of returns that
 * reverse one line of an earlier sale (`originalSaleId`).
 */
export class SaleGenerator {
  #count = 0;
  readonly #sales: SaleInput[] = [];

  constructor(
    private readonly random: Random,
    private readonly idPrefix: string,
    private readonly returnShare = 0.06,
  ) {}

  /** Sales generated so far. */
  get count(): number {
    return this.#count;
  }

  take(n: number): SaleInput[] {
    return Array.from({ length: n }, () => this.next());
  }

  next(): SaleInput {
    const n = this.#count++;
    const r = this.random;
    const common = {
      saleId: `${this.idPrefix}-${n}`,
      branchId: r.pick(BRANCHES),
      registerId: `till-${r.int(1, 4)}`,
      occurredAt: new Date(Date.now() - r.int(1_000, 86_400_000)).toISOString(),
      currency: 'EUR',
      ...(r.chance(0.5) && { customerId: `cust-${r.int(1, 500)}` }),
      ...(r.chance(0.5) && { paymentMethod: r.pick(['cash', 'card']) }),
    };
    if (this.#sales.length > 0 && r.chance(this.returnShare)) {
      const original = r.pick(this.#sales);
      const line = r.pick(original.lines);
      return {
        ...common,
        kind: 'return',
        originalSaleId: original.saleId,
        lines: [
          { productId: line.productId, category: line.category, quantity: 1, unitPrice: line.unitPrice },
        ],
      };
    }
    const sale: SaleInput = {
      ...common,
      kind: 'sale',
      lines: Array.from({ length: r.int(1, 4) }, () => this.line()),
    };
    // Only plain sales are returned later (keeps the history realistic; a return of a return is not).
    this.#sales.push(sale);
    return sale;
  }

  private line(): SaleLineInput {
    const r = this.random;
    const quantity = r.int(1, 6);
    const priceUnits = r.int(1, 2_000_000); // 0.0001 … 200.0000
    const line: SaleLineInput = {
      productId: `p-${r.int(1, 300)}`,
      category: r.pick(CATEGORIES),
      quantity,
      // Now and then a JSON number with two decimals, as some tills send.
      unitPrice: r.chance(0.2) ? Math.round(priceUnits / 100) / 100 : formatUnits(priceUnits),
    };
    const roll = r.next();
    if (roll < 0.25) {
      line.discount = formatUnits(r.int(0, Math.floor((quantity * unitsOfPrice(line.unitPrice)) / 3)));
    } else if (roll < 0.35) {
      // An explicit net amount from the source system (no discount given): taken as is.
      line.amount = formatUnits(r.int(0, quantity * unitsOfPrice(line.unitPrice)));
    }
    return line;
  }
}

function unitsOfPrice(price: string | number): number {
  return Math.round(Number(price) * 10_000);
}

/** What the stores must hold for a set of distinct accepted sales, computed with the real validator. */
export interface Expected {
  readonly sales: number;
  readonly returns: number;
  readonly lines: number;
  /** Exact signed sum of the sales' net totals (returns negative), canonical decimal text. */
  readonly netTotal: string;
}

export function expectedOf(sales: Iterable<SaleInput>): Expected {
  let count = 0;
  let returns = 0;
  let lines = 0;
  const totals: string[] = [];
  for (const input of sales) {
    const result = validateSale(input, { maxFutureSkewMs: 300_000 });
    if (!result.ok)
      throw new Error(`expectedOf: ${input.saleId} is invalid: ${JSON.stringify(result.errors)}`);
    count++;
    if (input.kind === 'return') returns++;
    lines += result.sale.lines.length;
    totals.push(input.kind === 'return' ? `-${result.sale.total}` : result.sale.total);
  }
  return { sales: count, returns, lines, netTotal: sumDecimals(totals) };
}

export type ItemStatus = 'accepted' | 'duplicate' | 'rejected' | 'unavailable';

/** One HTTP answer of ingest. */
export interface Answer {
  readonly at: number;
  readonly endpoint: 'single' | 'batch';
  readonly httpStatus: number;
  readonly sales: number;
  readonly statuses: Partial<Record<ItemStatus, number>>;
  /** The body, kept only for unexpected answers. */
  readonly body?: string;
}

/**
 * Sends sales to ingest and keeps the ledger: every answer, and every sale ingest stored
 * (answered `accepted` or `duplicate`, which means an earlier copy was stored).
 */
export class IngestLedger {
  readonly stored = new Map<string, SaleInput>();
  readonly answers: Answer[] = [];

  constructor(private readonly ingestUrl: string) {}

  /** POST /v1/sales; returns the sale's status (or `http <code>`). */
  async sendOne(sale: SaleInput): Promise<ItemStatus | `http ${number}`> {
    const at = Date.now();
    const res = await post(`${this.ingestUrl}/v1/sales`, sale);
    const text = await res.text();
    if (res.status !== 202) {
      this.answers.push({
        at,
        endpoint: 'single',
        httpStatus: res.status,
        sales: 1,
        statuses: {},
        body: text,
      });
      return `http ${res.status}`;
    }
    const status = (JSON.parse(text) as { status: ItemStatus }).status;
    if (status === 'accepted' || status === 'duplicate') this.stored.set(sale.saleId, sale);
    this.answers.push({ at, endpoint: 'single', httpStatus: 202, sales: 1, statuses: { [status]: 1 } });
    return status;
  }

  /** POST /v1/sales/batch (a JSON array); returns the per-status counts of the answer. */
  async sendBatch(sales: readonly SaleInput[]): Promise<Answer> {
    const at = Date.now();
    const res = await post(`${this.ingestUrl}/v1/sales/batch`, sales);
    const text = await res.text();
    const statuses: Partial<Record<ItemStatus, number>> = {};
    let body: { results?: Array<{ index: number; status: ItemStatus }> } = {};
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as text below.
    }
    for (const result of body.results ?? []) {
      statuses[result.status] = (statuses[result.status] ?? 0) + 1;
      if (result.status === 'accepted' || result.status === 'duplicate') {
        const sale = sales[result.index]!;
        this.stored.set(sale.saleId, sale);
      }
    }
    const answer: Answer = {
      at,
      endpoint: 'batch',
      httpStatus: res.status,
      sales: sales.length,
      statuses,
      ...(res.status !== 202 && { body: text.slice(0, 2000) }),
    };
    this.answers.push(answer);
    return answer;
  }

  /** Answers that were not a 202 with every sale accepted or duplicate. */
  failures(from = 0, to = Number.POSITIVE_INFINITY): Answer[] {
    return this.answers.filter(
      (a) =>
        a.at >= from &&
        a.at < to &&
        (a.httpStatus !== 202 || (a.statuses.accepted ?? 0) + (a.statuses.duplicate ?? 0) !== a.sales),
    );
  }

  expected(): Expected {
    return expectedOf(this.stored.values());
  }
}

export interface LoadOptions {
  /** Sales per batch POST, drawn uniformly from [min, max]. */
  readonly batchSize: readonly [number, number];
  /** Share of requests that are a single POST /v1/sales instead of a batch. */
  readonly singleShare: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Pause of each lane between its requests (pacing). */
  readonly pauseMs: number;
  /** Keeps sending while this is true (asked before every request). */
  readonly more: () => boolean;
}

/** Sends generated sales through ingest until `more()` turns false; resolves when the last answer is in. */
export async function runLoad(
  generator: SaleGenerator,
  ledger: IngestLedger,
  random: Random,
  options: LoadOptions,
): Promise<void> {
  const lane = async () => {
    while (options.more()) {
      if (random.chance(options.singleShare)) await ledger.sendOne(generator.next());
      else await ledger.sendBatch(generator.take(random.int(...options.batchSize)));
      if (options.pauseMs > 0) await sleep(options.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
