import { createHash } from 'node:crypto';
import { SALE_OPTIONAL_TEXT_FIELDS, type SaleInput, type SaleLineInput, sumDecimals } from '@tally/contracts';
import { type DateParser, dateParser } from './date.parser.js';
import { type DecimalFormat, divideDecimal, parseDecimal, parseQuantity } from './decimal.parser.js';
import type { FieldSpec, LineFieldName, Mapping, ProductEntry, SaleFieldName } from './mapping.schema.js';
import { saleIdOf } from './sale-id.js';

/**
 * One CSV row → the contract's fields, as the mapping file says: the receipt key (source order
 * id), the sale-level fields (branch, time, currency, customer...) and one sale line. Rows are
 * only translated here (columns, date formats, decimal separators, defaults, product list);
 * whether the result is a valid sale is decided by the contract's own validateSale later.
 */

/** A mapping that cannot work with this file (a column it names is missing): stops the import. */
export class MappingError extends Error {
  override readonly name = 'MappingError';
}

export interface RowProblem {
  /** Contract field (`occurredAt`, `lines.unitPrice`), `row` or `receipt.key`. */
  readonly field: string;
  /** The CSV column(s) the field is read from, when it is read from one. */
  readonly column?: string;
  readonly rule: string;
  readonly message: string;
}

/** The sale-level fields of a row: equal on every row of one receipt. */
export type SaleHead = Omit<SaleInput, 'saleId' | 'lines'>;

export type MappedRow =
  | { readonly ok: true; readonly key: string; readonly head: SaleHead; readonly line: SaleLineInput }
  | { readonly ok: false; readonly key: string | undefined; readonly problems: RowProblem[] };

/** Sale-level fields in the order they are compared between rows of one receipt. */
export const HEAD_FIELDS = [
  'kind',
  'originalSaleId',
  'branchId',
  'registerId',
  'cashierId',
  'customerId',
  'occurredAt',
  'currency',
  'buyerCountry',
  'sellerCountry',
  'paymentMethod',
] as const satisfies readonly (keyof SaleHead)[];

type Cell = (fields: readonly string[]) => string | undefined;
interface Getter {
  readonly read: (fields: readonly string[], problems: RowProblem[]) => string | undefined;
  readonly column?: string;
}

const PLAIN_DECIMAL: DecimalFormat = { decimalSeparator: '.', thousandsSeparator: '', round: false };

/** Optional sale fields read as they are (originalSaleId is mapped to a sale id of its own). */
const OPTIONAL_HEAD = SALE_OPTIONAL_TEXT_FIELDS.filter((f) => f !== 'originalSaleId');

export class RowMapper {
  readonly saleIdPrefix: string;
  private readonly key: Cell[];
  private readonly keyColumns: string;
  private readonly sale = new Map<SaleFieldName, Getter>();
  private readonly line = new Map<LineFieldName, Getter>();
  private readonly occurredAt: DateParser;
  private readonly money: DecimalFormat;
  private readonly products = new Map<string, ProductEntry>();

  constructor(
    mapping: Mapping,
    readonly header: readonly string[],
  ) {
    this.saleIdPrefix = mapping.receipt.saleIdPrefix;
    const index = new Map<string, number>();
    header.forEach((name, i) => {
      if (!index.has(name)) index.set(name, i);
    });
    const column = (name: string, where: string): Cell => {
      const at = index.get(name);
      if (at === undefined) {
        throw new MappingError(
          `${where}: column ${JSON.stringify(name)} is not in the file (its columns: ${header.map((h) => JSON.stringify(h)).join(', ')})`,
        );
      }
      return (fields) => fields[at];
    };
    this.key = mapping.receipt.key.map((name) => column(name, 'receipt.key'));
    this.keyColumns = mapping.receipt.key.join('+');
    for (const [name, spec] of Object.entries(mapping.sale) as [SaleFieldName, FieldSpec | undefined][]) {
      if (spec !== undefined && name !== 'occurredAt')
        this.sale.set(name, getter(spec, `sale.${name}`, column));
    }
    for (const [name, spec] of Object.entries(mapping.line) as [LineFieldName, FieldSpec | undefined][]) {
      if (spec !== undefined) this.line.set(name, getter(spec, `line.${name}`, column));
    }
    const date = mapping.sale.occurredAt;
    const dateColumns = Array.isArray(date.column) ? date.column : [date.column];
    const dateCells = dateColumns.map((name) => column(name, 'sale.occurredAt'));
    this.sale.set('occurredAt', {
      column: dateColumns.join('+'),
      read: (fields) => joined(dateCells, fields),
    });
    try {
      this.occurredAt = dateParser(date.format, mapping.timezone ?? 'UTC');
    } catch (error) {
      throw new MappingError(`sale.occurredAt: ${(error as Error).message}`);
    }
    this.money = {
      decimalSeparator: mapping.money?.decimalSeparator ?? '.',
      thousandsSeparator: mapping.money?.thousandsSeparator ?? '',
      round: mapping.money?.round ?? false,
    };
    for (const product of mapping.products ?? []) this.products.set(productKey(product.name), product);
    if (this.line.has('product') && this.products.size === 0) {
      throw new MappingError('line.product: needs a products list to look names up in');
    }
  }

