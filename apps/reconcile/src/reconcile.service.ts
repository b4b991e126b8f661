import { type Sale, type StreamedSale, signedToUnits } from '@tally/contracts';

/**
 * Reconciliation of the two stores the writer fills from the same stream: Postgres and Spanner.
 *
 * 1. Both stores report, per branch and UTC day of occurredAt, the count, the exact signed net sum
 *    and a digest of the sale ids (`dailyTotals`, computed by each database). Equal triples mean the
 *    day agrees (two different id sets agree only by a 60-bit accident).
 * 2. For each day that differs, both stores list that day's sales (id and net total) and the lists
 *    are compared: which ids each side lacks, and which ids both hold with different net totals.
 * 3. An id one side lacks on that day is looked up by key in that side: if it is stored there
 *    under another branch or day (a sale id reused with other content), it is not missing but
 *    differs; it is never repaired (which version is right is a human decision).
 * 4. Repair copies each missing sale into the store that lacks it: the stream's copy when the
 *    stream still holds the message the other store recorded (`streamSeq`), else the other
 *    store's copy. Writes go through the stores' own idempotent writers.
 *
 * The comparisons are pure functions over rows (unit-tested); the service only fetches and writes
 * through the ports below, so it runs against fakes as well as the real stores.
 */

export const STORES = ['postgres', 'spanner'] as const;
export type StoreName = (typeof STORES)[number];

/** Digest of no sale ids (the XOR of nothing), as the stores write it: 15 hex zeros. */
export const EMPTY_DIGEST = '0'.repeat(15);

/** One branch's sales of one UTC day, as each store's `dailyTotals` reports them. */
export interface DailyTotal {
  readonly branchId: string;
  readonly day: string;
  readonly count: number;
  readonly netTotal: string;
  readonly digest: string;
}

/** One sale's id and signed net total, as each store's `saleTotals` reports them. */
export interface SaleNetTotal {
  readonly saleId: string;
  readonly netTotal: string;
}

export interface DayFigures {
  readonly count: number;
  readonly netTotal: string;
  readonly digest: string;
}

/** What differs between the stores' figures for one day. */
export type Difference = 'count' | 'total' | 'digest';

export interface DayComparison {
  readonly branchId: string;
  readonly day: string;
  /** A day a store holds no sale of reads as count 0, total 0, the empty digest. */
  readonly postgres: DayFigures;
  readonly spanner: DayFigures;
  /** Empty when the day agrees. */
  readonly differences: readonly Difference[];
}

const NO_SALES: DayFigures = { count: 0, netTotal: '0', digest: EMPTY_DIGEST };

/**
 * Pairs the two stores' daily rows by (branchId, day) and says which figures differ. Every
 * (branch, day) either store reports appears once, ordered by branch, then day.
 */
export function compareDailyTotals(
  postgres: readonly DailyTotal[],
  spanner: readonly DailyTotal[],
): DayComparison[] {
  const days = new Map<
    string,
    { branchId: string; day: string; postgres?: DayFigures; spanner?: DayFigures }
  >();
  const add = (store: StoreName, rows: readonly DailyTotal[]) => {
    for (const row of rows) {
      const key = `${row.branchId}\u0000${row.day}`;
      const entry = days.get(key) ?? { branchId: row.branchId, day: row.day };
      if (entry[store] !== undefined) {
        throw new Error(`${store} reported ${row.branchId} ${row.day} twice`);
      }
      entry[store] = { count: row.count, netTotal: row.netTotal, digest: row.digest };
      days.set(key, entry);
    }
  };
  add('postgres', postgres);
  add('spanner', spanner);
  return [...days.values()]
    .map((entry) => {
      const pg = entry.postgres ?? NO_SALES;
      const sp = entry.spanner ?? NO_SALES;
      const differences: Difference[] = [];
      if (pg.count !== sp.count) differences.push('count');
      if (signedToUnits(pg.netTotal) !== signedToUnits(sp.netTotal)) differences.push('total');
      if (pg.digest !== sp.digest) differences.push('digest');
      return { branchId: entry.branchId, day: entry.day, postgres: pg, spanner: sp, differences };
    })
    .sort(byBranchAndDay);
}

