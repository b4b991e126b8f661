import { Ajv, type ErrorObject } from 'ajv';
import { formatUnits, MONEY_MAX_UNITS, moneyText, sumDecimals, unitsOf } from './decimal.js';
import { type Sale, type SaleLine, type SaleSubmission, SaleSubmissionSchema } from './sale.schema.js';

/**
 * Validates a sale against the contract and turns it into the canonical `Sale` published on
 * the stream. Structural rules come from the JSON Schema (compiled once by Ajv); the rules a
 * schema cannot express follow in `normalize`. Every error names the field by JSON pointer and
 * the rule it broke, so a client can fix its payload without guessing.
 *
 * The catalog: a line may omit its category when the caller passes `products` and the product
 * is in it; the catalog's category (and its name and brand, where the line omits those) is
 * then copied into the line. A line the catalog cannot complete is rejected at
 * `/lines/i/category` with rule `required`, so every `Sale` this returns has every category,
 * as downstream relies on. What the line states always wins over the catalog. Filling changes
 * no id: the saleId, and so duplicate detection, is exactly the client's.
 *
 * `checks` are the caller's own rules (ingest's catalog rules), run on the normalized sale once
 * the schema holds; their errors join the contract's, so one answer lists everything to fix.
 */

export interface FieldError {
  /** RFC 6901 JSON pointer to the offending field, e.g. `/lines/0/quantity`. */
  readonly pointer: string;
  /** The rule broken: `required`, `pattern`, `minimum`, `decimal`, `unknown-field`, … */
  readonly rule: string;
  readonly message: string;
}

export type SaleValidation = { ok: true; sale: Sale } | { ok: false; errors: FieldError[] };

export interface ValidationOptions {
  /** Current time in ms since the epoch (injectable for tests). */
  readonly now?: number;
  /** How far in the future `occurredAt` may lie, to absorb till clock drift. */
  readonly maxFutureSkewMs: number;
  /** The product catalog, to complete lines that omit their category, name or brand. */
  readonly products?: ProductLookup;
  /** The caller's further rules on the normalized sale; their errors join the contract's. */
  readonly checks?: readonly SaleCheck[];
}

/** What the catalog knows of a product, as far as a sale line uses it. */
export interface ProductInfo {
  readonly name: string;
  readonly category: string;
  readonly brand?: string;
}

/** The catalog entry of a product, or undefined when the catalog does not know it. */
export type ProductLookup = (productId: string) => ProductInfo | undefined;

/**
 * A rule of the caller. It sees the normalized sale after the schema held; when the contract
 * already rejected the sale, money fields of rejected lines may read '0'.
 */
export type SaleCheck = (sale: Sale) => readonly FieldError[];

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validateSchema = ajv.compile<SaleSubmission>(SaleSubmissionSchema);
const supportedCurrencies = new Set(Intl.supportedValuesOf('currency'));

export function validateSale(input: unknown, options: ValidationOptions): SaleValidation {
  if (!validateSchema(input)) {
    const errors = schemaErrors(validateSchema.errors ?? []);
    return { ok: false, errors: errors.concat(uncategorized(input, options.products)) };
  }
  const now = options.now ?? Date.now();
  const errors: FieldError[] = [];
  const sale = normalize(input, now, options, errors);
  for (const check of options.checks ?? []) errors.push(...check(sale));
  return errors.length === 0 ? { ok: true, sale } : { ok: false, errors };
}

function normalize(
  input: SaleSubmission,
  now: number,
  { maxFutureSkewMs: maxSkew, products }: ValidationOptions,
  errors: FieldError[],
): Sale {
  if (input.kind === 'return' && input.originalSaleId === undefined) {
    errors.push(err('/originalSaleId', 'return-needs-original', 'a return must name the sale it reverses'));
  }
  if (input.kind === 'sale' && input.originalSaleId !== undefined) {
    errors.push(err('/originalSaleId', 'only-for-returns', 'only a return may reference an original sale'));
  }
  if (input.originalSaleId !== undefined && input.originalSaleId === input.saleId) {
    errors.push(err('/originalSaleId', 'not-self', 'a return cannot reverse itself'));
  }
  const occurred = Date.parse(input.occurredAt);
  if (Number.isNaN(occurred) || !isCalendarDateTime(input.occurredAt)) {
    errors.push(err('/occurredAt', 'rfc3339', 'is not a real calendar date-time'));
  } else if (occurred > now + maxSkew) {
    errors.push(err('/occurredAt', 'future-skew', `lies more than ${maxSkew} ms in the future`));
  }
  if (!supportedCurrencies.has(input.currency)) {
    errors.push(err('/currency', 'iso4217', `${input.currency} is not an ISO 4217 currency code`));
  }

  let total = 0;
  const lines: SaleLine[] = input.lines.map((line, i) => {
    const at = `/lines/${i}`;
    const known =
      products !== undefined &&
      (line.category === undefined || line.productName === undefined || line.brand === undefined)
        ? products(line.productId)
        : undefined;
    const category = line.category ?? known?.category;
    const productName = line.productName ?? known?.name;
    const brand = line.brand ?? known?.brand;
    if (category === undefined) errors.push(missingCategory(at, line.productId));
    const before = errors.length;
    // Units of 1/10,000 in plain numbers: exact, since gross is checked against MONEY_MAX_UNITS (< 2^53).
    const unitPrice = moneyUnits(line.unitPrice, `${at}/unitPrice`, errors);
    const discount = line.discount === undefined ? 0 : moneyUnits(line.discount, `${at}/discount`, errors);
    const explicit = line.amount === undefined ? undefined : moneyUnits(line.amount, `${at}/amount`, errors);
    // A money field that is not a decimal reads as 0; rules computed from it would only report false
    // errors. The sale is rejected anyway, so the line returned here is never used.
    if (errors.length > before) {
      return { ...line, lineNo: i + 1, category: category ?? '', unitPrice: '0', discount: '0', amount: '0' };
    }
    const gross = unitPrice * line.quantity;
    let amount = gross - discount;
    if (gross > MONEY_MAX_UNITS) {
      errors.push(
        err(`${at}/quantity`, 'amount-too-large', 'quantity × unitPrice exceeds 99,999,999,999.9999'),
      );
      amount = 0;
    } else if (amount < 0) {
      errors.push(err(`${at}/discount`, 'discount-exceeds-gross', 'exceeds quantity × unitPrice'));
      amount = 0;
    }
    if (explicit !== undefined) {
      if (line.discount !== undefined && explicit !== amount) {
        errors.push(
          err(
            `${at}/amount`,
            'amount-mismatch',
            `must equal quantity × unitPrice − discount (${formatUnits(amount)})`,
          ),
        );
      }
      amount = explicit;
    }
    total += amount;
    return {
      lineNo: i + 1,
      productId: line.productId,
      ...(productName !== undefined && { productName }),
      // Undefined only when the sale is rejected (missingCategory above).
      category: category ?? '',
      ...(brand !== undefined && { brand }),
      quantity: line.quantity,
      unitPrice: formatUnits(unitPrice),
      discount: formatUnits(discount),
      amount: formatUnits(amount),
    };
  });

  return {
    ...input,
    lines,
    // Up to 1,000 lines below 10^15 units each can pass 2^53: then sum exactly in bigint.
    total: Number.isSafeInteger(total) ? formatUnits(total) : sumDecimals(lines.map((l) => l.amount)),
    receivedAt: new Date(now).toISOString(),
  };
}

