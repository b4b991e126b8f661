import { MAX_LINES } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { checkMapping } from '../mapping/mapping.loader.js';
import { RowMapper } from '../mapping/row.mapper.js';
import type { CsvItem } from './csv.reader.js';
import { type GroupedItem, groupReceipts, type Receipt, type RejectedRows } from './receipt.grouper.js';
import { keyHash } from './split-receipt.scanner.js';

const HEADER = ['order', 'branch', 'at', 'customer', 'product', 'price'];
const mapping = (grouping: 'consecutive' | 'none') =>
  checkMapping({
    name: 'test',
    receipt: { key: ['order'], grouping, saleIdPrefix: 't' },
    sale: {
      branchId: { column: 'branch' },
      occurredAt: { column: 'at', format: 'iso' },
      currency: { value: 'EUR' },
      customerId: { column: 'customer' },
    },
    line: { productId: { column: 'product' }, category: { value: 'c' }, unitPrice: { column: 'price' } },
  });

let lineNo = 1;
const row = (...fields: string[]): CsvItem => ({
  kind: 'row',
  line: ++lineNo,
  fields,
  raw: fields.join(','),
});
const unreadable = (): CsvItem => ({
  kind: 'unreadable',
  line: ++lineNo,
  raw: '"x',
  rule: 'csv:CSV_QUOTE_NOT_CLOSED',
  message: 'Quote Not Closed',
});
const sale = (order: string, product = 'p', customer = 'c1', price = '1') =>
  row(order, 'b1', '2024-01-01T10:00:00Z', customer, product, price);

async function group(
  items: CsvItem[],
  grouping: 'consecutive' | 'none' = 'consecutive',
  split = new Map<bigint, number>(),
) {
  const mapper = new RowMapper(mapping(grouping), HEADER);
  async function* source() {
    yield* items;
  }
  const out: GroupedItem[] = [];
  for await (const item of groupReceipts(source(), mapper, { grouping, split, keyColumns: 'order' }))
    out.push(item);
  return out;
}
const receipts = (items: GroupedItem[]) => items.filter((i): i is Receipt => i.kind === 'receipt');
const rejected = (items: GroupedItem[]) =>
  items.filter((i): i is RejectedRows => i.kind === 'rejected').flatMap((i) => i.rows);

describe('receipt grouper', () => {
  it('makes one sale of consecutive rows with the same order id, lines in file order, id from the order', async () => {
    lineNo = 1;
    const out = await group([sale('A', 'p1'), sale('A', 'p2'), sale('B', 'p3'), sale('A', 'p4')]);
    expect(
      receipts(out).map((r) => [
        r.sale.saleId,
        r.sale.lines.map((l) => l.productId),
        r.rows.map((x) => x.line),
      ]),
    ).toEqual([
      ['t:A', ['p1', 'p2'], [2, 3]],
      ['t:B', ['p3'], [4]],
      ['t:A', ['p4'], [5]],
    ]);
  });

  it('makes one sale of every row with grouping none', async () => {
    const out = await group([sale('A'), sale('B'), sale('C')], 'none');
    expect(receipts(out).map((r) => r.sale.saleId)).toEqual(['t:A', 't:B', 't:C']);
  });

  it('rejects every row of a receipt with a bad row: its own reason there, a pointer to it elsewhere', async () => {
    lineNo = 1;
    const out = await group([sale('A', 'p1'), sale('A', 'p2', 'c1', 'abc'), sale('A', 'p3'), sale('B')]);
    expect(receipts(out).map((r) => r.sale.saleId)).toEqual(['t:B']);
    const rows = rejected(out);
    expect(rows.map((r) => [r.line, r.rule])).toEqual([
      [2, 'receipt-rejected'],
      [3, 'decimal'],
      [4, 'receipt-rejected'],
    ]);
    expect(rows[1]!.reason).toBe('lines.unitPrice (column price): decimal: "abc" is not a decimal number');
    expect(rows[0]!.reason).toContain('line 3: lines.unitPrice (column price)');
    expect(rows[0]).toMatchObject({ key: 'A', saleId: 't:A', raw: 'A,b1,2024-01-01T10:00:00Z,c1,p1,1' });
  });

  it('rejects a receipt whose rows disagree on a sale-level field, naming the field and column', async () => {
    lineNo = 1;
    const out = await group([sale('A', 'p1', 'c1'), sale('A', 'p2', 'c2')]);
    expect(receipts(out)).toEqual([]);
    expect(rejected(out)[1]).toMatchObject({
      line: 3,
      rule: 'receipt-inconsistent',
      reason:
        'customerId (column customer): receipt-inconsistent: "c2" differs from "c1" on the receipt\'s first row',
    });
  });

  it('rejects all rows of an order the scan found in separate places, and only those', async () => {
    lineNo = 1;
    const split = new Map([[keyHash('A'), 2]]);
    const out = await group([sale('A'), sale('B'), sale('A')], 'consecutive', split);
    expect(receipts(out).map((r) => r.sale.saleId)).toEqual(['t:B']);
    expect(rejected(out).map((r) => [r.line, r.rule])).toEqual([
      [2, 'receipt-not-consecutive'],
      [4, 'receipt-not-consecutive'],
    ]);
    expect(rejected(out)[0]!.reason).toContain('2 separate places');
  });

  it('rejects the receipts on both sides of an unreadable row, which may have belonged to either', async () => {
    lineNo = 1;
    const out = await group([sale('A'), sale('B'), unreadable(), sale('C'), sale('D')]);
    expect(receipts(out).map((r) => r.sale.saleId)).toEqual(['t:A', 't:D']);
    expect(rejected(out).map((r) => [r.line, r.rule])).toEqual([
      [4, 'csv:CSV_QUOTE_NOT_CLOSED'],
      [3, 'adjacent-unreadable'],
      [5, 'adjacent-unreadable'],
    ]);
  });

  it('treats a row without an order id like an unreadable one: rejected, and so are its neighbours', async () => {
    lineNo = 1;
    const out = await group([sale('A'), sale(''), sale('A'), sale('B')]);
    expect(receipts(out).map((r) => r.sale.saleId)).toEqual(['t:B']);
    expect(rejected(out).map((r) => [r.line, r.rule])).toEqual([
      [3, 'required'],
      [2, 'adjacent-unreadable'],
      [4, 'adjacent-unreadable'],
    ]);
  });

  it('holds at most MAX_LINES rows of one order id and reports the rest as they come', async () => {
    lineNo = 1;
    const many = Array.from({ length: MAX_LINES + 5 }, (_, i) => sale('BIG', `p${i}`));
    const out = await group([...many, sale('C')]);
    expect(receipts(out).map((r) => r.sale.saleId)).toEqual(['t:C']);
    const rows = rejected(out);
    expect(rows).toHaveLength(MAX_LINES + 5);
    expect(new Set(rows.map((r) => r.rule))).toEqual(new Set(['too-many-lines']));
    // Reported while reading, not held until the order ends: the first batch came after row 1001.
    const firstBatch = out.find((i) => i.kind === 'rejected') as RejectedRows;
    expect(firstBatch.rows).toHaveLength(MAX_LINES + 1);
  });
});