export interface SalesComparison {
  /** Ids Spanner holds and Postgres does not, in code-point order. */
  readonly missingInPostgres: string[];
  /** Ids Postgres holds and Spanner does not, in code-point order. */
  readonly missingInSpanner: string[];
  /** Ids both hold with different signed net totals, in code-point order. */
  readonly differs: { readonly saleId: string; readonly postgres: string; readonly spanner: string }[];
}

/** Compares two lists of (saleId, net total): what each side lacks and what both hold differently. */
export function compareSaleTotals(
  postgres: readonly SaleNetTotal[],
  spanner: readonly SaleNetTotal[],
): SalesComparison {
  const inSpanner = new Map(spanner.map((s) => [s.saleId, s.netTotal]));
  const inPostgres = new Map(postgres.map((s) => [s.saleId, s.netTotal]));
  const missingInSpanner: string[] = [];
  const differs: SalesComparison['differs'] = [];
  for (const [saleId, netTotal] of inPostgres) {
    const other = inSpanner.get(saleId);
    if (other === undefined) missingInSpanner.push(saleId);
    else if (signedToUnits(other) !== signedToUnits(netTotal)) {
      differs.push({ saleId, postgres: netTotal, spanner: other });
    }
  }
  const missingInPostgres = [...inSpanner.keys()].filter((id) => !inPostgres.has(id));
  return {
    missingInPostgres: missingInPostgres.sort(byCodePoint),
    missingInSpanner: missingInSpanner.sort(byCodePoint),
    differs: differs.sort((a, b) => byCodePoint(a.saleId, b.saleId)),
  };
}

/** Where and how one store holds a sale. */
export interface SaleVersion {
  readonly branchId: string;
  readonly day: string;
  /** Signed (a return negative). */
  readonly netTotal: string;
}

/** A sale both stores hold, in different versions (total, or branch or day). Never repaired. */
export interface DifferingSale {
  readonly saleId: string;
  readonly postgres: SaleVersion;
  readonly spanner: SaleVersion;
}

export interface DayReport extends DayComparison {
  readonly missingInPostgres: readonly string[];
  readonly missingInSpanner: readonly string[];
  /** Ids of the day held by both stores in different versions (see ReconcileReport.differing). */
  readonly differs: readonly string[];
}

export interface ReconcileQuery {
  /** Inclusive lower bound on occurredAt. */
  readonly from: Date;
  /** Exclusive upper bound on occurredAt. */
  readonly to: Date;
  readonly branchId?: string | undefined;
}

export interface ReconcileReport {
  readonly query: ReconcileQuery;
  /** (branch, day) groups either store holds a sale of in the range. */
  readonly daysCompared: number;
  /** The groups that differ, by branch then day. */
  readonly days: readonly DayReport[];
  /** Sales both stores hold in different versions, by id. */
  readonly differing: readonly DifferingSale[];
  /** Sales each store lacks. */
  readonly missing: Readonly<Record<StoreName, number>>;
  readonly agree: boolean;
}

/** What reconciliation needs of a store; @tally/postgres and @tally/spanner repositories behind it. */
export interface ReconcileStore {
  dailyTotals(query: ReconcileQuery): Promise<DailyTotal[]>;
  saleTotals(query: { branchId: string; from: Date; to: Date }): Promise<SaleNetTotal[]>;
  /** Stored sales as the stream carried them (with streamSeq); ids not stored are left out. */
  findSales(saleIds: readonly string[]): Promise<StreamedSale[]>;
  /** The store's own idempotent write (a sale already stored stays as it is or is rewritten the same). */
  write(sales: readonly StreamedSale[]): Promise<void>;
}

/** One message of the sales stream, read by sequence. */
export interface StreamMessage {
  readonly sales: readonly Sale[];
  readonly requestId?: string | undefined;
}

export interface SaleStream {
  /** The message at `seq`; undefined when the stream no longer holds it. Throws if it cannot be read. */
  message(seq: number): Promise<StreamMessage | undefined>;
}

export type Stores = Readonly<Record<StoreName, ReconcileStore>>;

export interface StoreRepair {
  /** The store written into. */
  readonly into: StoreName;
  /** The store the missing ids were found in (and copied from when the stream no longer had them). */
  readonly from: StoreName;
  /** Copied from the stream message the other store recorded. */
  readonly fromStream: readonly string[];
  /** Copied from the other store: the stream no longer held the sale (or could not be read). */
  readonly fromStore: readonly string[];
  /** No longer in the other store either (deleted since it was compared): nothing to copy. */
  readonly notFound: readonly string[];
}

