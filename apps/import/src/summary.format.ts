import type { ImportSummary } from './pipeline/csv-import.service.js';

/** The summary printed at the end of an import, for people. */
export function formatSummary(s: ImportSummary): string[] {
  const c = s.counts;
  const seconds = s.elapsedMs / 1000;
  const receiptsNotSent = c.receipts - c.accepted - c.duplicate - c.rejected - c.valid;
  const lines = [
    `${s.dryRun ? 'dry run of' : 'imported'} ${s.file} with mapping ${s.mapping} in ${seconds.toFixed(1)} s (${n(seconds > 0 ? Math.round(s.rows / seconds) : s.rows)} rows/s)`,
    `  rows       ${n(s.rows)} read: ${n(c.rowsImported)} imported, ${n(c.rowsRejected)} rejected${s.dryRun ? `, ${n(c.rowsValid)} valid (not sent)` : ''}${s.rowsNotSent > 0 ? `, ${n(s.rowsNotSent)} not sent` : ''}`,
    s.dryRun
      ? `  receipts   ${n(c.receipts)}: ${n(c.valid)} valid, ${n(c.rejected)} rejected`
      : `  receipts   ${n(c.receipts)}: ${n(c.accepted)} new, ${n(c.duplicate)} already stored, ${n(c.rejected)} rejected${receiptsNotSent > 0 ? `, ${n(receiptsNotSent)} not sent` : ''}`,
    `  rejects    ${s.rejectsFile}${c.rowsRejected === 0 ? ' (none)' : ` (${n(c.rowsRejected)} rows, with line and reason)`}`,
  ];
  if (s.aborted !== undefined) {
    lines.push(
      `  STOPPED    ${s.aborted}; importing the file again is safe: what was stored comes back as already stored`,
    );
  }
  return lines;
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}
