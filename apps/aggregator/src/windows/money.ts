/**
 * Exact money sums for the in-memory windows, without bigint on the hot path.
 *
 * Amounts are integer units of 1/10,000 (see @tally/contracts decimal.ts). A sum is held as two
 * plain numbers, `lo + hi × 2^40`, with |lo| < 2^40: adding any one line amount (< 2^50) keeps
 * `lo` a safe integer, and carrying the excess into `hi` keeps it so. Both stay exact integers,
 * so a sum is exact up to 2^93 units, far beyond any revenue, while each add costs two float
 * additions and a compare. `approx` (exact below 2^53 units, i.e. 900 billion) orders rankings.
 */
export interface MoneySum {
  lo: number;
  hi: number;
}

const CARRY = 2 ** 40;
const CARRY_BIG = 40n;

/** sum += sign × (lo + hi × 2^40). */
export function addMoney(sum: MoneySum, lo: number, hi: number, sign: 1 | -1): void {
  sum.lo += sign * lo;
  sum.hi += sign * hi;
  if (sum.lo >= CARRY || sum.lo <= -CARRY) {
    const q = Math.trunc(sum.lo / CARRY);
    sum.hi += q;
    sum.lo -= q * CARRY;
  }
}

export function moneyBigint(sum: MoneySum): bigint {
  return (BigInt(sum.hi) << CARRY_BIG) + BigInt(sum.lo);
}

/** The sum as a number of units: exact below 2^53 units, close enough to rank beyond. */
export function moneyApprox(sum: MoneySum): number {
  return sum.hi * CARRY + sum.lo;
}

export function isZeroMoney(sum: MoneySum): boolean {
  return sum.lo === 0 && sum.hi === 0;
}
