import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseBranchesCsv, parseProductsCsv } from './catalog-csv.parser.js';

const csv = (text: string) => Readable.from([text]);
const products = (text: string) => parseProductsCsv(csv(text), { defaultCurrency: 'EUR' });

describe('products CSV', () => {
  it('reads every valid row with canonical prices, optional fields left out when empty', async () => {
    const result = await products(
      'productId,name,category,brand,listPrice,currency\n' +
        'P001,Whole milk 1L,dairy,Farmhouse,1.150,EUR\n' +
        'P002,"Bread, sourdough",bakery,,3.4,\n',
    );
    expect(result.errors).toEqual([]);
    expect(result.records).toBe(2);
    expect(result.rows).toEqual([
      {
        productId: 'P001',
        name: 'Whole milk 1L',
        category: 'dairy',
        brand: 'Farmhouse',
        listPrice: '1.15',
        currency: 'EUR',
      },
      { productId: 'P002', name: 'Bread, sourdough', category: 'bakery', listPrice: '3.4', currency: 'EUR' },
    ]);
  });

  it('matches header names without case or separators, accepts aliases, and takes the default currency', async () => {
    const result = await parseProductsCsv(
      csv('\ufeffProduct_ID, Product Name ,CATEGORY,price\nX:1,Thing,misc,2\n'),
      {
        defaultCurrency: 'GBP',
      },
    );
    expect(result.errors).toEqual([]);
    expect(result.rows).toEqual([
      { productId: 'X:1', name: 'Thing', category: 'misc', listPrice: '2', currency: 'GBP' },
    ]);
  });

  it('names the line, the field and the rule of every bad row, and keeps the good ones', async () => {
    const result = await products(
      'productId,name,category,listPrice,currency\n' +
        'P001,Milk,dairy,1.15,EUR\n' +
        'bad id,Milk,dairy,1.15,EUR\n' +
        'P003,,dairy,1.123456,EUR\n' +
        '\n' +
        'P004,Eggs,dairy,-1,EURO\n' +
        'P005,Cheese,dairy,4.6,XXY\n' +
        'P006,Short row\n' +
        'P001,Milk again,dairy,1.15,EUR\n',
    );
    expect(result.rows.map((p) => p.productId)).toEqual(['P001']);
    expect(result.records).toBe(7);
    expect(result.errors.map(({ line, field, rule }) => ({ line, field, rule }))).toEqual([
      { line: 3, field: 'productId', rule: 'pattern' },
      { line: 4, field: 'name', rule: 'required' },
      { line: 4, field: 'listPrice', rule: 'decimal' },
      { line: 6, field: 'listPrice', rule: 'decimal' },
      { line: 6, field: 'currency', rule: 'pattern' },
      { line: 7, field: 'currency', rule: 'iso4217' },
      { line: 8, field: undefined, rule: 'field-count' },
      { line: 9, field: 'productId', rule: 'duplicate-id' },
    ]);
    expect(result.errors.at(-1)!.message).toBe('product P001 is already on line 2');
    expect(result.errors[6]!.message).toBe('has 2 field(s), the header 5');
  });

  it('refuses a header with an unknown, repeated or missing column before reading any row', async () => {
    const result = await products('productId,nmae,category,price,listPrice\nP001,Milk,dairy,1,1\n');
    expect(result.rows).toEqual([]);
    expect(result.errors.map(({ line, field, rule }) => ({ line, field, rule }))).toEqual([
      { line: 1, field: undefined, rule: 'unknown-column' },
      { line: 1, field: 'listPrice', rule: 'duplicate-column' },
      { line: 1, field: 'name', rule: 'missing-column' },
    ]);
    expect(result.errors[0]!.message).toContain('column "nmae" is not a product field');
  });

  it('requires a currency when there is no default', async () => {
    const result = await parseProductsCsv(csv('productId,name,category,listPrice\nP001,Milk,dairy,1\n'));
    expect(result.errors).toEqual([{ line: 2, field: 'currency', rule: 'required', message: 'is required' }]);
  });

  it('reports malformed CSV at its line instead of throwing, and an empty file as missing its header', async () => {
    const broken = await products('productId,name,category,listPrice\nP001,"Milk,dairy,1\n');
    expect(broken.errors).toHaveLength(1);
    expect(broken.errors[0]).toMatchObject({ rule: 'csv' });
    expect(broken.errors[0]!.line).toBeGreaterThanOrEqual(2);

    const empty = await products('');
    expect(empty.errors).toEqual([expect.objectContaining({ line: 1, rule: 'missing-header' })]);
  });

  it('reports a file that cannot be read as an error of the read, not as bad data', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('EACCES: permission denied'));
      },
    });
    await expect(parseProductsCsv(failing)).rejects.toThrow(/EACCES/);
  });
});

describe('branches CSV', () => {
  it('reads branches with optional city and country', async () => {
    const result = await parseBranchesCsv(
      csv('branch_id,name,city,country\nbranch-north,North,Hamburg,DE\nbranch-south,South,,\n'),
    );
    expect(result.errors).toEqual([]);
    expect(result.rows).toEqual([
      { branchId: 'branch-north', name: 'North', city: 'Hamburg', countryId: 'DE' },
      { branchId: 'branch-south', name: 'South' },
    ]);
  });

  it('refuses a branch id that cannot be a NATS subject token', async () => {
    const result = await parseBranchesCsv(csv('branchId,name\nbranch.1,Dotted\nok_1,Fine\n'));
    expect(result.rows.map((b) => b.branchId)).toEqual(['ok_1']);
    expect(result.errors).toEqual([
      { line: 2, field: 'branchId', rule: 'pattern', message: 'must be 1–64 of A-Z a-z 0-9 _ -' },
    ]);
  });
});
