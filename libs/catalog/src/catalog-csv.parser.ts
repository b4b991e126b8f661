import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import {
  type CatalogBranch,
  type CatalogProduct,
  type Checked,
  checkBranch,
  checkProduct,
} from './catalog.schema.js';

/**
 * Catalog CSV files, read as a stream (csv-parse), each row checked with the catalog's field
 * rules. Nothing is thrown for bad data: every problem becomes a row error naming the line, the
 * field and the rule, so one run lists everything to fix in the file.
 *
 * Format: a header row, then one row per product or branch. Header names are matched without
 * case, spaces, `_` or `-`, and a few aliases are accepted (`product_id`, `id`, `price`...):
 *
 *   products: productId, name, category, brand?, listPrice, currency?
 *   branches: branchId, name, city?, country?
 *
 * A column the format does not know is an error (a typo would otherwise drop data silently);
 * optional columns may be left out or left empty. A product without currency takes
 * `defaultCurrency`. An id twice in one file is an error on its second line. Line numbers are
 * the file's (the header is line 1); a quoted value spanning lines reports the line it ends on.
 */
export interface CsvRowError {
  /** 1-based line of the file. */
  readonly line: number;
  /** The catalog field (e.g. `listPrice`), or absent for a problem with the row or file itself. */
  readonly field?: string;
  readonly rule: string;
  readonly message: string;
}

export interface CsvParseResult<T> {
  /** The valid rows, in file order. */
  readonly rows: T[];
  readonly errors: CsvRowError[];
  /** Data rows read (header and empty lines excluded). */
  readonly records: number;
}

export interface ProductsCsvOptions {
  /** Currency of rows without one (no `currency` column, or an empty cell). */
  readonly defaultCurrency?: string;
}

interface CsvFormat<T> {
  readonly kind: 'product' | 'branch';
  /** Normalised header name -> field. */
  readonly headers: Readonly<Record<string, string>>;
  readonly required: readonly string[];
  readonly idField: string;
  readonly check: (raw: Record<string, string>) => Checked<T>;
}

const PRODUCT_FORMAT: Omit<CsvFormat<CatalogProduct>, 'check'> = {
  kind: 'product',
  headers: {
    productid: 'productId',
    id: 'productId',
    name: 'name',
    productname: 'name',
    category: 'category',
    brand: 'brand',
    listprice: 'listPrice',
    price: 'listPrice',
    currency: 'currency',
  },
  required: ['productId', 'name', 'category', 'listPrice'],
  idField: 'productId',
};

const BRANCH_FORMAT: CsvFormat<CatalogBranch> = {
  kind: 'branch',
  headers: {
    branchid: 'branchId',
    id: 'branchId',
    name: 'name',
    branchname: 'name',
    city: 'city',
    country: 'countryId',
    countryid: 'countryId',
    countrycode: 'countryId',
  },
  required: ['branchId', 'name'],
  idField: 'branchId',
  check: checkBranch,
};

export function parseProductsCsv(
  input: Readable,
  options: ProductsCsvOptions = {},
): Promise<CsvParseResult<CatalogProduct>> {
  const { defaultCurrency } = options;
  return parseCatalogCsv(input, {
    ...PRODUCT_FORMAT,
    check: (raw) =>
      checkProduct(
        defaultCurrency !== undefined && !raw.currency ? { ...raw, currency: defaultCurrency } : raw,
      ),
  });
}

export function parseBranchesCsv(input: Readable): Promise<CsvParseResult<CatalogBranch>> {
  return parseCatalogCsv(input, BRANCH_FORMAT);
}

const normalise = (header: string) => header.toLowerCase().replace(/[\s_-]/g, '');

async function parseCatalogCsv<T>(input: Readable, format: CsvFormat<T>): Promise<CsvParseResult<T>> {
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true,
  });
  // pipe() does not forward a read error (a missing file); the parser then fails the loop with it.
  input.once('error', (error) => parser.destroy(error));
  input.pipe(parser);

  const rows: T[] = [];
  const errors: CsvRowError[] = [];
  const firstLineOf = new Map<string, number>();
  let columns: Array<string | undefined> | undefined;
  let records = 0;
  let lastLine = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      lastLine = info.lines;
      if (columns === undefined) {
        columns = headerColumns(record, format, info.lines, errors);
        if (errors.length > 0) {
          parser.destroy();
          input.destroy();
          break;
        }
        continue;
      }
      records++;
      if (record.length !== columns.length) {
        errors.push({
          line: info.lines,
          rule: 'field-count',
          message: `has ${record.length} field(s), the header ${columns.length}`,
        });
        continue;
      }
      const raw: Record<string, string> = {};
      columns.forEach((field, i) => {
        if (field !== undefined) raw[field] = record[i]!;
      });
      const checked = format.check(raw);
      if (!checked.ok) {
        for (const e of checked.errors) errors.push({ line: info.lines, ...e });
        continue;
      }
      const id = raw[format.idField]!;
      const first = firstLineOf.get(id);
      if (first !== undefined) {
        errors.push({
          line: info.lines,
          field: format.idField,
          rule: 'duplicate-id',
          message: `${format.kind} ${id} is already on line ${first}`,
        });
        continue;
      }
      firstLineOf.set(id, info.lines);
      rows.push(checked.value);
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = (error as CsvError & { lines?: number }).lines ?? lastLine + 1;
    errors.push({ line, rule: 'csv', message: error.message });
  }
  if (columns === undefined && errors.length === 0) {
    errors.push({ line: 1, rule: 'missing-header', message: `the file is empty: expected a header row` });
  }
  return { rows, errors, records };
}

/** Maps each column to its field; records unknown, repeated and missing columns as errors. */
function headerColumns(
  header: readonly string[],
  format: CsvFormat<unknown>,
  line: number,
  errors: CsvRowError[],
): Array<string | undefined> {
  const known = [...new Set(Object.values(format.headers))];
  const seen = new Map<string, string>();
  const columns = header.map((name) => {
    const field = format.headers[normalise(name)];
    if (field === undefined) {
      errors.push({
        line,
        rule: 'unknown-column',
        message: `column "${name}" is not a ${format.kind} field (expected ${known.join(', ')})`,
      });
      return undefined;
    }
    const other = seen.get(field);
    if (other !== undefined) {
      errors.push({
        line,
        field,
        rule: 'duplicate-column',
        message: `columns "${other}" and "${name}" both give ${field}`,
      });
    }
    seen.set(field, name);
    return field;
  });
  for (const field of format.required) {
    if (!seen.has(field)) {
      errors.push({ line, field, rule: 'missing-column', message: `the header has no ${field} column` });
    }
  }
  return columns;
}
