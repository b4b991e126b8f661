import type { ProblemException } from '@tally/common';
import { describe, expect, it } from 'vitest';
import { parseLimit, parseProductId, parseViewQuery } from './analytics-query.parser.js';

function problemOf(run: () => unknown): ProblemException['problem'] {
  try {
    run();
  } catch (error) {
    return (error as ProblemException).problem;
  }
  throw new Error('expected a problem');
}

describe('analytics query parameters', () => {
  it('defaults the window and reads a branch', () => {
    expect(parseViewQuery({}, '*', '1h')).toEqual({ window: '1h', branchId: undefined });
    expect(parseViewQuery({ window: '24h', branchId: 'b-1' }, '*', '1h')).toEqual({
      window: '24h',
      branchId: 'b-1',
    });
  });

  it('names each broken parameter with its rule', () => {
    const problem = problemOf(() => parseViewQuery({ window: '2h', branchId: 'a.b' }, '*', '1h'));
    expect(problem.status).toBe(400);
    expect(problem.errors?.map((e) => [e.pointer, e.rule])).toEqual([
      ['/query/window', 'enum'],
      ['/query/branchId', 'pattern'],
    ]);
    expect(problemOf(() => parseViewQuery({ window: ['1h', '5m'] }, '*', '1h')).errors?.[0]?.rule).toBe(
      'single',
    );
  });

  it('a branch-scoped key must name one of its branches', () => {
    const scope = new Set(['b-1']);
    expect(problemOf(() => parseViewQuery({}, scope, '1h')).errors?.[0]?.rule).toBe('required');
    expect(problemOf(() => parseViewQuery({ branchId: 'b-2' }, scope, '1h')).status).toBe(403);
    expect(parseViewQuery({ branchId: 'b-1' }, scope, '1h').branchId).toBe('b-1');
  });

  it('reads limit from 1 to 100 and product ids by the contract pattern', () => {
    expect(parseLimit({}, 5)).toBe(5);
    expect(parseLimit({ limit: '100' }, 5)).toBe(100);
    for (const bad of ['0', '101', '1.5', 'x']) {
      expect(problemOf(() => parseLimit({ limit: bad }, 5)).errors?.[0]).toMatchObject({
        pointer: '/query/limit',
        rule: 'range',
      });
    }
    expect(parseProductId('p-1')).toBe('p-1');
    expect(problemOf(() => parseProductId('p 1')).errors?.[0]?.pointer).toBe('/path/productId');
  });
});