/**
 * Date.parse rolls a day the month lacks over into the next month (2026-02-30 -> 2026-03-02) and
 * accepts hour 24; RFC 3339 allows neither. `text` already matched RFC3339_PATTERN.
 */
function isCalendarDateTime(text: string): boolean {
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return day <= daysInMonth && Number(text.slice(11, 13)) <= 23;
}

/** Units of 1/10,000 of a money field the schema accepted (string or number); records a decimal error otherwise. */
function moneyUnits(value: string | number, pointer: string, errors: FieldError[]): number {
  const text = moneyText(value);
  if (text !== undefined) return unitsOf(text);
  errors.push(
    err(pointer, 'decimal', 'must be a decimal ≥ 0 with at most 4 fractional digits and 11 integer digits'),
  );
  return 0;
}

function err(pointer: string, rule: string, message: string): FieldError {
  return { pointer, rule, message };
}

function missingCategory(at: string, productId: unknown): FieldError {
  return typeof productId === 'string'
    ? err(`${at}/category`, 'required', `is required (product ${productId} is not in the catalog)`)
    : err(`${at}/category`, 'required', 'is required');
}

/**
 * When the schema fails, the lines that lack a category the catalog could supply: reported with
 * the schema's errors, as the schema reported them before the category became fillable.
 */
function uncategorized(input: unknown, products: ProductLookup | undefined): FieldError[] {
  const lines = (input as { lines?: unknown } | null)?.lines;
  if (!Array.isArray(lines)) return [];
  const errors: FieldError[] = [];
  lines.forEach((line: unknown, i) => {
    if (line === null || typeof line !== 'object' || Array.isArray(line)) return;
    const { category, productId } = line as { category?: unknown; productId?: unknown };
    if (category !== undefined) return;
    if (typeof productId === 'string' && products?.(productId) !== undefined) return;
    errors.push(missingCategory(`/lines/${i}`, productId));
  });
  return errors;
}

/**
 * Ajv's errors, one per broken rule and field: a missing or unknown property is reported at
 * its own path, and a union (money, kind) as one error with the union's rule instead of one
 * error per branch.
 */
function schemaErrors(raw: ErrorObject[]): FieldError[] {
  const unions = raw.filter((e) => e.keyword === 'anyOf');
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of raw) {
    const inUnion = unions.some((u) => u !== e && e.schemaPath.startsWith(`${u.schemaPath}/`));
    if (inUnion) continue;
    const fe = toFieldError(e);
    const key = `${fe.pointer} ${fe.rule}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(fe);
  }
  return out;
}

function toFieldError(e: ErrorObject): FieldError {
  switch (e.keyword) {
    case 'required':
      return err(`${e.instancePath}/${escapePointer(e.params.missingProperty)}`, 'required', 'is required');
    case 'additionalProperties':
      return err(
        `${e.instancePath}/${escapePointer(e.params.additionalProperty)}`,
        'unknown-field',
        'is not a field of the contract',
      );
    case 'anyOf': {
      const schema = e.parentSchema as { 'x-rule'?: string; description?: string } | undefined;
      const rule = schema?.['x-rule'] ?? 'anyOf';
      return err(e.instancePath, rule, describeUnion(rule, schema?.description));
    }
    default:
      return err(e.instancePath, e.keyword, e.message ?? 'is invalid');
  }
}

function describeUnion(rule: string, description: string | undefined): string {
  if (rule === 'decimal')
    return 'must be a decimal ≥ 0 with at most 4 fractional digits and 11 integer digits';
  if (rule === 'enum') return `must be one of the allowed values${description ? ` (${description})` : ''}`;
  return 'matches none of the allowed forms';
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