export interface RepairReport {
  readonly repairs: readonly StoreRepair[];
  /** Why the stream could not be read, when it could not (repairs then came from the stores). */
  readonly streamError?: string;
}

/** Sale ids per findSales/write round trip of a repair. */
const REPAIR_CHUNK = 500;

export class ReconcileService {
  constructor(
    private readonly stores: Stores,
    /** Undefined: no stream to read (repairs copy from the other store). */
    private readonly stream?: SaleStream,
  ) {}

  /** Compares the stores over the range; reads only. */
  async reconcile(query: ReconcileQuery): Promise<ReconcileReport> {
    const [pgDays, spDays] = await Promise.all([
      this.stores.postgres.dailyTotals(query),
      this.stores.spanner.dailyTotals(query),
    ]);
    const comparisons = compareDailyTotals(pgDays, spDays);

    const candidates: { comparison: DayComparison; sales: SalesComparison }[] = [];
    for (const comparison of comparisons) {
      if (comparison.differences.length === 0) continue;
      const { from, to } = clampDay(comparison.day, query);
      const range = { branchId: comparison.branchId, from, to };
      const [pgSales, spSales] = await Promise.all([
        this.stores.postgres.saleTotals(range),
        this.stores.spanner.saleTotals(range),
      ]);
      candidates.push({ comparison, sales: compareSaleTotals(pgSales, spSales) });
    }

    // An id one side lacks on this day may be stored there under another branch or day: a sale id
    // reused with other content (Postgres keeps the first version, Spanner the last). The lacking
    // side is read by key (for an id really missing, an empty answer); for an id it does hold, the
    // other side's version is read too, so it is reported as differing with both versions instead
    // of missing, and never "repaired" over the other version.
    const unique = (ids: string[]) => [...new Set(ids)];
    const [spannerElsewhere, postgresElsewhere] = await Promise.all([
      versions(this.stores.spanner, unique(candidates.flatMap((c) => c.sales.missingInSpanner))),
      versions(this.stores.postgres, unique(candidates.flatMap((c) => c.sales.missingInPostgres))),
    ]);
    const [postgresHolds, spannerHolds] = await Promise.all([
      versions(this.stores.postgres, [...spannerElsewhere.keys()]),
      versions(this.stores.spanner, [...postgresElsewhere.keys()]),
    ]);
    const inPostgres = new Map([...postgresElsewhere, ...postgresHolds]);
    const inSpanner = new Map([...spannerElsewhere, ...spannerHolds]);

    const differing = new Map<string, DifferingSale>();
    const days: DayReport[] = [];
    for (const { comparison, sales } of candidates) {
      const { branchId, day } = comparison;
      const differs = new Set<string>();
      for (const d of sales.differs) {
        differing.set(d.saleId, {
          saleId: d.saleId,
          postgres: { branchId, day, netTotal: d.postgres },
          spanner: { branchId, day, netTotal: d.spanner },
        });
        differs.add(d.saleId);
      }
      const missingIn = { postgres: [] as string[], spanner: [] as string[] };
      for (const [store, ids] of [
        ['spanner', sales.missingInSpanner],
        ['postgres', sales.missingInPostgres],
      ] as const) {
        for (const saleId of ids) {
          const pg = inPostgres.get(saleId);
          const sp = inSpanner.get(saleId);
          if ((store === 'spanner' ? sp : pg) === undefined) {
            missingIn[store].push(saleId);
          } else if (pg !== undefined && sp !== undefined) {
            differing.set(saleId, { saleId, postgres: pg, spanner: sp });
            differs.add(saleId);
          }
          // else: gone from the side that held it since the day was listed; nothing to report here.
        }
      }
      // No id-level difference: the daily figures raced a writer between the two reads, and the
      // day's sales now agree.
      if (missingIn.postgres.length + missingIn.spanner.length + differs.size === 0) continue;
      days.push({
        ...comparison,
        missingInPostgres: missingIn.postgres,
        missingInSpanner: missingIn.spanner,
        differs: [...differs].sort(byCodePoint),
      });
    }
    const differingSales = [...differing.values()].sort((a, b) => byCodePoint(a.saleId, b.saleId));

    const missing = {
      postgres: sum(days.map((d) => d.missingInPostgres.length)),
      spanner: sum(days.map((d) => d.missingInSpanner.length)),
    };
    return {
      query,
      daysCompared: comparisons.length,
      days,
      differing: differingSales,
      missing,
      agree: days.length === 0,
    };
  }

