import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecimalFormat, divideDecimal, parseDecimal, parseQuantity } from './decimal.parser.js';

const DOT: DecimalFormat = { decimalSeparator: '.', thousandsSeparator: '', round: false };
const EURO: DecimalFormat = { decimalSeparator: ',', thousandsSeparator: '.', round: false };
const value = (text: string, format = DOT) => {
  const result = parseDecimal(text, format);
  if (!result.ok) throw new Error(`${text}: ${result.message}`);
  return result.value;
};
const rule = (text: string, format = DOT) => {
  const result = parseDecimal(text, format);
  return result.ok ? `parsed ${result.value}` : result.rule;
};

describe('decimal parsing', () => {
  it('turns dot and comma decimals, with thousands separators, into canonical contract text', () => {
    expect(value('57.27')).toBe('57.27');
    expect(value(' 0045.500 ')).toBe('45.5');
    expect(value('.5')).toBe('0.5');
    expect(value('7.')).toBe('7');
    expect(value('1.234,50', EURO)).toBe('1234.5');
    expect(value('12,3', { ...EURO, thousandsSeparator: '' })).toBe('12.3');
    expect(value('1 234 567,89', { ...EURO, thousandsSeparator: ' ' })).toBe('1234567.89');
    expect(value('1,234.5', { ...DOT, thousandsSeparator: ',' })).toBe('1234.5');
  });

  it('rejects the other separator when it is not configured, instead of guessing', () => {
    expect(rule('1,5')).toBe('decimal');
    expect(rule('1.5', { ...EURO, thousandsSeparator: '' })).toBe('decimal');
  });

  it('rejects negatives, exponents, text and empty cells with their own rule', () => {
    expect(rule('-3.00')).toBe('negative');
    expect(rule('5.727E1')).toBe('decimal');
    expect(rule('abc')).toBe('decimal');
    expect(rule('')).toBe('required');
    expect(rule('123456789012')).toBe('too-large');
  });

  it('rejects more than 4 fractional digits unless the mapping rounds them (FLOAT64 noise)', () => {
    expect(rule('57.270000000000003')).toBe('decimal-places');
    const round = { ...DOT, round: true };
    expect(value('57.270000000000003', round)).toBe('57.27');
    expect(value('57.269999999999996', round)).toBe('57.27');
    expect(value('0.00005', round)).toBe('0.0001');
    expect(value('0.00004', round)).toBe('0');
    expect(value('9.99995', round)).toBe('10');
  });

  it('never goes through a binary float: any 11+4 digit decimal comes back digit for digit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 999_999_999_999_999n }), (units) => {
        const whole = (units / 10_000n).toString();
        const fraction = (units % 10_000n).toString().padStart(4, '0');
        const canonical = `${whole}.${fraction}`.replace(/\.?0+$/, '');
        expect(value(`${whole}.${fraction}`)).toBe(canonical);
        expect(value(`${whole},${fraction}`, { ...EURO, thousandsSeparator: '' })).toBe(canonical);
      }),
    );
  });
});

describe('quantities and unit prices', () => {
  it('reads whole quantities, also written with a zero fraction', () => {
    expect(parseQuantity('3', DOT)).toEqual({ ok: true, value: 3 });
    expect(parseQuantity('2.00', DOT)).toEqual({ ok: true, value: 2 });
    expect(parseQuantity('2,5', EURO)).toMatchObject({ ok: false, rule: 'integer' });
  });

  it('derives a unit price from a line total exactly, or rounded half up at 4 digits', () => {
    expect(divideDecimal('57.27', 1)).toBe('57.27');
    expect(divideDecimal('10', 4)).toBe('2.5');
    expect(divideDecimal('10', 3)).toBe('3.3333');
    expect(divideDecimal('0.0005', 2)).toBe('0.0003');
  });
});
