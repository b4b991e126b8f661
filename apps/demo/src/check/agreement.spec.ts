import { describe, expect, it } from 'vitest';
import { agreementJson, checkAgreement, formatAgreement, formatMoney } from './agreement.js';

const reference = { store: 'acknowledged', tally: { count: 2000, netUnits: 243_812_000n } }; // 24,381.20
const same = { count: 2000, netUnits: 243_812_000n };

describe('the agreement check', () => {
  it('agrees when every store holds the acknowledged count and net revenue, and says so under the table', () => {
    const report = checkAgreement(reference, [
      { store: 'stream', tally: same },
      { store: 'Postgres', tally: same },
      { store: 'Spanner', tally: same },
      { store: 'ClickHouse', tally: same },
      { store: 'aggregator', tally: same },
    ]);
    expect(report.agree).toBe(true);
    expect(report.disagreements).toEqual([]);
    const lines = formatAgreement(report, 'EUR');
    expect(lines[0]).toMatch(/^store\s+receipts\s+net revenue \(EUR\)\s+check$/);
    expect(lines.find((l) => l.startsWith('Spanner'))).toMatch(/^Spanner\s+2000\s+24381\.20\s+ok$/);
    expect(lines.at(-1)).toBe(
      'AGREE: every store holds the 2000 acknowledged receipts, net revenue 24381.20 EUR',
    );
    // Aligned: the numbers of every row end in the same column.
    const ends = lines.slice(2, -1).map((l) => l.indexOf('24381.20') + '24381.20'.length);
    expect(new Set(ends).size).toBe(1);
  });

  it('names a store that is short of receipts and by how much, and only that store', () => {
    const report = checkAgreement(reference, [
      { store: 'Postgres', tally: same },
      { store: 'Spanner', tally: { count: 1997, netUnits: 243_812_000n - 311_000n } },
    ]);
    expect(report.agree).toBe(false);
    expect(report.disagreements).toHaveLength(1);
    expect(report.disagreements[0]).toMatchObject({ store: 'Spanner', countDiff: -3, netDiff: -311_000n });
    const lines = formatAgreement(report);
    expect(lines.find((l) => l.startsWith('Spanner'))).toMatch(/OFF -3 receipts, -31\.10$/);
    expect(lines.filter((l) => l.startsWith('DISAGREE'))).toEqual([
      'DISAGREE: Spanner 3 receipts short, net revenue 31.10 short (holds 1997 receipts, 24350.10; expected 2000, 24381.20)',
    ]);
  });

  it('names a store whose count is right but whose net revenue is off, to the ten-thousandth', () => {
    const report = checkAgreement(reference, [
      { store: 'ClickHouse', tally: { count: 2000, netUnits: 243_812_001n } },
      { store: 'aggregator', tally: same },
    ]);
    expect(report.agree).toBe(false);
    expect(report.disagreements.map((d) => d.store)).toEqual(['ClickHouse']);
    expect(report.disagreements[0]!.reason).toMatch(/^net revenue 0\.0001 too high/);
  });

  it('names a store holding more receipts than were acknowledged', () => {
    const report = checkAgreement(reference, [
      { store: 'stream', tally: { count: 2001, netUnits: 243_822_000n } },
    ]);
    expect(report.disagreements[0]!.reason).toMatch(/^1 receipt too many, net revenue 1\.00 too high/);
  });

  it('counts a store that could not be read as disagreeing, with the reason', () => {
    const report = checkAgreement(reference, [
      { store: 'Postgres', tally: same },
      { store: 'Spanner', error: 'DEADLINE_EXCEEDED' },
    ]);
    expect(report.agree).toBe(false);
    expect(formatAgreement(report).at(-1)).toBe('DISAGREE: Spanner could not be read: DEADLINE_EXCEEDED');
    expect(agreementJson(report)).toMatchObject({
      agree: false,
      reference: { store: 'acknowledged', count: 2000, netRevenue: '24381.2' },
      stores: [
        { store: 'Postgres', count: 2000, netRevenue: '24381.2' },
        { store: 'Spanner', error: 'DEADLINE_EXCEEDED' },
      ],
    });
  });

  it('formats money exactly with at least two decimals, negatives included', () => {
    expect(formatMoney(0n)).toBe('0.00');
    expect(formatMoney(12_345n)).toBe('1.2345');
    expect(formatMoney(-5_000n)).toBe('-0.50');
    expect(formatMoney(123_456_789_012_345_678_901n)).toBe('12345678901234567.8901');
  });

  describe('per category', () => {
    const categories = new Map([
      ['dairy', 150_000_000n],
      ['bakery', 93_812_000n],
    ]);
    const withCategories = { ...reference, tally: { ...reference.tally, categories } };

    it('agrees when every store holds each category net revenue, and says it checked the categories', () => {
      const report = checkAgreement(withCategories, [
        { store: 'Postgres', tally: { ...same, categories: new Map([...categories, ['snacks', 0n]]) } },
        { store: 'aggregator', tally: { ...same, categories } },
      ]);
      expect(report.agree).toBe(true);
      expect(formatAgreement(report, 'EUR').at(-1)).toBe(
        "AGREE: every store holds the 2000 acknowledged receipts, net revenue 24381.20 EUR, and each of the 2 categories' net revenue",
      );
      expect(agreementJson(report)).toMatchObject({
        reference: { categories: { dairy: '15000', bakery: '9381.2' } },
        stores: [
          { store: 'Postgres', categories: { dairy: '15000', bakery: '9381.2' } },
          { store: 'aggregator' },
        ],
      });
    });

    it('names a store whose totals are right but which holds a line under another category', () => {
      const moved = new Map([
        ['dairy', 150_000_000n - 11_500n],
        ['bakery', 93_812_000n],
        ['produce', 11_500n],
      ]);
      const report = checkAgreement(withCategories, [
        { store: 'Postgres', tally: { ...same, categories } },
        { store: 'ClickHouse', tally: { ...same, categories: moved } },
      ]);
      expect(report.agree).toBe(false);
      expect(report.disagreements).toHaveLength(1);
      expect(report.disagreements[0]).toMatchObject({
        store: 'ClickHouse',
        countDiff: 0,
        netDiff: 0n,
        categoryDiffs: new Map([
          ['dairy', -11_500n],
          ['produce', 11_500n],
        ]),
      });
      const lines = formatAgreement(report, 'EUR');
      expect(lines.find((l) => l.startsWith('ClickHouse'))).toMatch(/OFF dairy -1\.15, produce \+1\.15$/);
      expect(lines.at(-1)).toBe(
        'DISAGREE: ClickHouse net revenue by category differs: dairy 1.15 short, produce 1.15 too high (holds 2000 receipts, 24381.20; expected 2000, 24381.20)',
      );
      expect(agreementJson(report)).toMatchObject({
        disagreements: [{ store: 'ClickHouse', categoryDiffs: { dairy: '-1.15', produce: '1.15' } }],
      });
    });

    it('compares categories only where both sides have them, and says in how many stores', () => {
      const report = checkAgreement(withCategories, [
        { store: 'Postgres', tally: { ...same, categories } },
        { store: 'legacy', tally: same },
      ]);
      expect(report.agree).toBe(true);
      expect(formatAgreement(report).at(-1)).toBe(
        "AGREE: every store holds the 2000 acknowledged receipts, net revenue 24381.20, and (1 of 2 stores) each of the 2 categories' net revenue",
      );
    });
  });
});
