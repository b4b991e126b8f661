import { BRANCH_ID_PATTERN, formatUnits, ID_PATTERN, moneyText, unitsOf } from '@tally/contracts';

/**
 * The catalog: the branches sales may come from and the products they may sell, with list
 * prices. Imported from CSV into Postgres (`branches`, `products`), published to a NATS KV
 * bucket, held in memory by ingest. One set of field rules serves every way in: a CSV row, a
 * KV value read back, so what ingest holds can never be looser than what the import accepted.
 *
 * Identifiers follow the sale contract: a productId is what a sale line names (ID_PATTERN), a
 * branchId what a sale's branchId may be (BRANCH_ID_PATTERN), lengths as in the sale line.
 */
export interface CatalogProduct {
  readonly productId: string;
  readonly name: string;
  readonly category: string;
  readonly brand?: string;
  /** Canonical decimal text, e.g. "1.15" (exact, at most 4 fractional digits). */
  readonly listPrice: string;
  /** ISO 4217 code of the list price. */
  readonly currency: string;
}

export interface CatalogBranch {
  readonly branchId: string;
  readonly name: string;
  readonly city?: string;
  /** Country code, as a sale's sellerCountry (e.g. DE). */
  readonly countryId?: string;
}

export interface Catalog {
  readonly products: readonly CatalogProduct[];
  readonly branches: readonly CatalogBranch[];
}

/** A field that breaks a rule: `rule` is a stable name (`required`, `pattern`, `decimal`...). */
export interface CatalogFieldError {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: CatalogFieldError[] };

const idRe = new RegExp(ID_PATTERN);
const branchIdRe = new RegExp(BRANCH_ID_PATTERN);
const currencyRe = /^[A-Z]{3}$/;
const countryRe = /^[A-Za-z0-9]{1,8}$/;
const currencies = new Set(Intl.supportedValuesOf('currency'));

interface TextRule {
  readonly required: boolean;
  readonly maxLength: number;
  readonly pattern?: RegExp;
  readonly patternText?: string;
}

/**
 * Reads one text field: absent or empty (an empty CSV cell) is "not given"; anything else must
 * be a string within the rule. Returns undefined and records an error when the field breaks it.
 */
function text(
  raw: Readonly<Record<string, unknown>>,
  field: string,
  rule: TextRule,
  errors: CatalogFieldError[],
): string | undefined {
  const value = raw[field];
  if (value === undefined || value === null || value === '') {
    if (rule.required) errors.push({ field, rule: 'required', message: 'is required' });
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.push({ field, rule: 'type', message: 'must be a string' });
    return undefined;
  }
  if (value.length > rule.maxLength) {
    errors.push({ field, rule: 'max-length', message: `must be at most ${rule.maxLength} characters` });
    return undefined;
  }
  if (rule.pattern !== undefined && !rule.pattern.test(value)) {
    errors.push({ field, rule: 'pattern', message: `must be ${rule.patternText}` });
    return undefined;
  }
  return value;
}

/** Checks a product's fields (strings, as from a CSV row or a KV value) and canonicalises its price. */
export function checkProduct(raw: Readonly<Record<string, unknown>>): Checked<CatalogProduct> {
  const errors: CatalogFieldError[] = [];
  const productId = text(
    raw,
    'productId',
    { required: true, maxLength: 64, pattern: idRe, patternText: '1–64 of A-Z a-z 0-9 . _ : -' },
    errors,
  );
  const name = text(raw, 'name', { required: true, maxLength: 200 }, errors);
  const category = text(raw, 'category', { required: true, maxLength: 64 }, errors);
  const brand = text(raw, 'brand', { required: false, maxLength: 64 }, errors);
  const price = text(raw, 'listPrice', { required: true, maxLength: 32 }, errors);
  const priceText = price === undefined ? undefined : moneyText(price);
  if (price !== undefined && priceText === undefined) {
    errors.push({
      field: 'listPrice',
      rule: 'decimal',
      message: 'must be a decimal ≥ 0 with at most 4 fractional digits and 11 integer digits',
    });
  }
  const currency = text(
    raw,
    'currency',
    { required: true, maxLength: 16, pattern: currencyRe, patternText: 'an ISO 4217 code such as EUR' },
    errors,
  );
  if (currency !== undefined && !currencies.has(currency)) {
    errors.push({
      field: 'currency',
      rule: 'iso4217',
      message: `${currency} is not an ISO 4217 currency code`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      productId: productId!,
      name: name!,
      category: category!,
      ...(brand !== undefined && { brand }),
      listPrice: formatUnits(unitsOf(priceText!)),
      currency: currency!,
    },
  };
}

/** Checks a branch's fields (strings, as from a CSV row or a KV value). */
export function checkBranch(raw: Readonly<Record<string, unknown>>): Checked<CatalogBranch> {
  const errors: CatalogFieldError[] = [];
  const branchId = text(
    raw,
    'branchId',
    { required: true, maxLength: 64, pattern: branchIdRe, patternText: '1–64 of A-Z a-z 0-9 _ -' },
    errors,
  );
  const name = text(raw, 'name', { required: true, maxLength: 200 }, errors);
  const city = text(raw, 'city', { required: false, maxLength: 100 }, errors);
  const countryId = text(
    raw,
    'countryId',
    { required: false, maxLength: 8, pattern: countryRe, patternText: '1–8 of A-Z a-z 0-9, e.g. DE' },
    errors,
  );
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      branchId: branchId!,
      name: name!,
      ...(city !== undefined && { city }),
      ...(countryId !== undefined && { countryId }),
    },
  };
}
