import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMoney, isZeroMoney, type MoneySum, moneyApprox, moneyBigint } from './money.js';

const CARRY = 2 ** 40;
const MAX_LINE_UNITS = 999_999_999_999_999;

function zero(): MoneySum {
  return { lo: 0, hi: 0 };
}

/** A sum held within the documented invariant: both halves safe integers, |lo| below the carry. */
function expectNormalized(sum: MoneySum): void {
  expect(Number.isSafeInteger(sum.lo)).toBe(true);
  expect(Number.isSafeInteger(sum.hi)).toBe(true);
  expect(Math.abs(sum.lo)).toBeLessThan(CARRY);
}

describe('money sums', () => {
  it('summing 10,000 amounts of 999,999,999,999,999 units equals the bigint sum, far beyond 2^53', () => {
    const sum = zero();
    for (let i = 0; i < 10_000; i++) addMoney(sum, MAX_LINE_UNITS, 0, 1);
    const expected = 10_000n * 999_999_999_999_999n;
    expect(expected > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(moneyBigint(sum)).toBe(expected);
    expectNormalized(sum);
  });

  it('subtracting the same 10,000 amounts brings the sum back to exactly zero', () => {
    const sum = zero();
    for (let i = 0; i < 10_000; i++) addMoney(sum, MAX_LINE_UNITS, 0, 1);
    for (let i = 0; i < 10_000; i++) addMoney(sum, MAX_LINE_UNITS, 0, -1);
    expect(moneyBigint(sum)).toBe(0n);
    expect(isZeroMoney(sum)).toBe(true);
    expect(sum).toEqual({ lo: 0, hi: 0 });
  });

  it('a sum can go negative and carries downwards exactly', () => {
    const sum = zero();
    for (let i = 0; i < 3_000; i++) addMoney(sum, MAX_LINE_UNITS, 0, -1);
    addMoney(sum, 1, 0, 1);
    expect(moneyBigint(sum)).toBe(-3_000n * 999_999_999_999_999n + 1n);
    expectNormalized(sum);
    expect(isZeroMoney(sum)).toBe(false);
  });

  it('adding another sum (lo and hi together) is exact, as buckets merging into a window do', () => {
    const bucket = zero();
    for (let i = 0; i < 5_000; i++) addMoney(bucket, MAX_LINE_UNITS - i, 0, 1);
    const window = zero();
    addMoney(window, 123_456_789, 0, 1);
    addMoney(window, bucket.lo, bucket.hi, 1);
    addMoney(window, bucket.lo, bucket.hi, 1);
    const bucketExact = 5_000n * 999_999_999_999_999n - (4_999n * 5_000n) / 2n;
    expect(moneyBigint(bucket)).toBe(bucketExact);
    expect(moneyBigint(window)).toBe(123_456_789n + 2n * bucketExact);
    addMoney(window, bucket.lo, bucket.hi, -1);
    addMoney(window, bucket.lo, bucket.hi, -1);
    // lo and hi may differ in sign (the representation is not unique), but the value is exact.
    expect(moneyBigint(window)).toBe(123_456_789n);
    expect(moneyApprox(window)).toBe(123_456_789);
    expectNormalized(window);
  });

  it('the approximation is exact below 2^53 units', () => {
    const sum = zero();
    addMoney(sum, MAX_LINE_UNITS, 0, 1);
    addMoney(sum, MAX_LINE_UNITS, 0, 1);
    addMoney(sum, 7, 0, 1);
    expect(moneyApprox(sum)).toBe(2 * MAX_LINE_UNITS + 7);
    expect(BigInt(moneyApprox(sum))).toBe(moneyBigint(sum));
  });

  it('any sequence of signed line amounts sums exactly and stays normalized (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            amount: fc.oneof(
              fc.integer({ min: 0, max: 100_000 }),
              fc.integer({ min: 0, max: MAX_LINE_UNITS }),
            ),
            sign: fc.constantFrom(1 as const, -1 as const),
          }),
          { maxLength: 300 },
        ),
        (steps) => {
          const sum = zero();
          let expected = 0n;
          for (const { amount, sign } of steps) {
            addMoney(sum, amount, 0, sign);
            expected += BigInt(sign) * BigInt(amount);
            expectNormalized(sum);
          }
          expect(moneyBigint(sum)).toBe(expected);
          expect(isZeroMoney(sum)).toBe(expected === 0n);
          // Undo everything in reverse: exactly zero again.
          for (const { amount, sign } of steps.toReversed()) addMoney(sum, amount, 0, sign === 1 ? -1 : 1);
          expect(moneyBigint(sum)).toBe(0n);
          expect(isZeroMoney(sum)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the approximation never orders two sums against their exact values (property)', () => {
    const sumOf = (amounts: number[]): MoneySum => {
      const s = zero();
      for (const a of amounts) addMoney(s, a, 0, 1);
      return s;
    };
    const amounts = fc.array(fc.integer({ min: 0, max: MAX_LINE_UNITS }), { maxLength: 40 });
    fc.assert(
      fc.property(amounts, amounts, (xs, ys) => {
        const a = sumOf(xs);
        const b = sumOf(ys);
        const exact = moneyBigint(a) - moneyBigint(b);
        const approx = moneyApprox(a) - moneyApprox(b);
        if (exact > 0n) expect(approx).toBeGreaterThanOrEqual(0);
        if (exact < 0n) expect(approx).toBeLessThanOrEqual(0);
        if (exact === 0n) expect(approx).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
