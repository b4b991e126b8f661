import { describe, expect, it } from 'vitest';
import { dateParser } from './date.parser.js';

const ok = (format: string, zone: string, text: string) => {
  const result = dateParser(format, zone)(text);
  if (!result.ok) throw new Error(`${text}: ${result.message}`);
  return result.value;
};
const fail = (format: string, zone: string, text: string) => {
  const result = dateParser(format, zone)(text);
  if (result.ok) throw new Error(`${text} parsed as ${result.value}`);
  return result;
};

describe('date formats', () => {
  it('reads the marketplace DATE_PAYMENT (yyyy-MM-dd HH:mm:ss) as UTC when the mapping says so', () => {
    expect(ok('yyyy-MM-dd HH:mm:ss', 'UTC', '2021-01-07 00:09:24')).toBe('2021-01-07T00:09:24Z');
  });

  it('reads European day-first dates, date-only formats as local midnight', () => {
    expect(ok('dd.MM.yyyy', '+02:00', '31.12.2024')).toBe('2024-12-31T00:00:00+02:00');
    expect(ok('dd.MM.yyyy HH:mm', 'UTC', '01.02.2024 07:30')).toBe('2024-02-01T07:30:00Z');
  });

  it('reads single-digit months, days and hours with M, d and H', () => {
    expect(ok('M/d/yyyy H:mm', 'UTC', '3/7/2019 9:05')).toBe('2019-03-07T09:05:00Z');
    expect(ok('M/d/yyyy H:mm', 'UTC', '12/25/2019 21:05')).toBe('2019-12-25T21:05:00Z');
  });

  it('keeps quoted letters literal, fraction digits as written and an offset the text carries', () => {
    expect(ok("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", 'Europe/Berlin', '2024-07-01T10:00:00.120+05:30')).toBe(
      '2024-07-01T10:00:00.120+05:30',
    );
    expect(ok("yyyy-MM-dd'T'HH:mm:ssXXX", 'UTC', '2024-07-01T10:00:00-0800')).toBe(
      '2024-07-01T10:00:00-08:00',
    );
  });

  it('reads ISO variants with iso: T or space, offset, Z, a BigQuery " UTC" suffix, or a bare date', () => {
    expect(ok('iso', 'UTC', '2021-01-07T00:09:24Z')).toBe('2021-01-07T00:09:24Z');
    expect(ok('iso', 'UTC', '2021-01-07 00:09:24 UTC')).toBe('2021-01-07T00:09:24Z');
    expect(ok('iso', 'Asia/Singapore', '2024-05-02')).toBe('2024-05-02T00:00:00+08:00');
    expect(ok('iso', 'Asia/Singapore', '2024-05-02 14:05')).toBe('2024-05-02T14:05:00+08:00');
    expect(ok('iso', 'UTC', '2024-05-02T14:05:00.5+01:00')).toBe('2024-05-02T14:05:00.5+01:00');
  });

  it('rejects text that does not match the format, naming the format', () => {
    expect(fail('yyyy-MM-dd HH:mm:ss', 'UTC', '07/01/2021 00:09')).toMatchObject({
      rule: 'date-format',
      message: expect.stringContaining('yyyy-MM-dd HH:mm:ss'),
    });
    expect(fail('iso', 'UTC', 'yesterday').rule).toBe('date-format');
    expect(fail('iso', 'UTC', '  ').rule).toBe('required');
  });

  it('rejects dates the calendar lacks instead of rolling them over', () => {
    expect(fail('yyyy-MM-dd', 'UTC', '2023-02-29')).toMatchObject({
      rule: 'date',
      message: expect.stringContaining('day 29'),
    });
    expect(ok('yyyy-MM-dd', 'UTC', '2024-02-29')).toBe('2024-02-29T00:00:00Z');
    expect(fail('yyyy-MM-dd HH:mm', 'UTC', '2024-01-01 24:00').rule).toBe('date');
    expect(fail('dd.MM.yyyy', 'UTC', '01.13.2024').rule).toBe('date');
  });

  it('refuses bad formats and unknown zones when the mapping is loaded', () => {
    expect(() => dateParser('dd.MM HH:mm', 'UTC')).toThrow(/needs a yyyy year/);
    expect(() => dateParser('dd.MM.yy', 'UTC')).toThrow(/unknown token 'y'/);
    expect(() => dateParser('yyyy-MM-ddTHH', 'UTC')).toThrow(/unknown token 'T'/);
    expect(() => dateParser('iso', 'Mars/Olympus')).toThrow(/Mars\/Olympus/);
  });
});

describe('time zones for dates written without an offset', () => {
  it('applies an IANA zone with its daylight saving offset at that date', () => {
    expect(ok('yyyy-MM-dd HH:mm:ss', 'Europe/Berlin', '2024-01-15 12:00:00')).toBe(
      '2024-01-15T12:00:00+01:00',
    );
    expect(ok('yyyy-MM-dd HH:mm:ss', 'Europe/Berlin', '2024-07-15 12:00:00')).toBe(
      '2024-07-15T12:00:00+02:00',
    );
    expect(ok('yyyy-MM-dd HH:mm:ss', 'America/New_York', '2024-07-15 12:00:00')).toBe(
      '2024-07-15T12:00:00-04:00',
    );
    expect(ok('yyyy-MM-dd HH:mm:ss', 'Asia/Kolkata', '2024-07-15 12:00:00')).toBe(
      '2024-07-15T12:00:00+05:30',
    );
  });

  it('is exact right at a change: the minute before and after clocks go forward', () => {
    expect(ok('yyyy-MM-dd HH:mm', 'Europe/Berlin', '2024-03-31 01:59')).toBe('2024-03-31T01:59:00+01:00');
    expect(ok('yyyy-MM-dd HH:mm', 'Europe/Berlin', '2024-03-31 03:00')).toBe('2024-03-31T03:00:00+02:00');
  });

  it('rejects a local time skipped when clocks go forward', () => {
    expect(fail('yyyy-MM-dd HH:mm', 'Europe/Berlin', '2024-03-31 02:30')).toMatchObject({
      rule: 'date-nonexistent',
      message: expect.stringContaining('Europe/Berlin'),
    });
  });

  it('takes the earlier of a local time that happens twice when clocks go back', () => {
    expect(ok('yyyy-MM-dd HH:mm', 'Europe/Berlin', '2024-10-27 02:30')).toBe('2024-10-27T02:30:00+02:00');
    expect(ok('yyyy-MM-dd HH:mm', 'Europe/Berlin', '2024-10-27 03:00')).toBe('2024-10-27T03:00:00+01:00');
  });

  it('gives the same answer for every row of a cached hour as computed fresh', () => {
    const parse = dateParser('yyyy-MM-dd HH:mm', 'Europe/Berlin');
    for (const minute of ['00', '15', '59']) {
      expect(parse(`2024-06-01 10:${minute}`)).toEqual({
        ok: true,
        value: `2024-06-01T10:${minute}:00+02:00`,
      });
    }
    expect(dateParser('yyyy-MM-dd HH:mm', 'Europe/Berlin')('2024-06-01 10:59')).toEqual(
      parse('2024-06-01 10:59'),
    );
  });

  it('reads fixed offsets and Z / UTC as zones', () => {
    expect(ok('yyyy-MM-dd HH:mm', '-03:00', '2024-06-01 10:00')).toBe('2024-06-01T10:00:00-03:00');
    expect(ok('yyyy-MM-dd HH:mm', 'Z', '2024-06-01 10:00')).toBe('2024-06-01T10:00:00Z');
  });
});
