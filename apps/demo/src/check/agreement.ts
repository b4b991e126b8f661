import { fromUnits } from '@tally/contracts';

/**
 * The demo's verdict, as a pure function: what ingest acknowledged (the reference) against what
 * each store holds of this run, by count of receipts (sales and returns) and exact signed net
 * revenue (units of 1/10,000), and, when both sides give it, net revenue per category (which
 * shows that every line landed in its catalog category, also those sent without one). A store
 * agrees when all are equal; otherwise it is named with how far off it is. A store that could
 * not be read disagrees too.
 */
export interface Tally {
  /** Receipts: sales and returns. */
  readonly count: number;
  /** Net revenue in units of 1/10,000: sales minus returns. */
  readonly netUnits: bigint;
  /** Net revenue per category, units of 1/10,000; categories netting to zero may be absent. */
  readonly categories?: ReadonlyMap<string, bigint> | undefined;
}

export interface StoreReading {
  readonly store: string;
  readonly tally?: Tally | undefined;
  /** Why the store could not be read (then tally is absent). */
  readonly error?: string | undefined;
}

export interface Disagreement {
  readonly store: string;
  /** store − reference; absent when unreadable. */
  readonly countDiff?: number;
  readonly netDiff?: bigint;
  /** store − reference per category that differs. */
  readonly categoryDiffs?: ReadonlyMap<string, bigint>;
  /** One sentence: what differs and by how much. */
  readonly reason: string;
}

export interface AgreementReport {
  readonly reference: StoreReading & { readonly tally: Tally };
  readonly stores: readonly StoreReading[];
  readonly disagreements: readonly Disagreement[];
  readonly agree: boolean;
}

export function checkAgreement(
  reference: { readonly store: string; readonly tally: Tally },
  stores: readonly StoreReading[],
): AgreementReport {
  const disagreements: Disagreement[] = [];
  for (const reading of stores) {
    if (reading.tally === undefined) {
      disagreements.push({
        store: reading.store,
        reason: `could not be read: ${reading.error ?? 'no answer'}`,
      });
      continue;
    }
    const countDiff = reading.tally.count - reference.tally.count;
    const netDiff = reading.tally.netUnits - reference.tally.netUnits;
    const categoryDiffs = diffCategories(reference.tally.categories, reading.tally.categories);
    if (countDiff === 0 && netDiff === 0n && categoryDiffs.size === 0) continue;
    const parts: string[] = [];
    if (countDiff !== 0)
      parts.push(`${receipts(Math.abs(countDiff))} ${countDiff < 0 ? 'short' : 'too many'}`);
    if (netDiff !== 0n) {
      parts.push(
        `net revenue ${formatMoney(netDiff < 0n ? -netDiff : netDiff)} ${netDiff < 0n ? 'short' : 'too high'}`,
      );
    }
    if (categoryDiffs.size > 0) {
      parts.push(
        `net revenue by category differs: ${[...categoryDiffs]
          .map(([c, d]) => `${c} ${formatMoney(d < 0n ? -d : d)} ${d < 0n ? 'short' : 'too high'}`)
          .join(', ')}`,
      );
    }
    disagreements.push({
      store: reading.store,
      countDiff,
      netDiff,
      ...(categoryDiffs.size > 0 && { categoryDiffs }),
      reason: `${parts.join(', ')} (holds ${reading.tally.count} receipts, ${formatMoney(reading.tally.netUnits)}; expected ${reference.tally.count}, ${formatMoney(reference.tally.netUnits)})`,
    });
  }
  return { reference, stores, disagreements, agree: disagreements.length === 0 };
}

/** store − reference per category, zero differences left out; empty when either side has no categories. */
function diffCategories(
  reference: ReadonlyMap<string, bigint> | undefined,
  store: ReadonlyMap<string, bigint> | undefined,
): Map<string, bigint> {
  const diffs = new Map<string, bigint>();
  if (reference === undefined || store === undefined) return diffs;
  for (const category of [...new Set([...reference.keys(), ...store.keys()])].sort()) {
    const diff = (store.get(category) ?? 0n) - (reference.get(category) ?? 0n);
    if (diff !== 0n) diffs.set(category, diff);
  }
  return diffs;
}