  /**
   * Copies every sale the report found missing into the store that lacks it: from the stream when
   * the message the other store recorded still holds the sale, else from the other store. Sales
   * that differ are left alone. Idempotent: a sale stored meanwhile (the writer caught up) is
   * written again unchanged.
   */
  async repair(report: ReconcileReport): Promise<RepairReport> {
    const state: { streamError?: string } = {};
    const cache = new Map<number, Promise<StreamMessage | undefined>>();
    const repairs: StoreRepair[] = [];
    for (const [into, from] of [
      ['spanner', 'postgres'],
      ['postgres', 'spanner'],
    ] as const) {
      const ids = report.days.flatMap((d) => (into === 'spanner' ? d.missingInSpanner : d.missingInPostgres));
      if (ids.length === 0) continue;
      const repair = {
        into,
        from,
        fromStream: [] as string[],
        fromStore: [] as string[],
        notFound: [] as string[],
      };
      for (let i = 0; i < ids.length; i += REPAIR_CHUNK) {
        const chunk = ids.slice(i, i + REPAIR_CHUNK);
        const copies = await this.stores[from].findSales(chunk);
        const found = new Set(copies.map((c) => c.sale.saleId));
        repair.notFound.push(...chunk.filter((id) => !found.has(id)));
        const toWrite: StreamedSale[] = [];
        for (const copy of copies) {
          const streamed = await this.fromStream(copy, cache, state);
          if (streamed) repair.fromStream.push(copy.sale.saleId);
          else repair.fromStore.push(copy.sale.saleId);
          toWrite.push(streamed ?? copy);
        }
        if (toWrite.length > 0) await this.stores[into].write(toWrite);
      }
      repairs.push(repair);
    }
    return { repairs, ...(state.streamError !== undefined && { streamError: state.streamError }) };
  }

  /** The sale as the stream message `copy.streamSeq` carries it, if the stream still holds it there. */
  private async fromStream(
    copy: StreamedSale,
    cache: Map<number, Promise<StreamMessage | undefined>>,
    state: { streamError?: string },
  ): Promise<StreamedSale | undefined> {
    if (!this.stream || state.streamError !== undefined) return undefined;
    let message = cache.get(copy.streamSeq);
    if (!message) {
      message = this.stream.message(copy.streamSeq);
      cache.set(copy.streamSeq, message);
    }
    try {
      const found = (await message)?.sales.find((s) => s.saleId === copy.sale.saleId);
      if (!found) return undefined;
      const requestId = (await message)?.requestId;
      return { sale: found, streamSeq: copy.streamSeq, ...(requestId !== undefined && { requestId }) };
    } catch (error) {
      // The stream cannot be read (NATS down, stream gone): say so once, copy from the stores.
      state.streamError = (error as Error).message;
      return undefined;
    }
  }
}

/** The versions `store` holds of `saleIds`, by id (ids it does not hold are absent). */
async function versions(
  store: ReconcileStore,
  saleIds: readonly string[],
): Promise<Map<string, SaleVersion>> {
  if (saleIds.length === 0) return new Map();
  const found = await store.findSales(saleIds);
  return new Map(found.map(({ sale }) => [sale.saleId, versionOf(sale)]));
}

export function versionOf(sale: Sale): SaleVersion {
  return {
    branchId: sale.branchId,
    day: new Date(sale.occurredAt).toISOString().slice(0, 10),
    netTotal: sale.kind === 'return' && sale.total !== '0' ? `-${sale.total}` : sale.total,
  };
}

/** The UTC day `YYYY-MM-DD` within the query's range: [max(midnight, from), min(next midnight, to)). */
export function clampDay(day: string, query: { from: Date; to: Date }): { from: Date; to: Date } {
  const start = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(start)) throw new RangeError(`day ${JSON.stringify(day)} is not YYYY-MM-DD`);
  return {
    from: new Date(Math.max(start, query.from.getTime())),
    to: new Date(Math.min(start + 86_400_000, query.to.getTime())),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byBranchAndDay(a: { branchId: string; day: string }, b: { branchId: string; day: string }): number {
  return byCodePoint(a.branchId, b.branchId) || byCodePoint(a.day, b.day);
}
