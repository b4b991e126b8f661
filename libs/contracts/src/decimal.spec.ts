import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatUnits,
  fromUnits,
  MONEY_MAX_UNITS,
  MONEY_PATTERN,
  moneyText,
  signedToUnits,
  sumDecimals,
  toUnits,
  unitsOf,
} from './decimal.js';

const RUNS = { numRuns: 300 };
const MAX_UNITS = BigInt(MONEY_MAX_UNITS);
const digit = fc.constantFrom(...'0123456789');

/** A decimal as text, split into its parts so the tests can compute its value without decimal.ts. */
const decimalParts = fc.record({
  int: fc.bigInt({ min: 0n, max: 99_999_999_999n }),
  frac: fc.string({ unit: digit, maxLength: 4 }),
});
const textOf = ({ int, frac }: { int: bigint; frac: string }) => (frac === '' ? `${int}` : `${int}.${frac}`);
/** Value in 1/10,000 built by string concatenation: "12" + "3400" for 12.34. */
const expectedUnits = ({ int, frac }: { int: bigint; frac: string }) =>
  BigInt(`${int}${frac.padEnd(4, '0')}`);
/** Canonical text built by slicing digits rather than by div/mod: 123400n -> "12.34". */
function canonical(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const digits = (units < 0n ? -units : units).toString().padStart(5, '0');
  const frac = digits.slice(-4).replace(/0+$/, '');
  return `${sign}${digits.slice(0, -4)}${frac === '' ? '' : `.${frac}`}`;
}

describe('toUnits / fromUnits', () => {
  it('reads every valid decimal text as its exact value in 1/10,000', () => {
    fc.assert(
      fc.property(decimalParts, (parts) => {
        expect(new RegExp(MONEY_PATTERN).test(textOf(parts))).toBe(true);
        expect(toUnits(textOf(parts))).toBe(expectedUnits(parts));
      }),
      RUNS,
    );
  });

  it('round-trips every valid decimal text through units to the same value in canonical form', () => {
    fc.assert(
      fc.property(decimalParts, (parts) => {
        const text = fromUnits(toUnits(textOf(parts)));
        expect(text).toBe(canonical(expectedUnits(parts)));
        expect(toUnits(text)).toBe(expectedUnits(parts));
        expect(text).toMatch(new RegExp(MONEY_PATTERN));
        // Canonical: no trailing fractional zeros and no bare dot.
        expect(text).not.toMatch(/\.[0-9]*0$|\.$/);
      }),
      RUNS,
    );
  });

  it('formats every unit count up to the money maximum so that it parses back to the same count', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_UNITS }), (units) => {
        expect(fromUnits(units)).toBe(canonical(units));
        expect(toUnits(fromUnits(units))).toBe(units);
      }),
      RUNS,
    );
  });

  it('formats negative unit counts with a leading minus that signedToUnits reads back', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -MAX_UNITS, max: MAX_UNITS }), (units) => {
        expect(fromUnits(units)).toBe(canonical(units));
        expect(signedToUnits(fromUnits(units))).toBe(units);
      }),
      RUNS,
    );
    expect(fromUnits(-12_3400n)).toBe('-12.34');
    expect(fromUnits(-1n)).toBe('-0.0001');
  });

  it('canonicalizes trailing zeros away: "19.90" -> "19.9", "5.0000" -> "5", "0.0" -> "0"', () => {
    expect(fromUnits(toUnits('19.90'))).toBe('19.9');
    expect(fromUnits(toUnits('5.0000'))).toBe('5');
    expect(fromUnits(toUnits('0.0'))).toBe('0');
    expect(fromUnits(toUnits('0.0001'))).toBe('0.0001');
    expect(fromUnits(toUnits('99999999999.9999'))).toBe('99999999999.9999');
    expect(toUnits('99999999999.9999')).toBe(MAX_UNITS);
  });
});

