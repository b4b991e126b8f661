import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, type ListCursor } from './sales-cursor.codec.js';

const cursor: ListCursor = { order: 'desc', occurredAt: '2026-03-01T10:00:00.123456Z', saleId: 'b1-000123' };
const token = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('sales cursor codec', () => {
  it('round-trips order, the exact microsecond instant and the saleId', () => {
    for (const c of [cursor, { ...cursor, order: 'asc' as const, saleId: 'a.b:c_d-e' }]) {
      expect(decodeCursor(encodeCursor(c))).toEqual(c);
    }
  });

  it('writes a URL-safe token that needs no escaping in a query string', () => {
    for (const saleId of ['a', 'z'.repeat(64), '...:::', '-_-_', 'A:9.z']) {
      const encoded = encodeCursor({ ...cursor, saleId });
      expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(encodeURIComponent(encoded)).toBe(encoded);
    }
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{oops').toString('base64url')],
    ['an object', token({ order: 'desc' })],
    ['another version', token([2, 'desc', cursor.occurredAt, cursor.saleId])],
    ['an unknown order', token([1, 'sideways', cursor.occurredAt, cursor.saleId])],
    ['a millisecond instant', token([1, 'desc', '2026-03-01T10:00:00.123Z', cursor.saleId])],
    ['an offset instant', token([1, 'desc', '2026-03-01T10:00:00.123456+01:00', cursor.saleId])],
    ['a day the month lacks', token([1, 'desc', '2026-02-30T10:00:00.000000Z', cursor.saleId])],
    ['a saleId outside the contract', token([1, 'desc', cursor.occurredAt, 'has space'])],
    ['extra elements', token([1, 'desc', cursor.occurredAt, cursor.saleId, 'x'])],
    ['too long', 'A'.repeat(401)],
  ])('refuses a token that is %s', (_, bad) => {
    expect(decodeCursor(bad)).toBeUndefined();
  });
});
