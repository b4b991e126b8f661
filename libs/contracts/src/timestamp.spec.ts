import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timestampMs } from './timestamp.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** RFC 3339 texts in every layout timestampMs reads itself, and some it hands to Date.parse. */
const timestampArb = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 24 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
    fraction: fc.constantFrom('', '.123', '.000', '.999', '.5', '.12345', '.1x3'),
    zone: fc.constantFrom(
      'Z',
      '+02:00',
      '-05:30',
      '+14:00',
      '-12:00',
      '+00:00',
      'z',
      '+0200',
      '+2a:00',
      '+24:00',
      '-02:60',
      '+23:59',
    ),
  })
  .map(
    (t) =>
      `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${t.fraction}${t.zone}`,
  );

describe('timestampMs', () => {
  it('equals Date.parse on RFC 3339 texts, valid or not (property)', () => {
    fc.assert(
      fc.property(timestampArb, (text) => {
        expect(Object.is(timestampMs(text), Date.parse(text)), text).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads ingest stamps and offsets to the millisecond', () => {
    expect(timestampMs('2026-11-21T19:48:44.123Z')).toBe(Date.UTC(2026, 10, 21, 19, 48, 44, 123));
    expect(timestampMs('2026-11-21T21:48:44+02:00')).toBe(Date.UTC(2026, 10, 21, 19, 48, 44));
    expect(timestampMs('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(timestampMs('2026-11-21T19:48:44.123+24:00')).toBeNaN();
    expect(timestampMs('not a time')).toBeNaN();
  });
});
