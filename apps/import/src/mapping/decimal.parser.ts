import { fromUnits, toUnits } from '@tally/contracts';

/**
 * Money and quantities as written in a CSV export, turned into the contract's decimal text
 * without ever passing through a binary float: `1.234,50` (decimal `,`, thousands `.`) becomes
 * `"1234.5"`. Exports of FLOAT64 columns may carry float noise (`57.270000000000003`); with
 * `round` such values are rounded half away from zero to 4 fractional digits, on the digits.
 */

export interface DecimalFormat {
  readonly decimalSeparator: '.' | ',';
  /** '' when the source writes none. */
  readonly thousandsSeparator: string;
  readonly round: boolean;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; rule: string; message: string };

const MAX_INTEGER_DIGITS = 11;
const MAX_FRACTION_DIGITS = 4;
const DIGITS = /^(\d*)(?:\.(\d*))?$/;

/** Parses a non-negative decimal into canonical text (no leading zeros, no trailing fractional zeros). */
export function parseDecimal(raw: string, format: DecimalFormat): Parsed<string> {
  const parts = splitDecimal(raw, format);
  if (!parts.ok) return parts;
  let { whole, fraction } = parts.value;
  if (fraction.length > MAX_FRACTION_DIGITS) {
    if (!format.round) {
      return fail(
        'decimal-places',
        `${JSON.stringify(raw)} has ${fraction.length} fractional digits; at most ${MAX_FRACTION_DIGITS} (set money.round to round them)`,
      );
    }
    [whole, fraction] = roundHalfUp(whole, fraction);
  }
  fraction = fraction.replace(/0+$/, '');
  whole = whole.replace(/^0+(?=\d)/, '');
  if (whole.length > MAX_INTEGER_DIGITS) {
    return fail('too-large', `${JSON.stringify(raw)} has more than ${MAX_INTEGER_DIGITS} integer digits`);
  }
  return { ok: true, value: fraction === '' ? whole : `${whole}.${fraction}` };
}

/** A positive whole number of units; `2.00` reads as 2, `2.5` is an error. */
export function parseQuantity(raw: string, format: DecimalFormat): Parsed<number> {
  const parts = splitDecimal(raw, format);
  if (!parts.ok) return parts;
  const { whole, fraction } = parts.value;
  if (/[^0]/.test(fraction)) return fail('integer', `${JSON.stringify(raw)} is not a whole number of units`);
  const value = Number(whole);
  if (!Number.isSafeInteger(value)) return fail('integer', `${JSON.stringify(raw)} is too large`);
  return { ok: true, value };
}

/** unitPrice = amount ÷ quantity, exact to 4 fractional digits or rounded half away from zero there. */
export function divideDecimal(amount: string, quantity: number): string {
  if (quantity === 1) return amount;
  const units = toUnits(amount);
  const q = BigInt(quantity);
  return fromUnits(units / q + ((units % q) * 2n >= q ? 1n : 0n));
}

function splitDecimal(raw: string, format: DecimalFormat): Parsed<{ whole: string; fraction: string }> {
  let text = raw.trim();
  if (text === '') return fail('required', 'is empty');
  if (text.startsWith('-'))
    return fail(
      'negative',
      `${JSON.stringify(raw)} is negative; amounts are ≥ 0 (returns are their own kind)`,
    );
  if (text.startsWith('+')) text = text.slice(1);
  if (format.thousandsSeparator !== '') text = text.split(format.thousandsSeparator).join('');
  if (format.decimalSeparator === ',') {
    if (text.includes('.')) {
      return fail(
        'decimal',
        `${JSON.stringify(raw)}: '.' is not the decimal separator (',') nor a configured thousands separator`,
      );
    }
    text = text.replace(',', '.');
  } else if (text.includes(',')) {
    return fail(
      'decimal',
      `${JSON.stringify(raw)}: ',' is not the decimal separator ('.') nor a configured thousands separator`,
    );
  }
  const match = DIGITS.exec(text);
  if (match === null || (match[1] === '' && (match[2] ?? '') === '')) {
    return fail('decimal', `${JSON.stringify(raw)} is not a decimal number`);
  }
  return { ok: true, value: { whole: match[1] === '' ? '0' : match[1]!, fraction: match[2] ?? '' } };
}

function roundHalfUp(whole: string, fraction: string): [string, string] {
  const kept = fraction.slice(0, MAX_FRACTION_DIGITS);
  let units = BigInt(whole + kept);
  if (fraction.charCodeAt(MAX_FRACTION_DIGITS) >= 53 /* '5' */) units += 1n;
  const text = units.toString().padStart(MAX_FRACTION_DIGITS + 1, '0');
  return [text.slice(0, -MAX_FRACTION_DIGITS), text.slice(-MAX_FRACTION_DIGITS)];
}

function fail<T>(rule: string, message: string): Parsed<T> {
  return { ok: false, rule, message };
}