describe('moneyText', () => {
  it('accepts every JSON number whose shortest text has at most 4 decimals, as that exact text', () => {
    fc.assert(
      fc.property(decimalParts, (parts) => {
        const n = Number(textOf(parts));
        expect(moneyText(n)).toBe(String(n));
        // The number reads back to the value the client wrote, digit for digit.
        expect(moneyText(n)).toBe(canonical(expectedUnits(parts)));
        expect(moneyText(JSON.parse(textOf(parts)))).toBe(canonical(expectedUnits(parts)));
      }),
      RUNS,
    );
  });

  it('accepts every valid decimal string unchanged', () => {
    fc.assert(
      fc.property(decimalParts, (parts) => {
        expect(moneyText(textOf(parts))).toBe(textOf(parts));
      }),
      RUNS,
    );
  });

  it('refuses every JSON number with more than 4 decimals', () => {
    const tooPrecise = fc
      .record({
        int: fc.integer({ min: 0, max: 99_999 }),
        frac: fc.string({ unit: digit, minLength: 5, maxLength: 8 }),
      })
      .filter(({ frac }) => !frac.endsWith('0'));
    fc.assert(
      fc.property(tooPrecise, ({ int, frac }) => {
        expect(moneyText(Number(`${int}.${frac}`))).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('refuses 1e-7, 0.12345, NaN, ±Infinity, negative numbers and numbers past 11 integer digits', () => {
    for (const n of [
      1e-7,
      0.12345,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -1,
      -0.5,
      1e21,
      1e11,
    ]) {
      expect(moneyText(n), String(n)).toBeUndefined();
    }
  });

  it('refuses strings that are not plain non-negative decimals', () => {
    for (const s of [
      '',
      '-1',
      '+1',
      '01',
      '.5',
      '1.',
      '1.23456',
      '1e2',
      ' 1',
      '1 ',
      '1,5',
      'NaN',
      '100000000000',
      '0x10',
    ]) {
      expect(moneyText(s), JSON.stringify(s)).toBeUndefined();
    }
  });

  it('refuses values that are neither strings nor numbers', () => {
    for (const v of [null, undefined, true, 1n, {}, [], ['1']]) {
      expect(moneyText(v)).toBeUndefined();
    }
  });
});

describe('sumDecimals', () => {
  const signed = fc.record({ negative: fc.boolean(), parts: decimalParts });
  const signedText = ({ negative, parts }: { negative: boolean; parts: { int: bigint; frac: string } }) =>
    `${negative ? '-' : ''}${textOf(parts)}`;
  const signedUnits = ({ negative, parts }: { negative: boolean; parts: { int: bigint; frac: string } }) =>
    negative ? -expectedUnits(parts) : expectedUnits(parts);

  it('equals the sum of the values computed independently as bigint counts of 1/10,000', () => {
    fc.assert(
      fc.property(fc.array(signed, { maxLength: 20 }), (values) => {
        const expected = values.reduce((sum, v) => sum + signedUnits(v), 0n);
        expect(sumDecimals(values.map(signedText))).toBe(canonical(expected));
      }),
      RUNS,
    );
  });

  it('does not depend on the order of its inputs', () => {
    fc.assert(
      fc.property(fc.array(signed, { maxLength: 10 }), (values) => {
        const texts = values.map(signedText);
        expect(sumDecimals([...texts].reverse())).toBe(sumDecimals(texts));
      }),
      RUNS,
    );
  });

  it('sums to "0" for no values', () => {
    expect(sumDecimals([])).toBe('0');
  });

  it('is exact where binary floats drift: 0.1 + 0.2 and ten times 0.1', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(sumDecimals(['0.1', '0.2'])).toBe('0.3');
    const tenDimes = Array.from({ length: 10 }, () => '0.1');
    expect(tenDimes.reduce((a, b) => a + Number(b), 0)).not.toBe(1);
    expect(sumDecimals(tenDimes)).toBe('1');
    expect(sumDecimals(['1.1', '1.1', '1.1'])).toBe('3.3');
    expect(sumDecimals(['10', '-2.5', '-7.5'])).toBe('0');
  });
});

describe('unitsOf / formatUnits (number fast path)', () => {
  it('reads every valid decimal text to the same count as the bigint path, exactly', () => {
    fc.assert(
      fc.property(decimalParts, (parts) => {
        const units = unitsOf(textOf(parts));
        expect(Number.isSafeInteger(units)).toBe(true);
        expect(BigInt(units)).toBe(expectedUnits(parts));
      }),
      RUNS,
    );
  });

  it('formats every safe count up to ±the money maximum like fromUnits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -MAX_UNITS, max: MAX_UNITS }), (units) => {
        expect(formatUnits(Number(units))).toBe(canonical(units));
      }),
      RUNS,
    );
  });

  it('formats integers beyond 2^53 through bigint, digit for digit', () => {
    const big = 2 ** 60;
    expect(formatUnits(big)).toBe(canonical(BigInt(big)));
    expect(formatUnits(-big)).toBe(canonical(-BigInt(big)));
  });
});
