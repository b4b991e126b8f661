import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Rejection } from './receipt.grouper.js';

/**
 * The rejects file: one CSV row per rejected source row, with its line number in the imported
 * file, the order id and sale id when known, the rule, a reason naming the field and column,
 * and the row as it was written. Written as rejections happen (local ones at once, ingest's when
 * its reply comes), so its rows are not in line order; sort by `line` to read it in file order.
 */

export const REJECTS_HEADER = ['line', 'order_id', 'sale_id', 'rule', 'reason', 'raw'] as const;

export class RejectsWriter {
  rows = 0;

  private constructor(
    readonly file: string,
    private readonly stream: WriteStream,
  ) {}

  /** Creates (or truncates) the file; throws if it cannot be written. */
  static async open(file: string): Promise<RejectsWriter> {
    const stream = createWriteStream(file, { encoding: 'utf8' });
    await once(stream, 'open');
    stream.write(`${REJECTS_HEADER.join(',')}\n`);
    return new RejectsWriter(file, stream);
  }

  async write(rows: readonly Rejection[]): Promise<void> {
    if (rows.length === 0) return;
    let text = '';
    for (const row of rows) {
      text += `${row.line},${csvField(row.key ?? '')},${csvField(row.saleId ?? '')},${csvField(row.rule)},${csvField(row.reason)},${csvField(row.raw)}\n`;
    }
    this.rows += rows.length;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