  /** The receipt key of a row, or undefined when a key cell is empty. */
  keyOf(fields: readonly string[]): string | undefined {
    let key = '';
    for (let i = 0; i < this.key.length; i++) {
      const cell = this.key[i]!(fields)?.trim();
      if (cell === undefined || cell === '') return undefined;
      key = i === 0 ? cell : `${key}:${cell}`;
    }
    return key;
  }

  /** The CSV column(s) a contract field (as a validator pointer, `/lines/0/unitPrice`) is read from. */
  columnOf(pointer: string): string | undefined {
    const parts = pointer.split('/');
    if (parts[1] === 'lines' && parts.length >= 4) {
      const name = parts[3] as LineFieldName;
      if (this.line.has(name)) return this.line.get(name)!.column;
      if (name === 'unitPrice' && this.line.has('amount')) return this.line.get('amount')!.column;
      return this.line.get('product')?.column;
    }
    if (parts[1] === 'saleId') return this.keyColumns;
    return this.sale.get(parts[1] as SaleFieldName)?.column;
  }

  map(fields: readonly string[]): MappedRow {
    const key = this.keyOf(fields);
    const problems: RowProblem[] = [];
    if (key === undefined) {
      problems.push({
        field: 'receipt.key',
        column: this.keyColumns,
        rule: 'required',
        message: 'the order id is empty',
      });
    }
    if (fields.length !== this.header.length) {
      problems.push({
        field: 'row',
        rule: 'column-count',
        message: `has ${fields.length} fields, the header has ${this.header.length}`,
      });
      return { ok: false, key, problems };
    }
    const head = this.mapHead(fields, problems);
    const line = this.mapLine(fields, problems);
    if (problems.length > 0 || key === undefined) return { ok: false, key, problems };
    return { ok: true, key, head, line };
  }

  private mapHead(fields: readonly string[], problems: RowProblem[]): SaleHead {
    const read = (name: SaleFieldName) => this.sale.get(name)?.read(fields, problems);
    const required = (name: SaleFieldName): string => {
      const before = problems.length;
      const value = read(name);
      // Undefined after a problem (a code the map lacks) is that problem, not an empty cell.
      if (value === undefined && this.sale.has(name) && problems.length === before) {
        problems.push({
          field: name,
          column: this.sale.get(name)!.column,
          rule: 'required',
          message: 'is empty',
        });
      }
      return value ?? '';
    };
    const when = required('occurredAt');
    let occurredAt = '';
    if (when !== '') {
      const parsed = this.occurredAt(when);
      if (parsed.ok) occurredAt = parsed.value;
      else problems.push({ field: 'occurredAt', column: this.sale.get('occurredAt')!.column, ...parsed });
    }
    const head: Record<string, string> = {
      kind: read('kind') ?? 'sale',
      branchId: required('branchId'),
      occurredAt,
      currency: required('currency'),
    };
    const original = read('originalSaleId');
    if (original !== undefined) head.originalSaleId = saleIdOf(this.saleIdPrefix, original);
    for (const name of OPTIONAL_HEAD) {
      const value = read(name);
      if (value !== undefined) head[name] = value;
    }
    return head as unknown as SaleHead;
  }

