import { ProblemException } from '@tally/common';
import { describe, expect, it } from 'vitest';
import { parseListQuery, parseSaleIdRequest, type RawQuery } from './list-query.parser.js';
import { encodeCursor } from './sales-cursor.codec.js';

/** The errors a query is refused with, or [] when it passes. */
function errorsOf(run: () => unknown): unknown[] {
  try {
    run();
    return [];
  } catch (error) {
    if (!(error instanceof ProblemException)) throw error;
    expect(error.problem.status).toBe(400);
    return [...(error.problem.errors ?? [])];
  }
}

const listErrors = (raw: RawQuery, scope: '*' | ReadonlySet<string> = '*') =>
  errorsOf(() => parseListQuery(raw, scope));

describe('list query parameters', () => {
  it('defaults to the newest 50 of every branch', () => {
    expect(parseListQuery({}, '*')).toEqual({ limit: 50, order: 'desc' });
  });

  it('reads every parameter, from inclusive and to exclusive as instants', () => {
    const cursor = encodeCursor({ order: 'asc', occurredAt: '2026-03-01T09:00:00.000001Z', saleId: 's-1' });
    expect(
      parseListQuery(
        {
          branchId: 'branch-1',
          customerId: 'C00042',
          from: '2026-03-01T10:00:00+01:00',
          to: '2026-03-02T00:00:00Z',
          limit: '500',
          order: 'asc',
          cursor,
        },
        new Set(['branch-1']),
      ),
    ).toEqual({
      branchId: 'branch-1',
      customerId: 'C00042',
      from: new Date('2026-03-01T09:00:00Z'),
      to: new Date('2026-03-02T00:00:00Z'),
      limit: 500,
      order: 'asc',
      after: { occurredAt: '2026-03-01T09:00:00.000001Z', saleId: 's-1' },
    });
  });

  it.each([
    [{ limit: '0' }, '/query/limit', 'minimum'],
    [{ limit: '501' }, '/query/limit', 'maximum'],
    [{ limit: 'ten' }, '/query/limit', 'type'],
    [{ limit: '2.5' }, '/query/limit', 'type'],
    [{ limit: ['1', '2'] }, '/query/limit', 'repeated'],
    [{ order: 'newest' }, '/query/order', 'enum'],
    [{ from: 'yesterday' }, '/query/from', 'rfc3339'],
    [{ from: '2026-03-01T10:00:00' }, '/query/from', 'rfc3339'],
    [{ to: '2026-02-30T00:00:00Z' }, '/query/to', 'rfc3339'],
    [{ to: '2026-03-01T24:00:00Z' }, '/query/to', 'rfc3339'],
    [{ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }, '/query/to', 'after-from'],
    [{ branchId: 'a.b' }, '/query/branchId', 'pattern'],
    [{ branchId: '' }, '/query/branchId', 'pattern'],
    [{ customerId: 'has space' }, '/query/customerId', 'pattern'],
    [{ cursor: 'garbage!' }, '/query/cursor', 'cursor'],
    [{ page: '2' }, '/query/page', 'unknown-parameter'],
  ] as const)('refuses %j naming %s and rule %s', (raw, pointer, rule) => {
    expect(listErrors(raw)).toEqual([expect.objectContaining({ pointer, rule })]);
  });

  it('refuses a cursor issued for the other order', () => {
    const desc = encodeCursor({ order: 'desc', occurredAt: '2026-03-01T09:00:00.000000Z', saleId: 's-1' });
    expect(listErrors({ cursor: desc, order: 'asc' })).toEqual([
      expect.objectContaining({ pointer: '/query/cursor', rule: 'cursor-order' }),
    ]);
    expect(listErrors({ cursor: desc })).toEqual([]);
  });

  it('reports every broken rule at once', () => {
    expect(listErrors({ limit: '0', order: 'up', extra: 'x' })).toHaveLength(3);
  });

  it('requires a key scoped to branches to name the branch it lists; * may list them all', () => {
    expect(listErrors({}, new Set(['branch-1']))).toEqual([
      expect.objectContaining({ pointer: '/query/branchId', rule: 'required' }),
    ]);
    expect(listErrors({ branchId: 'branch-9' }, new Set(['branch-1']))).toEqual([]); // 403 is the service's
    expect(listErrors({}, '*')).toEqual([]);
  });
});

describe('sale id request', () => {
  it('takes a contract saleId and no query parameters', () => {
    expect(parseSaleIdRequest('b1-000123', {})).toBe('b1-000123');
    expect(errorsOf(() => parseSaleIdRequest('has space', {}))).toEqual([
      expect.objectContaining({ pointer: '/path/saleId', rule: 'pattern' }),
    ]);
    expect(errorsOf(() => parseSaleIdRequest('b1', { limit: '1' }))).toEqual([
      expect.objectContaining({ pointer: '/query/limit', rule: 'unknown-parameter' }),
    ]);
  });
});
