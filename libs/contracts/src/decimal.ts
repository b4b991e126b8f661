/**
 * Exact money: decimals with at most 4 fractional digits, held as integer counts of 1/10,000
 * (plain numbers while below 2^53, bigint beyond).
 *
 * Binary floats cannot hold 0.1 exactly, so sums drift; a fixed scale of 4 covers every
 * currency's minor unit (and the sub-cent unit prices of fuel or bulk goods) and makes
 * addition and multiplication by a quantity exact integer arithmetic.
 *
 * JSON numbers are accepted on input: a number is read back through its shortest round-trip
 * representation (`String(n)`), which for values of at most 15 significant digits is exactly
 * the text the client sent. The bounds below (11 integer + 4 fractional digits) keep every
 * accepted number inside that range, so accepting numbers never changes a value.
 */
export const MONEY_SCALE = 4;
const SCALE = 10_000n;

/** Non-negative decimal, up to 11 integer digits and 4 fractional digits, no exponent. */
export const MONEY_PATTERN = '^(0|[1-9][0-9]{0,10})(\\.[0-9]{1,4})?$';
const MONEY_RE = new RegExp(MONEY_PATTERN);

/** Largest amount a single money field (or a line's quantity × unitPrice) may hold: 99,999,999,999.9999. */
export const MONEY_MAX_UNITS = 999_999_999_999_999;

/** The decimal text of a JSON money value (as sent; formatUnits makes it canonical), or undefined if it is not one. */
export function moneyText(value: unknown): string | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return typeof text === 'string' && MONEY_RE.test(text) ? text : undefined;
}

/** Parses a decimal that already matched MONEY_PATTERN into units of 1/10,000. */
export function toUnits(text: string): bigint {
  const dot = text.indexOf('.');
  if (dot < 0) return BigInt(text) * SCALE;
  const frac = text.slice(dot + 1).padEnd(MONEY_SCALE, '0');
  return BigInt(text.slice(0, dot)) * SCALE + BigInt(frac);
}

/** Formats units of 1/10,000 as a decimal without trailing zeros: 123400n -> "12.34". */
export function fromUnits(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / SCALE;
  const frac = abs % SCALE;
  const sign = negative ? '-' : '';
  if (frac === 0n) return `${sign}${whole}`;
  return `${sign}${whole}.${frac.toString().padStart(MONEY_SCALE, '0').replace(/0+$/, '')}`;
}

/**
 * Units of 1/10,000 as a JS number, for the validator's hot path: exact because every money
 * field is below 10^15 units, under 2^53. Callers that multiply or sum must check the result
 * is still a safe integer (and fall back to bigint) before formatting it.
 */
export function unitsOf(text: string): number {
  // Digit by digit: no substrings (this runs for every money field of every sale).
  const n = text.length;
  let whole = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) break;
    whole = whole * 10 + (c - 48);
  }
  let frac = 0;
  let scale = 10_000;
  for (i++; i < n; i++) {
    frac = frac * 10 + (text.charCodeAt(i) - 48);
    scale /= 10;
  }
  return whole * 10_000 + frac * scale;
}

/** Formats a safe-integer count of 1/10,000 like fromUnits. */
export function formatUnits(units: number): string {
  if (!Number.isSafeInteger(units)) return fromUnits(BigInt(units));
  const abs = Math.abs(units);
  const whole = Math.floor(abs / 10_000);
  const frac = abs - whole * 10_000;
  const sign = units < 0 ? '-' : '';
  if (frac === 0) return `${sign}${whole}`;
  return `${sign}${whole}.${String(frac).padStart(MONEY_SCALE, '0').replace(/0+$/, '')}`;
}

/** Exact sum of decimal strings (any sign), returned as a decimal string. */
export function sumDecimals(values: Iterable<string>): string {
  let total = 0n;
  for (const v of values) total += signedToUnits(v);
  return fromUnits(total);
}

/** Like toUnits, but accepts a leading minus sign (net amounts of returns). */
export function signedToUnits(text: string): bigint {
  return text.startsWith('-') ? -toUnits(text.slice(1)) : toUnits(text);
}