  private mapLine(fields: readonly string[], problems: RowProblem[]): SaleLineInput {
    const read = (name: LineFieldName) => this.line.get(name)?.read(fields, problems);
    const columnOf = (name: LineFieldName) => this.line.get(name)?.column;
    let product: ProductEntry | undefined;
    const productName = read('product');
    if (productName !== undefined) {
      product = this.products.get(productKey(productName));
      if (product === undefined) {
        problems.push({
          field: 'lines.product',
          column: columnOf('product'),
          rule: 'unknown-product',
          message: `${JSON.stringify(productName)} is not in the mapping's product list`,
        });
      }
    } else if (this.line.has('product')) {
      problems.push({
        field: 'lines.product',
        column: columnOf('product'),
        rule: 'required',
        message: 'is empty',
      });
    }
    const money = (
      name: LineFieldName,
      text: string | undefined,
      format = this.money,
    ): string | undefined => {
      if (text === undefined) return undefined;
      const parsed = parseDecimal(text, format);
      if (parsed.ok) return parsed.value;
      problems.push({
        field: `lines.${name}`,
        column: columnOf(name),
        rule: parsed.rule,
        message: parsed.message,
      });
      return undefined;
    };

    let quantity = 1;
    const quantityText = read('quantity');
    if (quantityText !== undefined) {
      const parsed = parseQuantity(quantityText, this.money);
      if (parsed.ok) quantity = parsed.value;
      else
        problems.push({
          field: 'lines.quantity',
          column: columnOf('quantity'),
          rule: parsed.rule,
          message: parsed.message,
        });
    }
    const amount = money('amount', read('amount'));
    const discount = money('discount', read('discount'));
    let unitPrice: string | undefined;
    if (this.line.has('unitPrice')) {
      const before = problems.length;
      const text = read('unitPrice');
      if (text === undefined && problems.length === before) {
        problems.push({
          field: 'lines.unitPrice',
          column: columnOf('unitPrice'),
          rule: 'required',
          message: 'is empty',
        });
      } else if (text !== undefined) {
        unitPrice = money('unitPrice', text);
      }
    } else if (product?.unitPrice !== undefined) {
      unitPrice = money('unitPrice', product.unitPrice, PLAIN_DECIMAL);
    } else if (amount !== undefined && quantity > 0) {
      // A line total without a unit price (marketplace REVENUE, Django amount): the unit price is
      // total ÷ quantity (exact for one unit); the explicit amount stays the line's net amount.
      unitPrice = divideDecimal(discount === undefined ? amount : sumDecimals([amount, discount]), quantity);
    }
    if (unitPrice === undefined && problems.length === 0) {
      problems.push({
        field: 'lines.unitPrice',
        rule: 'required',
        message: 'no unitPrice, amount or product price',
      });
    }

    const productId = read('productId') ?? product?.productId;
    if (productId === undefined && problems.length === 0) {
      problems.push({
        field: 'lines.productId',
        column: columnOf('productId'),
        rule: 'required',
        message: 'is empty',
      });
    }
    const line: Record<string, string | number> = { productId: productId ?? '' };
    const name = read('productName') ?? product?.name;
    if (name !== undefined) line.productName = name;
    const category = read('category') ?? product?.category;
    if (category !== undefined) line.category = category;
    const brand = read('brand') ?? product?.brand;
    if (brand !== undefined) line.brand = brand;
    line.quantity = quantity;
    line.unitPrice = unitPrice ?? '0';
    if (discount !== undefined) line.discount = discount;
    if (amount !== undefined) line.amount = amount;
    return line as unknown as SaleLineInput;
  }
}

function getter(spec: FieldSpec, where: string, column: (name: string, where: string) => Cell): Getter {
  if ((spec.column === undefined) === (spec.value === undefined)) {
    throw new MappingError(`${where}: give exactly one of column or value`);
  }
  const translate = (
    text: string,
    problems: RowProblem[],
    columnName: string | undefined,
  ): string | undefined => {
    const value = spec.slug === true ? slugOf(text) : text;
    if (spec.map === undefined) return value;
    const mapped = spec.map[value];
    if (mapped !== undefined) return mapped;
    problems.push({
      field: where.replace(/^sale\./, '').replace(/^line\./, 'lines.'),
      ...(columnName !== undefined && { column: columnName }),
      rule: 'unmapped',
      message: `${JSON.stringify(value)} is not among the values the mapping translates (${Object.keys(spec.map).join(', ')})`,
    });
    return undefined;
  };
  if (spec.value !== undefined) {
    const fixed = String(spec.value);
    return { read: (_fields, problems) => translate(fixed, problems, undefined) };
  }
  const names = Array.isArray(spec.column) ? spec.column : [spec.column!];
  const cells = names.map((name) => column(name, where));
  const columnName = names.join('+');
  return {
    column: columnName,
    read: (fields, problems) => {
      const value = joined(cells, fields) ?? spec.default;
      return value === undefined ? undefined : translate(value, problems, columnName);
    },
  };
}

/** The cells' trimmed text joined by one space, or undefined when all are empty. */
function joined(cells: readonly Cell[], fields: readonly string[]): string | undefined {
  if (cells.length === 1) {
    const text = cells[0]!(fields)?.trim();
    return text === undefined || text === '' ? undefined : text;
  }
  const parts = cells.map((cell) => cell(fields)?.trim() ?? '').filter((text) => text !== '');
  return parts.length === 0 ? undefined : parts.join(' ');
}

/** `Green Tea 500ml` → `green-tea-500ml`; within the id alphabet and 64 characters (longer: cut, with a hash). */
export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= 64) return slug;
  return `${slug.slice(0, 47)}-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

function productKey(name: string): string {
  return name.trim().toLowerCase();
}
