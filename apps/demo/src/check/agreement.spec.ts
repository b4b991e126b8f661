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
});
