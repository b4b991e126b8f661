import { describe, expect, it } from 'vitest';
import { checkMapping, loadMapping } from './mapping.loader.js';
import { type MappedRow, MappingError, RowMapper, slugOf } from './row.mapper.js';

const MARKETPLACE_HEADER = [
  'ID_ORDER',
  'ID_PRODUCT',
  'ID_BUYER',
  'ID_SELLER',
  'ID_SELLER_COUNTRY',
  'ID_BUYER_COUNTRY',
  'DATE_PAYMENT',
  'BRAND',
  'CATEGORY',
  'REVENUE',
];
const PURCHASES_HEADER = ['purchase_id', 'branch_id', 'cashier_id', 'customer_id', 'purchased_at', 'product'];

const okRow = (row: MappedRow) => {
  if (!row.ok) throw new Error(JSON.stringify(row.problems));
  return row;
};
const problemsOf = (row: MappedRow) => {
  if (row.ok) throw new Error('mapped without problems');
  return row.problems;
};

describe('row mapper with the presets', () => {
  it('maps a marketplace order line: REVENUE as the line amount and unit price, ids and countries', () => {
    const mapper = new RowMapper(loadMapping('marketplace'), MARKETPLACE_HEADER);
    const row = okRow(
      mapper.map([
        '34033734',
        '13681706',
        '9666775',
        '6723223',
        '203',
        '170',
        '2021-01-07 00:09:24',
        'Dsquared2',
        'clothing',
        '57.270000000000003',
      ]),
    );
    expect(row.key).toBe('34033734');
    expect(row.head).toEqual({
      kind: 'sale',
      branchId: 'marketplace',
      occurredAt: '2021-01-07T00:09:24Z',
      currency: 'EUR',
      customerId: '9666775',
      buyerCountry: '170',
      sellerCountry: '203',
    });
    expect(row.line).toEqual({
      productId: '13681706',
      category: 'clothing',
      brand: 'Dsquared2',
      quantity: 1,
      unitPrice: '57.27',
      amount: '57.27',
    });
  });

  it('fills an empty CATEGORY with the default and leaves an empty BRAND out', () => {
    const mapper = new RowMapper(loadMapping('marketplace'), MARKETPLACE_HEADER);
    const row = okRow(mapper.map(['1', 'p', 'b', 's', '1', '2', '2021-01-07 00:09:24', '', ' ', '3']));
    expect(row.line).toEqual({
      productId: 'p',
      category: 'uncategorized',
      quantity: 1,
      unitPrice: '3',
      amount: '3',
    });
  });

  it('looks supermarket product names up in the preset product list, ignoring case and spaces', () => {
    const mapper = new RowMapper(loadMapping('supermarket'), PURCHASES_HEADER);
    const row = okRow(
      mapper.map(['1002', 'branch-south', 'c-02', '', '2025-03-01 09:17:40', ' bananas 1KG ']),
    );
    expect(row.head).toEqual({
      kind: 'sale',
      branchId: 'branch-south',
      cashierId: 'c-02',
      occurredAt: '2025-03-01T09:17:40Z',
      currency: 'EUR',
    });
    expect(row.line).toEqual({
      productId: 'P004',
      productName: 'Bananas 1kg',
      category: 'produce',
      brand: 'Tropico',
      quantity: 1,
      unitPrice: '1.79',
    });
  });

  it('rejects a product the list lacks, naming the column and the value', () => {
    const mapper = new RowMapper(loadMapping('supermarket'), PURCHASES_HEADER);
    expect(
      problemsOf(mapper.map(['1', 'branch-north', 'c', 'x', '2025-03-01 09:17:40', 'Caviar 50g'])),
    ).toEqual([
      {
        field: 'lines.product',
        column: 'product',
        rule: 'unknown-product',
        message: '"Caviar 50g" is not in the mapping\'s product list',
      },
    ]);
  });

  it('makes product ids of Django product names and reads dates in Singapore time', () => {
    const mapper = new RowMapper(loadMapping('django-sales'), ['date', 'order_id', 'product', 'amount_sgd']);
    const row = okRow(mapper.map(['2024-05-02', 'ORD-1001', 'Green Tea 500ml', '3.50']));
    expect(row.head.occurredAt).toBe('2024-05-02T00:00:00+08:00');
    expect(row.line).toMatchObject({
      productId: 'green-tea-500ml',
      productName: 'Green Tea 500ml',
      amount: '3.5',
    });
  });

  it('reports every problem of a row, each with field, column and rule', () => {
    const mapper = new RowMapper(loadMapping('marketplace'), MARKETPLACE_HEADER);
    const problems = problemsOf(mapper.map(['', 'p', 'b', 's', '1', '2', '07/01/2021', '', 'c', '-5']));
    expect(problems.map((p) => [p.field, p.column, p.rule])).toEqual([
      ['receipt.key', 'ID_ORDER', 'required'],
      ['occurredAt', 'DATE_PAYMENT', 'date-format'],
      ['lines.amount', 'REVENUE', 'negative'],
    ]);
  });

  it('rejects a row whose field count differs from the header, keeping its order id', () => {
    const mapper = new RowMapper(loadMapping('marketplace'), MARKETPLACE_HEADER);
    const row = mapper.map(['42', 'p', 'b']);
    expect(row).toMatchObject({ ok: false, key: '42', problems: [{ field: 'row', rule: 'column-count' }] });
  });

  it('stops at load when the mapping names a column the file lacks', () => {
    expect(() => new RowMapper(loadMapping('marketplace'), MARKETPLACE_HEADER.slice(0, 9))).toThrow(
      new MappingError(
        `line.amount: column "REVENUE" is not in the file (its columns: ${MARKETPLACE_HEADER.slice(0, 9)
          .map((h) => `"${h}"`)
          .join(', ')})`,
      ),
    );
  });
});

