import { formatMoney } from '../check/agreement.js';

/** One category of the reference, as the demo prints it. */
export interface CategoryRow {
  readonly lines: number;
  readonly withoutCategory: number;
  readonly netUnits: bigint;
}

/**
 * The acknowledged lines per category: how many, how many were sent without a category (ingest
 * filled it from the catalog), and their net revenue. Printed above the check, whose `ok` then
 * also means the store holds each of these net revenues.
 */
export function categoryLines(categories: ReadonlyMap<string, CategoryRow>, currency = ''): string[] {
  const rows: string[][] = [
    ['category', 'lines', 'sent without category', `net revenue${currency ? ` (${currency})` : ''}`],
    ...[...categories]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([category, c]) => [
        category,
        String(c.lines),
        String(c.withoutCategory),
        formatMoney(c.netUnits),
      ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines;
}