/** Whether a reading was compared per category (both it and the reference gave categories). */
function comparedByCategory(report: AgreementReport, reading: StoreReading): boolean {
  return report.reference.tally.categories !== undefined && reading.tally?.categories !== undefined;
}

/** The report as an aligned table and a verdict: one line per disagreeing store, naming it. */
export function formatAgreement(report: AgreementReport, currency = ''): string[] {
  const unit = currency ? ` (${currency})` : '';
  const byStore = new Map(report.disagreements.map((d) => [d.store, d]));
  const rows: string[][] = [
    ['store', 'receipts', `net revenue${unit}`, 'check'],
    [
      report.reference.store,
      String(report.reference.tally.count),
      formatMoney(report.reference.tally.netUnits),
      'reference',
    ],
    ...report.stores.map((s) => {
      const d = byStore.get(s.store);
      const check = d === undefined ? 'ok' : s.tally === undefined ? 'UNREADABLE' : diffText(d);
      return [
        s.store,
        s.tally ? String(s.tally.count) : '-',
        s.tally ? formatMoney(s.tally.netUnits) : '-',
        check,
      ];
    }),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const numeric = [false, true, true, false];
  const lines = rows.map((r) =>
    r
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  if (report.agree) {
    const byCategory = report.stores.filter((s) => comparedByCategory(report, s)).length;
    const categories = [...(report.reference.tally.categories ?? new Map())].filter(
      ([, u]) => u !== 0n,
    ).length;
    const also =
      byCategory === 0
        ? ''
        : byCategory === report.stores.length
          ? `, and each of the ${categories} categories' net revenue`
          : `, and (${byCategory} of ${report.stores.length} stores) each of the ${categories} categories' net revenue`;
    lines.push(
      `AGREE: every store holds the ${report.reference.tally.count} acknowledged receipts, net revenue ${formatMoney(report.reference.tally.netUnits)}${currency ? ` ${currency}` : ''}${also}`,
    );
  } else {
    for (const d of report.disagreements) lines.push(`DISAGREE: ${d.store} ${d.reason}`);
  }
  return lines;
}

/** The report for --json: money as exact decimal strings. */
export function agreementJson(report: AgreementReport): object {
  const tally = (t: Tally | undefined) =>
    t && {
      count: t.count,
      netRevenue: fromUnits(t.netUnits),
      ...(t.categories !== undefined && {
        categories: Object.fromEntries(
          [...t.categories]
            .filter(([, u]) => u !== 0n)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([c, u]) => [c, fromUnits(u)]),
        ),
      }),
    };
  return {
    agree: report.agree,
    reference: { store: report.reference.store, ...tally(report.reference.tally) },
    stores: report.stores.map((s) => ({
      store: s.store,
      ...(s.tally ? tally(s.tally) : { error: s.error }),
    })),
    disagreements: report.disagreements.map((d) => ({
      store: d.store,
      reason: d.reason,
      ...(d.countDiff !== undefined && { countDiff: d.countDiff }),
      ...(d.netDiff !== undefined && { netRevenueDiff: fromUnits(d.netDiff) }),
      ...(d.categoryDiffs !== undefined && {
        categoryDiffs: Object.fromEntries([...d.categoryDiffs].map(([c, u]) => [c, fromUnits(u)])),
      }),
    })),
  };
}

function diffText(d: Disagreement): string {
  const parts: string[] = [];
  if (d.countDiff) parts.push(`${d.countDiff > 0 ? '+' : ''}${receipts(d.countDiff)}`);
  if (d.netDiff) parts.push(`${d.netDiff > 0n ? '+' : ''}${formatMoney(d.netDiff)}`);
  for (const [category, diff] of d.categoryDiffs ?? []) {
    parts.push(`${category} ${diff > 0n ? '+' : ''}${formatMoney(diff)}`);
  }
  return `OFF ${parts.join(', ')}`;
}

function receipts(n: number): string {
  return `${n} ${Math.abs(n) === 1 ? 'receipt' : 'receipts'}`;
}

/** Exact decimal with at least two fractional digits: 24381.2 → "24381.20", 1.2345 stays. */
export function formatMoney(units: bigint): string {
  const text = fromUnits(units);
  const dot = text.indexOf('.');
  if (dot < 0) return `${text}.00`;
  return text.length - dot - 1 < 2 ? `${text}0` : text;
}