describe('row mapper features', () => {
  const base = {
    name: 'test',
    receipt: { key: ['shop', 'ticket'], grouping: 'consecutive', saleIdPrefix: 'pos' },
    timezone: 'Europe/Berlin',
    money: { decimalSeparator: ',', thousandsSeparator: '.' },
    sale: {
      branchId: { column: 'shop', map: { '1': 'berlin-mitte', '2': 'berlin-pankow' } },
      occurredAt: { column: ['Datum', 'Uhrzeit'], format: 'dd.MM.yyyy HH:mm' },
      currency: { value: 'EUR' },
      kind: { column: 'typ', map: { V: 'sale', R: 'return' } },
      originalSaleId: { column: 'storno_von' },
    },
    line: {
      productId: { column: 'artikel' },
      category: { column: 'warengruppe', default: 'sonstiges' },
      quantity: { column: 'menge' },
      unitPrice: { column: 'preis' },
      discount: { column: 'rabatt' },
    },
  };
  const header = [
    'shop',
    'ticket',
    'Datum',
    'Uhrzeit',
    'typ',
    'storno_von',
    'artikel',
    'warengruppe',
    'menge',
    'preis',
    'rabatt',
  ];

  it('joins key columns, date and time columns, translates codes and reads comma decimals', () => {
    const mapper = new RowMapper(checkMapping(base), header);
    const row = okRow(
      mapper.map(['2', '0815', '24.12.2024', '17:45', 'R', '0700', 'A-1', '', '2', '1.299,90', '100,00']),
    );
    expect(row.key).toBe('2:0815');
    expect(row.head).toMatchObject({
      kind: 'return',
      originalSaleId: 'pos:0700',
      branchId: 'berlin-pankow',
      occurredAt: '2024-12-24T17:45:00+01:00',
    });
    expect(row.line).toEqual({
      productId: 'A-1',
      category: 'sonstiges',
      quantity: 2,
      unitPrice: '1299.9',
      discount: '100',
    });
  });

  it('rejects a code the map lacks rather than passing it through', () => {
    const mapper = new RowMapper(checkMapping(base), header);
    expect(
      problemsOf(mapper.map(['3', '1', '24.12.2024', '17:45', 'V', '', 'A-1', 'x', '1', '1', ''])),
    ).toEqual([expect.objectContaining({ field: 'branchId', column: 'shop', rule: 'unmapped' })]);
  });

  it('traces contract pointers back to columns', () => {
    const mapper = new RowMapper(checkMapping(base), header);
    expect(mapper.columnOf('/occurredAt')).toBe('Datum+Uhrzeit');
    expect(mapper.columnOf('/lines/3/unitPrice')).toBe('preis');
    expect(mapper.columnOf('/saleId')).toBe('shop+ticket');
    expect(mapper.columnOf('/currency')).toBeUndefined();
  });

  it('slugs names into ids within the id alphabet and length', () => {
    expect(slugOf('Crème Brûlée (6 pcs)')).toBe('creme-brulee-6-pcs');
    const long = slugOf('x'.repeat(100));
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^[a-z0-9-]+$/);
  });
});
