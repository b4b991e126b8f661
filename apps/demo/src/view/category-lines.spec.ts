import { describe, expect, it } from 'vitest';
import { categoryLines } from './category-lines.js';

describe('the category table', () => {
  it('lists each category by name with its lines, those sent without category, and exact net revenue, aligned', () => {
    const lines = categoryLines(
      new Map([
        ['produce', { lines: 1436, withoutCategory: 425, netUnits: 28_466_100n }],
        ['bakery', { lines: 855, withoutCategory: 266, netUnits: 28_342_400n }],
        ['unlisted', { lines: 3, withoutCategory: 0, netUnits: -9_900n }],
      ]),
      'EUR',
    );
    expect(lines).toEqual([
      'category  lines  sent without category  net revenue (EUR)',
      '--------  -----  ---------------------  -----------------',
      'bakery      855                    266            2834.24',
      'produce    1436                    425            2846.61',
      'unlisted      3                      0              -0.99',
    ]);
  });
});
