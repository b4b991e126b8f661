import { type FieldError, validateSale } from '@tally/contracts';
import type { RowMapper, RowProblem } from '../mapping/row.mapper.js';
import { type Receipt, type RejectedRows, rejectReceipt } from './receipt.grouper.js';

/**
 * Contract errors (from the local validateSale or from ingest's batch reply) → rejected rows.
 * The rules are the contract's own (@tally/contracts validateSale, the same function ingest
 * runs): nothing is re-implemented here, only each error's JSON pointer is traced back to the
 * row it came from (`/lines/2/...` → the receipt's third row) and the column it was read from.
 */

export function validateReceipt(
  receipt: Receipt,
  mapper: RowMapper,
  options: { maxFutureSkewMs: number; now?: number },
): RejectedRows | undefined {
  const result = validateSale(receipt.sale, options);
  return result.ok ? undefined : rejectForErrors(receipt, result.errors, mapper);
}

/** Every row of the receipt rejected, each error at the row its pointer names (sale-level ones at the first row). */
export function rejectForErrors(
  receipt: Receipt,
  errors: readonly FieldError[],
  mapper: RowMapper,
): RejectedRows {
  const byRow = new Map<number, RowProblem[]>();
  for (const error of errors) {
    const match = /^\/lines\/(\d+)(\/.*)?$/.exec(error.pointer);
    const index = match === null ? 0 : Math.min(Number(match[1]), receipt.rows.length - 1);
    const column = mapper.columnOf(error.pointer);
    const field =
      match === null ? error.pointer.slice(1) || 'sale' : `lines${(match[2] ?? '').replace(/\//g, '.')}`;
    const problem: RowProblem = {
      field,
      ...(column !== undefined && { column }),
      rule: error.rule,
      message: error.message,
    };
    byRow.set(index, [...(byRow.get(index) ?? []), problem]);
  }
  const problems = [...byRow.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, list]) => ({ index, problems: list }));
  return rejectReceipt({ key: receipt.key, saleId: receipt.sale.saleId, rows: receipt.rows }, problems);
}
