import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './durations.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30e9],
    ['2m', 120e9],
    ['1h', 3_600e9],
    ['7d', 604_800e9],
    ['30d', 2_592_000e9],
    ['500ms', 500e6],
    ['1h30m', 5_400e9],
    ['1.5s', 1.5e9],
    ['0s', 0],
  ])('reads %s as %d nanoseconds', (text, nanos) => {
    expect(parseDuration(text)).toBe(nanos);
  });

  it('passes integer nanoseconds through, as the JetStream API writes them', () => {
    expect(parseDuration(120_000_000_000)).toBe(120_000_000_000);
  });

  it.each(['', '30', 's', '2 minutes', '1w', '-5s', '1m-', 'abc'])(
    'refuses %j with an example of what works',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/invalid duration .*"30s"/);
    },
  );

  it('refuses negative, fractional and non-number values', () => {
    expect(() => parseDuration(-1)).toThrow(/non-negative integer/);
    expect(() => parseDuration(1.5)).toThrow(/non-negative integer/);
    expect(() => parseDuration(true)).toThrow(/invalid duration/);
  });

  it('refuses a duration too long for exact nanoseconds instead of rounding it', () => {
    expect(() => parseDuration('365d')).toThrow(/too large/);
  });
});

describe('formatDuration', () => {
  it('writes nanoseconds the way definition files do', () => {
    expect(formatDuration(604_800e9)).toBe('7d');
    expect(formatDuration(120e9)).toBe('2m');
    expect(formatDuration(5_400e9)).toBe('1h30m');
    expect(formatDuration(1_500e6)).toBe('1s500ms');
    expect(formatDuration(0)).toBe('0s');
  });

  it('round-trips with parseDuration', () => {
    for (const text of ['30s', '2m', '7d', '1h30m', '1s500ms']) {
      expect(formatDuration(parseDuration(text))).toBe(text);
    }
  });
});
