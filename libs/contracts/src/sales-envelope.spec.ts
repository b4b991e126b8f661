import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Sale } from './sale.schema.js';
import { validateSale } from './sale.validator.js';
import { decodeEnvelope, EnvelopeDecodeError, encodeEnvelope } from './sales-envelope.js';

const NOW = Date.parse('2026-06-15T12:00:00Z');
const RUNS = { numRuns: 200 };
const encode = (text: string) => new TextEncoder().encode(text);

const idArb = fc.string({ unit: fc.constantFrom(...'ABCXYZabcxyz0189._:-'), minLength: 1, maxLength: 16 });
/** Free text with non-ASCII graphemes, so the round trip covers UTF-8 encoding. */
const textArb = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 });

/** Canonical sales as the validator produces them (the only kind ever put in an envelope). */
const saleArb: fc.Arbitrary<Sale> = fc
  .record({
    saleId: idArb,
    kind: fc.constantFrom('sale', 'return'),
    branchId: fc.constantFrom('berlin-01', 'B_2', 'x'),
    ageMs: fc.integer({ min: 0, max: 365 * 86_400_000 }),
    currency: fc.constantFrom('EUR', 'USD', 'JPY'),
    customerId: fc.option(idArb, { nil: undefined }),
    lines: fc.array(
      fc.record({
        productId: idArb,
        productName: fc.option(textArb, { nil: undefined }),
        category: textArb,
        quantity: fc.integer({ min: 1, max: 100 }),
        unitPrice: fc.oneof(
          fc.constantFrom('0', '0.01', '19.99', '1234.5678'),
          fc.integer({ min: 0, max: 10_000 }),
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ ageMs, kind, customerId, ...rest }) => {
    const input = {
      ...rest,
      kind,
      ...(kind === 'return' && { originalSaleId: 'ORIGINAL' }),
      ...(customerId !== undefined && { customerId }),
      occurredAt: new Date(NOW - ageMs).toISOString(),
      lines: rest.lines.map(({ productName, ...line }) => ({
        ...line,
        ...(productName !== undefined && { productName }),
      })),
    };
    const result = validateSale(input, { now: NOW, maxFutureSkewMs: 0 });
    if (!result.ok) throw new Error(`generator produced an invalid sale: ${JSON.stringify(result.errors)}`);
    return result.sale;
  });

describe('sales envelope', () => {
  it('decodes every encoded batch of sales back to equal sales', () => {
    fc.assert(
      fc.property(fc.array(saleArb, { maxLength: 5 }), (sales) => {
        expect(decodeEnvelope(encodeEnvelope(sales))).toEqual(sales);
      }),
      RUNS,
    );
  });

  it('encodes as UTF-8 JSON {"v":1,"sales":[...]} on the wire', () => {
    fc.assert(
      fc.property(fc.array(saleArb, { maxLength: 3 }), (sales) => {
        const bytes = encodeEnvelope(sales);
        expect(bytes).toBeInstanceOf(Uint8Array);
        expect(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))).toEqual({ v: 1, sales });
      }),
      RUNS,
    );
  });

  it('decodes a hand-written v1 envelope, including an empty one', () => {
    expect(decodeEnvelope(encode('{"v":1,"sales":[]}'))).toEqual([]);
    const sale = {
      saleId: 'S-1',
      kind: 'sale',
      branchId: 'b1',
      occurredAt: '2026-06-15T11:00:00Z',
      receivedAt: '2026-06-15T11:00:01.000Z',
      currency: 'EUR',
      total: '3.98',
      lines: [
        {
          lineNo: 1,
          productId: 'p1',
          category: 'fruit',
          quantity: 2,
          unitPrice: '1.99',
          discount: '0',
          amount: '3.98',
        },
      ],
    };
    expect(decodeEnvelope(encode(`{"v":1,"sales":[${JSON.stringify(sale)}]}`))).toEqual([sale]);
  });

  it('throws EnvelopeDecodeError for payloads that are not JSON', () => {
    const notJson = [
      new Uint8Array(),
      encode('not json'),
      encode('{"v":1,'),
      encode("{'v':1,'sales':[]}"),
      encode('{"v":1,"sales":[]} trailing'),
      new Uint8Array([0xff, 0xfe, 0xfd]),
    ];
    for (const bytes of notJson) {
      expect(() => decodeEnvelope(bytes)).toThrow(EnvelopeDecodeError);
    }
    fc.assert(
      fc.property(
        fc.string().filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        }),
        (s) => {
          expect(() => decodeEnvelope(encode(s))).toThrow(EnvelopeDecodeError);
        },
      ),
      RUNS,
    );
  });

  it('throws EnvelopeDecodeError for JSON that is not a v1 envelope', () => {
    const notEnvelopes = [
      'null',
      '42',
      '"sales"',
      'true',
      '[]',
      '[1,{"v":1,"sales":[]}]',
      '{}',
      '{"sales":[]}',
      '{"v":1}',
      '{"v":1,"sales":{}}',
      '{"v":1,"sales":null}',
      '{"v":"1","sales":[]}',
      '{"v":2,"sales":[]}',
    ];
    for (const json of notEnvelopes) {
      expect(() => decodeEnvelope(encode(json)), json).toThrow(EnvelopeDecodeError);
    }
    const isEnvelope = (v: unknown) =>
      typeof v === 'object' &&
      v !== null &&
      (v as { v?: unknown }).v === 1 &&
      Array.isArray((v as { sales?: unknown }).sales);
    fc.assert(
      fc.property(
        fc.jsonValue().filter((v) => !isEnvelope(v)),
        (value) => {
          expect(() => decodeEnvelope(encode(JSON.stringify(value)))).toThrow(EnvelopeDecodeError);
        },
      ),
      RUNS,
    );
  });

  it('rejects an envelope whose sale has a field of the wrong type, naming the field', () => {
    const breakable = [
      ['saleId'],
      ['kind'],
      ['branchId'],
      ['occurredAt'],
      ['receivedAt'],
      ['currency'],
      ['total'],
      ['lines'],
      ['lines', 0, 'lineNo'],
      ['lines', 0, 'quantity'],
      ['lines', 0, 'productId'],
      ['lines', 0, 'category'],
      ['lines', 0, 'unitPrice'],
      ['lines', 0, 'discount'],
      ['lines', 0, 'amount'],
    ] as const;
    fc.assert(
      fc.property(
        fc.array(saleArb, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.constantFrom(...breakable),
        fc.constantFrom(null, 12.5, {}, [], true),
        (sales, pick, path, bad) => {
          const index = pick % sales.length;
          const copy = structuredClone(sales) as unknown as Record<string, unknown>[];
          let target: Record<string, unknown> = copy[index]!;
          for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
          target[path.at(-1)!] = bad;
          const pointer = `/sales/${index}/${path.join('/')}`;
          expect(() => decodeEnvelope(encodeEnvelope(copy as unknown as Sale[]))).toThrow(pointer);
        },
      ),
      RUNS,
    );
  });

  it('makes EnvelopeDecodeError a named Error, so callers can tell a permanent failure apart', () => {
    let caught: unknown;
    try {
      decodeEnvelope(encode('{"v":2}'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toBeInstanceOf(EnvelopeDecodeError);
    expect((caught as Error).name).toBe('EnvelopeDecodeError');
    expect((caught as Error).message).toContain('tally.sales.v1');
  });
});
