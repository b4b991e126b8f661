import { MAX_LINES, type SaleInput, type SaleLineInput } from '@tally/contracts';
import { HEAD_FIELDS, type RowMapper, type RowProblem, type SaleHead } from '../mapping/row.mapper.js';
import { saleIdOf } from '../mapping/sale-id.js';
import type { CsvItem } from './csv.reader.js';
import { keyHash } from './split-receipt.scanner.js';

/**
 * Mapped rows → receipts. With grouping `consecutive`, rows with the same order id next to
 * each other are the lines of one receipt (rows without an order id and unreadable rows do
 * not end a receipt); with `none`, every row is a receipt. Only the receipt being assembled is
 * held, and at most MAX_LINES rows of it, so memory does not depend on the file.
 *
 * A receipt is all or nothing: a sale stored without one of its lines could never be completed
 * (its sale id would then be taken), so one bad row rejects every row of its receipt. Each
 * rejected row is reported with its line and reason:
 * - its own problems (a date that does not match the format, a decimal, an unknown product...),
 *   or `receipt-rejected` naming the line that sank its receipt;
 * - `receipt-inconsistent`: sale-level fields (branch, time, customer...) differ between rows;
 * - `receipt-not-consecutive` / `duplicate-order-id`: the order id occurs elsewhere in the file
 *   too (found by the split-receipt scan before anything is sent);
 * - `too-many-lines`: more than MAX_LINES rows share one order id;
 * - `adjacent-unreadable`: a row that cannot be read or has no order id sits next to the
 *   receipt and may belong to it.
 */

export interface SourceRow {
  readonly line: number;
  readonly raw: string;
}

export interface Rejection extends SourceRow {
  readonly key?: string;
  readonly saleId?: string;
  readonly rule: string;
  readonly reason: string;
}

/** A complete receipt: `rows[i]` is the source of `sale.lines[i]`. */
export interface Receipt {
  readonly kind: 'receipt';
  readonly key: string;
  readonly sale: SaleInput;
  readonly rows: readonly SourceRow[];
}

export interface RejectedRows {
  readonly kind: 'rejected';
  readonly rows: readonly Rejection[];
  /** A whole receipt was rejected (not only rows without an order id or unreadable ones). */
  readonly receipt: boolean;
}

export type GroupedItem = Receipt | RejectedRows;

export interface GroupOptions {
  readonly grouping: 'consecutive' | 'none';
  /** Keys found in more than one place by the split-receipt scan, with how many. */
  readonly split: ReadonlyMap<bigint, number>;
  readonly keyColumns: string;
}

interface Pending {
  readonly key: string;
  readonly saleId: string;
  readonly rows: SourceRow[];
  readonly lines: SaleLineInput[];
  readonly problems: Array<{ index: number; problems: RowProblem[] }>;
  head?: SaleHead;
  headSignature?: string;
  /** Rule and reason that reject every row, whatever the rows say. */
  verdict?: { rule: string; reason: string };
  /** Rows beyond MAX_LINES: already reported, none held. */
  overflow: number;
}

export async function* groupReceipts(
  items: AsyncIterable<CsvItem>,
  mapper: RowMapper,
  options: GroupOptions,
): AsyncGenerator<GroupedItem> {
  let current: Pending | undefined;
  /** Line of an unreadable or key-less row that the next receipt may have lost. */
  let taintNext: number | undefined;

  for await (const item of items) {
    if (item.kind === 'unreadable') {
      yield {
        kind: 'rejected',
        receipt: false,
        rows: [{ line: item.line, raw: item.raw, rule: item.rule, reason: item.message }],
      };
      if (options.grouping === 'consecutive') {
        if (current !== undefined) taint(current, item.line);
        taintNext = item.line;
      }
      continue;
    }
    const mapped = mapper.map(item.fields);
    if (mapped.key === undefined) {
      yield {
        kind: 'rejected',
        receipt: false,
        rows: [{ line: item.line, raw: item.raw, ...describeProblems(mapped.ok ? [] : mapped.problems) }],
      };
      if (options.grouping === 'consecutive') {
        if (current !== undefined) taint(current, item.line);
        taintNext = item.line;
      }
      continue;
    }
    if (current === undefined || options.grouping === 'none' || current.key !== mapped.key) {
      if (current !== undefined) yield close(current);
      current = open(mapped.key, mapper, options);
      if (taintNext !== undefined) taint(current, taintNext);
    }
    taintNext = undefined;

    const row: SourceRow = { line: item.line, raw: item.raw };
    if (current.rows.length + current.overflow >= MAX_LINES) {
      // Too many rows for one receipt: report what is held, hold nothing more.
      current.verdict = {
        rule: 'too-many-lines',
        reason: `more than ${MAX_LINES} rows have order id ${current.key}; a receipt holds at most ${MAX_LINES} lines`,
      };
      const held = current.rows.splice(0);
      current.lines.length = 0;
      current.problems.length = 0;
      current.overflow += held.length + 1;
      yield {
        kind: 'rejected',
        receipt: false,
        rows: [...held, row].map((r) => reject(current!, r, current!.verdict!)),
      };
      continue;
    }
    if (current.overflow > 0) {
      current.overflow++;
      yield { kind: 'rejected', receipt: false, rows: [reject(current, row, current.verdict!)] };
      continue;
    }
    const index = current.rows.length;
    current.rows.push(row);
    if (!mapped.ok) {
      current.problems.push({ index, problems: mapped.problems });
      continue;
    }
    current.lines.push(mapped.line);
    const signature = headSignature(mapped.head);
    if (current.head === undefined) {
      current.head = mapped.head;
      current.headSignature = signature;
    } else if (signature !== current.headSignature) {
      current.problems.push({ index, problems: inconsistencies(current.head, mapped.head, mapper) });
    }
  }
  if (current !== undefined) yield close(current);
}

