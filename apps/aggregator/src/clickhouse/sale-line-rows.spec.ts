import type { StreamedSale } from '@tally/contracts';
import { makeStreamSale } from '@tally/testing';
import { describe, expect, it } from 'vitest';
import { saleLineJson, saleLineRows, saleLinesJson } from './sale-line-rows.js';

const now = Date.now();

/** What the flusher sent before saleLinesJson: the row objects, one JSON array each. */
const throughRows = (s: StreamedSale) =>
  saleLineRows(s)
    .map((row) => `${saleLineJson(row)}\n`)
    .join('');

describe('saleLinesJson', () => {
  it('encodes a sale exactly as its rows through saleLineJson, one line per sale line', () => {
    const s = { sale: makeStreamSale({ saleId: 's-1' }, now), streamSeq: 42 };
    expect(saleLinesJson(s)).toBe(throughRows(s));
    expect(saleLinesJson(s).split('\n')).toHaveLength(s.sale.lines.length + 1);
  });

  it('encodes returns with negated net figures, a zero amount left unsigned', () => {
    const s = {
      sale: makeStreamSale(
        {
          saleId: 'r-1',
          kind: 'return',
          originalSaleId: 's-1',
          lines: [
            { productId: 'p-1', category: 'fruit', quantity: 3, unitPrice: '2.50' },
            { productId: 'p-2', category: 'fruit', quantity: 1, unitPrice: '1.00', discount: '1.00' },
          ],
        },
        now,
      ),
      streamSeq: 7,
    };
    const encoded = saleLinesJson(s);
    expect(encoded).toBe(throughRows(s));
    const [first, second] = encoded
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown[]);
    expect(first!.slice(21, 23)).toEqual([-3, '-7.5']);
    expect(second!.slice(21, 23)).toEqual([-1, '0']);
  });

  it('escapes free text (quotes, backslashes, control characters, non-Latin) and fills absent fields as the rows do', () => {
    const s = {
      sale: makeStreamSale(
        {
          saleId: 's-2',
          customerId: undefined,
          registerId: undefined,
          occurredAt: '2026-11-21T11:29:59.5+01:00',
          lines: [
            {
              productId: 'p-3',
              productName: 'Tea "Earl" \\ grey\u0001 — 茶',
              brand: 'Ünïcode\ttab',
              category: 'drinks',
              quantity: 1,
              unitPrice: '3.20',
            },
          ],
        },
        now,
      ),
      streamSeq: Number.MAX_SAFE_INTEGER - 1,
    };
    expect(saleLinesJson(s)).toBe(throughRows(s));
    const [row] = saleLinesJson(s)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown[]);
    expect(row![14]).toBe('Tea "Earl" \\ grey\u0001 — 茶');
    expect(row![23]).toBe('2026-11-21 10:29:59.500');
  });

  it('agrees with the rows over many generated sales', () => {
    for (let i = 0; i < 200; i++) {
      const s = {
        sale: makeStreamSale(
          {
            saleId: `g-${i}`,
            branchId: `b-${i % 3}`,
            ...(i % 5 === 4 ? { kind: 'return' as const, originalSaleId: `g-${i - 1}` } : {}),
          },
          now,
        ),
        streamSeq: 1000 + i,
      };
      expect(saleLinesJson(s)).toBe(throughRows(s));
    }
  });
});
