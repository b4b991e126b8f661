import type { DayReport, ReconcileReport, RepairReport, StoreRepair } from './reconcile.service.js';

/** Ids listed per list in the table's details; --json lists them all. */
const IDS_SHOWN = 10;

type Phase = 'check' | 'after-repair';

/** The report as a table of the days that differ, details of their ids, and a summary line. */
export function formatReport(report: ReconcileReport, phase: Phase = 'check'): string[] {
  const lines: string[] = [];
  if (phase === 'check') lines.push(`Postgres vs Spanner: ${describeRange(report)}`);
  if (report.days.length > 0) {
    lines.push(...table(report.days));
    for (const day of report.days) {
      for (const [label, ids] of [
        ['missing in postgres', day.missingInPostgres],
        ['missing in spanner', day.missingInSpanner],
        ['differs', day.differs],
      ] as const) {
        if (ids.length > 0) lines.push(`  ${day.branchId} ${day.day} ${label}: ${idList(ids)}`);
      }
    }
    for (const d of report.differing) {
      lines.push(
        `  differs ${d.saleId}: postgres ${d.postgres.branchId} ${d.postgres.day} ${d.postgres.netTotal}, ` +
          `spanner ${d.spanner.branchId} ${d.spanner.day} ${d.spanner.netTotal}`,
      );
    }
  }
  lines.push(`${phase === 'after-repair' ? 'after repair: ' : ''}${summary(report)}`);
  return lines;
}

export function summary(report: ReconcileReport): string {
  const days = `${report.daysCompared} day${report.daysCompared === 1 ? '' : 's'} compared`;
  if (report.agree) return `${days}, the stores agree`;
  return (
    `${days}, ${report.days.length} differ: ${sales(report.missing.postgres)} missing in postgres, ` +
    `${report.missing.spanner} missing in spanner, ${report.differing.length} differing`
  );
}

export function formatRepair(repair: RepairReport): string[] {
  const lines = repair.repairs.map((r) => {
    const copied = r.fromStream.length + r.fromStore.length;
    const gone =
      r.notFound.length > 0 ? `; ${r.notFound.length} no longer in ${r.from}: ${idList(r.notFound)}` : '';
    return (
      `repaired ${r.into}: copied ${sales(copied)} (${r.fromStream.length} from the stream, ` +
      `${r.fromStore.length} from ${r.from})${gone}` +
      detail('from the stream', r.fromStream) +
      detail(`from ${r.from}`, r.fromStore)
    );
  });
  if (repair.streamError !== undefined) {
    lines.push(`the stream could not be read (${repair.streamError}); copied from the other store instead`);
  }
  return lines;
}

/** One JSON object per line: each differing day, each differing sale, a summary. */
export function jsonReport(report: ReconcileReport, phase: Phase = 'check'): string[] {
  const lines: string[] = [];
  if (phase === 'check') {
    for (const day of report.days) lines.push(JSON.stringify({ type: 'day', ...day }));
    for (const sale of report.differing) lines.push(JSON.stringify({ type: 'differing-sale', ...sale }));
  }
  lines.push(
    JSON.stringify({
      type: 'summary',
      phase,
      from: report.query.from.toISOString(),
      to: report.query.to.toISOString(),
      ...(report.query.branchId !== undefined && { branchId: report.query.branchId }),
      agree: report.agree,
      daysCompared: report.daysCompared,
      daysDiffering: report.days.length,
      missingInPostgres: report.missing.postgres,
      missingInSpanner: report.missing.spanner,
      differing: report.differing.length,
    }),
  );
  return lines;
}

export function jsonRepair(repair: RepairReport): string[] {
  const lines = repair.repairs.map((r: StoreRepair) =>
    JSON.stringify({
      type: 'repair',
      into: r.into,
      copied: { stream: r.fromStream, [r.from]: r.fromStore },
      notFound: r.notFound,
    }),
  );
  if (repair.streamError !== undefined) {
    lines.push(JSON.stringify({ type: 'stream-error', message: repair.streamError }));
  }
  return lines;
}

function describeRange(report: ReconcileReport): string {
  const { from, to, branchId } = report.query;
  return `${from.toISOString()} to ${to.toISOString()} (exclusive), ${branchId === undefined ? 'all branches' : `branch ${branchId}`}`;
}

const HEADERS = [
  'branch',
  'day',
  'pg count',
  'pg total',
  'spanner count',
  'spanner total',
  'digest',
  'missing in pg',
  'missing in spanner',
  'differs',
] as const;
/** Columns aligned left (text); the rest (numbers) right. */
const LEFT = new Set([0, 1, 6]);

function table(days: readonly DayReport[]): string[] {
  const rows = days.map((d) => [
    d.branchId,
    d.day,
    String(d.postgres.count),
    d.postgres.netTotal,
    String(d.spanner.count),
    d.spanner.netTotal,
    d.differences.includes('digest') ? 'differs' : 'match',
    String(d.missingInPostgres.length),
    String(d.missingInSpanner.length),
    String(d.differs.length),
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (LEFT.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), ...rows.map(line)];
}

function idList(ids: readonly string[]): string {
  const shown = ids.slice(0, IDS_SHOWN).join(', ');
  return ids.length > IDS_SHOWN ? `${shown} (+${ids.length - IDS_SHOWN} more; --json lists all)` : shown;
}

function detail(label: string, ids: readonly string[]): string {
  return ids.length === 0 ? '' : `\n  ${label}: ${idList(ids)}`;
}

function sales(n: number): string {
  return `${n} sale${n === 1 ? '' : 's'}`;
}