function open(key: string, mapper: RowMapper, options: GroupOptions): Pending {
  const pending: Pending = {
    key,
    saleId: saleIdOf(mapper.saleIdPrefix, key),
    rows: [],
    lines: [],
    problems: [],
    overflow: 0,
  };
  const places = options.split.get(keyHash(key));
  if (places !== undefined) {
    pending.verdict =
      options.grouping === 'consecutive'
        ? {
            rule: 'receipt-not-consecutive',
            reason: `the rows of order ${key} are not consecutive: they sit in ${places} separate places in the file; sort it by ${options.keyColumns} (nothing of this order was imported)`,
          }
        : {
            rule: 'duplicate-order-id',
            reason: `order id ${key} is on ${places} rows; with grouping "none" every row needs its own (nothing of this order was imported)`,
          };
  }
  return pending;
}

function taint(pending: Pending, line: number): void {
  pending.verdict ??= {
    rule: 'adjacent-unreadable',
    reason: `line ${line} next to this receipt could not be read or has no order id and may belong to it; fix that line and import both again`,
  };
}

function close(pending: Pending): GroupedItem {
  if (pending.overflow > 0) return { kind: 'rejected', receipt: true, rows: [] };
  if (pending.verdict !== undefined) {
    return {
      kind: 'rejected',
      receipt: true,
      rows: pending.rows.map((row) => reject(pending, row, pending.verdict!)),
    };
  }
  if (pending.problems.length > 0) return rejectReceipt(pending, pending.problems);
  const sale = { saleId: pending.saleId, ...pending.head!, lines: pending.lines } as SaleInput;
  return { kind: 'receipt', key: pending.key, sale, rows: pending.rows };
}

/** Rejects every row of a receipt: rows with problems give their own, the others name the first. */
export function rejectReceipt(
  pending: { readonly key: string; readonly saleId: string; readonly rows: readonly SourceRow[] },
  problems: ReadonlyArray<{ index: number; problems: readonly RowProblem[] }>,
): RejectedRows {
  const byIndex = new Map<number, RowProblem[]>();
  for (const { index, problems: list } of problems)
    byIndex.set(index, [...(byIndex.get(index) ?? []), ...list]);
  const first = problems[0]!;
  const firstReason = describeProblems(first.problems).reason;
  const rows = pending.rows.map((row, index) => {
    const own = byIndex.get(index);
    if (own !== undefined) return reject(pending, row, describeProblems(own));
    return reject(pending, row, {
      rule: 'receipt-rejected',
      reason: `the receipt of order ${pending.key} is rejected as a whole: line ${pending.rows[first.index]?.line ?? '?'}: ${firstReason}`,
    });
  });
  return { kind: 'rejected', receipt: true, rows };
}

function reject(
  pending: Pick<Pending, 'key' | 'saleId'>,
  row: SourceRow,
  why: { rule: string; reason: string },
): Rejection {
  return {
    line: row.line,
    raw: row.raw,
    key: pending.key,
    saleId: pending.saleId,
    rule: why.rule,
    reason: why.reason,
  };
}

/** Rule of the first problem; a reason naming each field, its column and what is wrong. */
export function describeProblems(problems: readonly RowProblem[]): { rule: string; reason: string } {
  if (problems.length === 0) return { rule: 'invalid', reason: 'the row could not be mapped' };
  return {
    rule: problems[0]!.rule,
    reason: problems
      .map(
        (p) => `${p.field}${p.column !== undefined ? ` (column ${p.column})` : ''}: ${p.rule}: ${p.message}`,
      )
      .join('; '),
  };
}

function headSignature(head: SaleHead): string {
  let signature = '';
  for (const field of HEAD_FIELDS) signature += `${head[field] ?? ''}\u0000`;
  return signature;
}

function inconsistencies(first: SaleHead, other: SaleHead, mapper: RowMapper): RowProblem[] {
  return HEAD_FIELDS.filter((field) => first[field] !== other[field]).map((field) => {
    const column = mapper.columnOf(`/${field}`);
    return {
      field,
      ...(column !== undefined && { column }),
      rule: 'receipt-inconsistent',
      message: `${JSON.stringify(other[field] ?? '')} differs from ${JSON.stringify(first[field] ?? '')} on the receipt's first row`,
    };
  });
}
