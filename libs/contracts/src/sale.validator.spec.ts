import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FieldError, type ProductLookup, type SaleValidation, validateSale } from './sale.validator.js';

const NOW = Date.parse('2026-06-15T12:00:00Z');
const SKEW_MS = 5 * 60_000;
const OPTIONS = { now: NOW, maxFutureSkewMs: SKEW_MS };
const RUNS = { numRuns: 250 };

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Exact arithmetic for the expectations, written independently of decimal.ts.

/** "12.34" -> 123400n (value in 1/10,000). */
function unitsOf(text: string): bigint {
  const [int = '', frac = ''] = text.split('.');
  return BigInt(`${int}${frac.padEnd(4, '0')}`);
}
/** 123400n -> "12.34", by slicing digits. */
function canonical(units: bigint): string {
  const digits = units.toString().padStart(5, '0');
  const frac = digits.slice(-4).replace(/0+$/, '');
  return `${digits.slice(0, -4)}${frac === '' ? '' : `.${frac}`}`;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries for valid sales.

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const idArb = fc.string({ unit: fc.constantFrom(...`${LETTERS}._:-`), minLength: 1, maxLength: 64 });
const branchArb = fc.string({ unit: fc.constantFrom(...`${LETTERS}_-`), minLength: 1, maxLength: 64 });
const countryArb = fc.string({ unit: fc.constantFrom(...LETTERS), minLength: 1, maxLength: 8 });
const paymentArb = fc.string({ unit: fc.constantFrom(...`${LETTERS}_-`), minLength: 1, maxLength: 32 });
const CURRENCIES = [
  'EUR',
  'USD',
  'GBP',
  'JPY',
  'CHF',
  'SEK',
  'PLN',
  'CZK',
  'DKK',
  'NOK',
  'BHD',
  'KWD',
] as const;
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** How a money value is written: a JSON number, or a string padded with trailing zeros. */
const moneyFormArb = fc.record({ asNumber: fc.boolean(), pad: fc.nat({ max: 4 }) });
type MoneyForm = { asNumber: boolean; pad: number };
function writeMoney(units: bigint, form: MoneyForm): string | number {
  const text = canonical(units);
  if (form.asNumber) return Number(text);
  const fracLength = text.includes('.') ? text.length - text.indexOf('.') - 1 : 0;
  const pad = Math.min(form.pad, 4 - fracLength);
  if (pad === 0) return text;
  return `${text}${fracLength === 0 ? '.' : ''}${'0'.repeat(pad)}`;
}

/** RFC 3339 in the past of NOW (up to ~5 years), with Z or a ±hh:mm offset, with or without fraction. */
const occurredAtArb = fc
  .record({
    ageMs: fc.integer({ min: 0, max: 5 * 365 * 86_400_000 }),
    offsetMin: fc.option(fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }), { nil: undefined }),
    negativeZero: fc.boolean(),
    fraction: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 6 }), {
      nil: undefined,
    }),
  })
  .map(({ ageMs, offsetMin, negativeZero, fraction }) => {
    const utc = NOW - ageMs;
    const local = new Date(utc + (offsetMin ?? 0) * 60_000).toISOString(); // yyyy-mm-ddThh:mm:ss.sssZ
    const frac = fraction === undefined ? '' : `.${local.slice(20, 23)}${fraction}`;
    let offset = 'Z';
    if (offsetMin !== undefined) {
      const sign = offsetMin < 0 || (offsetMin === 0 && negativeZero) ? '-' : '+';
      const abs = Math.abs(offsetMin);
      offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    }
    return `${local.slice(0, 19)}${frac}${offset}`;
  });

const lineSpecArb = fc.record({
  productId: idArb,
  productName: opt(fc.string({ minLength: 1, maxLength: 200 })),
  category: fc.string({ minLength: 1, maxLength: 64 }),
  brand: opt(fc.string({ minLength: 1, maxLength: 64 })),
  quantity: fc.integer({ min: 1, max: 1000 }),
  // Up to 99,999,999.9999, so that quantity × unitPrice stays within the money maximum.
  priceUnits: fc.bigInt({ min: 0n, max: 999_999_999_999n }),
  priceForm: moneyFormArb,
  /** Discount as millionths of the gross, so it never exceeds it. */
  discountPpm: opt(fc.bigInt({ min: 0n, max: 1_000_000n })),
  discountForm: moneyFormArb,
  withAmount: fc.boolean(),
  amountForm: moneyFormArb,
});
type LineSpec = typeof lineSpecArb extends fc.Arbitrary<infer T> ? T : never;

interface ExpectedLine {
  readonly unitPrice: string;
  readonly discount: string;
  readonly amount: bigint;
}

function buildLine(spec: LineSpec): { line: Json; expected: ExpectedLine } {
  const gross = spec.priceUnits * BigInt(spec.quantity);
  const discount = spec.discountPpm === undefined ? 0n : (gross * spec.discountPpm) / 1_000_000n;
  const amount = gross - discount;
  const line: Json = { productId: spec.productId, category: spec.category, quantity: spec.quantity };
  if (spec.productName !== undefined) line.productName = spec.productName;
  if (spec.brand !== undefined) line.brand = spec.brand;
  line.unitPrice = writeMoney(spec.priceUnits, spec.priceForm);
  if (spec.discountPpm !== undefined) line.discount = writeMoney(discount, spec.discountForm);
  if (spec.withAmount) line.amount = writeMoney(amount, spec.amountForm);
  return { line, expected: { unitPrice: canonical(spec.priceUnits), discount: canonical(discount), amount } };
}

interface ValidCase {
  readonly input: Json;
  readonly expected: { readonly lines: readonly ExpectedLine[] };
}

const validSaleArb: fc.Arbitrary<ValidCase> = fc
  .record({
    saleId: idArb,
    kind: fc.constantFrom('sale', 'return'),
    originalSaleId: idArb,
    branchId: branchArb,
    registerId: opt(idArb),
    cashierId: opt(idArb),
    customerId: opt(idArb),
    occurredAt: occurredAtArb,
    currency: fc.constantFrom(...CURRENCIES),
    buyerCountry: opt(countryArb),
    sellerCountry: opt(countryArb),
    paymentMethod: opt(paymentArb),
    lines: fc.array(lineSpecArb, { minLength: 1, maxLength: 5 }),
  })
  .filter((s) => s.kind === 'sale' || s.originalSaleId !== s.saleId)
  .map(({ lines, originalSaleId, ...top }) => {
    const built = lines.map(buildLine);
    const input: Json = {};
    for (const [key, value] of Object.entries(top)) if (value !== undefined) input[key] = value;
    if (top.kind === 'return') input.originalSaleId = originalSaleId;
    input.lines = built.map((b) => b.line);
    return { input, expected: { lines: built.map((b) => b.expected) } };
  });

// ---------------------------------------------------------------------------------------------
// Helpers.

function validate(input: unknown): SaleValidation {
  return validateSale(input, OPTIONS);
}

function errorsOf(input: unknown): FieldError[] {
  const result = validate(input);
  if (result.ok) throw new Error(`expected a rejection, got ok: ${JSON.stringify(result.sale)}`);
  return result.errors;
}

const rulesAt = (errors: readonly FieldError[]) => errors.map(({ pointer, rule }) => ({ pointer, rule }));

const linesOf = (input: Json) => input.lines as Json[];

/** A minimal valid sale for the example tests. */
function sale(overrides: Json = {}, line: Json = {}): Json {
  return {
    saleId: 'S-1',
    kind: 'sale',
    branchId: 'berlin-01',
    occurredAt: '2026-06-15T10:00:00+02:00',
    currency: 'EUR',
    lines: [{ productId: 'P-1', category: 'food', quantity: 1, unitPrice: '1', ...line }],
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------

describe('validateSale: valid sales', () => {
  it('generates occurredAt values that denote the intended past instant (sanity check of the generator)', () => {
    fc.assert(
      fc.property(occurredAtArb, (at) => {
        const t = Date.parse(at);
        expect(Number.isNaN(t)).toBe(false);
        expect(t).toBeLessThanOrEqual(NOW);
      }),
      RUNS,
    );
  });

  it('accepts every valid sale, with exact net line amounts and a total equal to their sum', () => {
    fc.assert(
      fc.property(validSaleArb, ({ input, expected }) => {
        const result = validate(input);
        if (!result.ok) expect.fail(`rejected: ${JSON.stringify(result.errors)}`);
        const { sale: out } = result;

        expect(out.lines).toHaveLength(expected.lines.length);
        out.lines.forEach((line, i) => {
          const want = expected.lines[i]!;
          const sent = linesOf(input)[i]!;
          expect(line.lineNo).toBe(i + 1);
          expect(line.productId).toBe(sent.productId);
          expect(line.category).toBe(sent.category);
          expect(line.productName).toBe(sent.productName);
          expect(line.brand).toBe(sent.brand);
          expect(line.quantity).toBe(sent.quantity);
          expect(line.unitPrice).toBe(want.unitPrice);
          expect(line.discount).toBe(want.discount);
          // quantity × unitPrice − discount, recomputed from the canonical output fields.
          const net = unitsOf(line.unitPrice) * BigInt(line.quantity) - unitsOf(line.discount);
          expect(line.amount).toBe(canonical(net));
          expect(line.amount).toBe(canonical(want.amount));
        });

        const sum = out.lines.reduce((acc, l) => acc + unitsOf(l.amount), 0n);
        expect(out.total).toBe(canonical(sum));
        expect(out.total).toBe(canonical(expected.lines.reduce((acc, l) => acc + l.amount, 0n)));

        for (const key of Object.keys(input))
          if (key !== 'lines') expect(out[key as keyof typeof out]).toBe(input[key]);
        expect(out.originalSaleId !== undefined).toBe(input.kind === 'return');
        expect(out.receivedAt).toBe(new Date(NOW).toISOString());
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Single mutations of a valid sale.

interface Expectation {
  readonly pointer: string;
  readonly rule: string;
  /** Further errors the mutation necessarily causes, as `pointer rule`. */
  readonly implied?: readonly string[];
}

interface Mutation {
  readonly name: string;
  /** Mutates `input` (a private copy) in place; `pick` chooses a line or a variant. */
  readonly apply: (input: Json, pick: number) => Expectation;
}

const pickLine = (input: Json, pick: number) => {
  const lines = linesOf(input);
  const i = pick % lines.length;
  return { i, line: lines[i]!, at: `/lines/${i}` };
};
const variant = <T>(options: readonly T[], pick: number): T => options[pick % options.length]!;
const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

const TOP_REQUIRED = ['saleId', 'kind', 'branchId', 'occurredAt', 'currency', 'lines'];
const LINE_REQUIRED = ['productId', 'category', 'quantity', 'unitPrice'];

const mutations: Mutation[] = [
  ...TOP_REQUIRED.map(
    (field): Mutation => ({
      name: `remove ${field}`,
      apply: (input) => {
        delete input[field];
        return { pointer: `/${field}`, rule: 'required' };
      },
    }),
  ),
  ...LINE_REQUIRED.map(
    (field): Mutation => ({
      name: `remove lines/i/${field}`,
      apply: (input, pick) => {
        const { line, at } = pickLine(input, pick);
        delete line[field];
        return { pointer: `${at}/${field}`, rule: 'required' };
      },
    }),
  ),
  {
    name: 'add an unknown top-level field',
    apply: (input, pick) => {
      const name = variant(['foo', 'total', 'receivedAt', 'sale_id', 'a/b', 'x~y', ''], pick);
      input[name] = 1;
      return { pointer: `/${escapePointer(name)}`, rule: 'unknown-field' };
    },
  },
  {
    name: 'add an unknown line field',
    apply: (input, pick) => {
      const { line, at } = pickLine(input, pick);
      const name = variant(['foo', 'lineNo', 'total', 'currency', 'tax/rate'], pick >> 3);
      line[name] = 'x';
      return { pointer: `${at}/${escapePointer(name)}`, rule: 'unknown-field' };
    },
  },
  {
    name: 'saleId longer than 64 characters',
    apply: (input) => {
      input.saleId = `${input.saleId}${'x'.repeat(65)}`;
      return { pointer: '/saleId', rule: 'pattern' };
    },
  },
  {
    name: 'saleId with a character outside the id alphabet',
    apply: (input, pick) => {
      const id = (input.saleId as string).slice(0, 63);
      const at = pick % (id.length + 1);
      input.saleId = `${id.slice(0, at)}${variant([' ', '/', '#', 'é', '*', '>', '+'], pick >> 3)}${id.slice(at)}`;
      return { pointer: '/saleId', rule: 'pattern' };
    },
  },
  {
    name: 'branchId with a dot or a NATS wildcard',
    apply: (input, pick) => {
      const id = (input.branchId as string).slice(0, 63);
      const at = pick % (id.length + 1);
      input.branchId = `${id.slice(0, at)}${variant(['.', '*', '>', ' '], pick >> 3)}${id.slice(at)}`;
      return { pointer: '/branchId', rule: 'pattern' };
    },
  },
  {
    name: 'quantity 0 or negative',
    apply: (input, pick) => {
      const { line, at } = pickLine(input, pick);
      line.quantity = variant([0, -1], pick >> 3);
      return { pointer: `${at}/quantity`, rule: 'minimum' };
    },
  },
  {
    name: 'fractional quantity',
    apply: (input, pick) => {
      const { line, at } = pickLine(input, pick);
      line.quantity = variant([1.5, 2.0001, 999.9], pick >> 3);
      return { pointer: `${at}/quantity`, rule: 'type' };
    },
  },
  {
    name: 'quantity given as a string',
    apply: (input, pick) => {
      const { line, at } = pickLine(input, pick);
      line.quantity = String(line.quantity);
      return { pointer: `${at}/quantity`, rule: 'type' };
    },
  },
  {
    name: 'quantity above 1,000,000',
    apply: (input, pick) => {
      const { line, at } = pickLine(input, pick);
      line.quantity = 1_000_001;
      return { pointer: `${at}/quantity`, rule: 'maximum' };
    },
  },
  {
    name: 'unitPrice with 5 decimals (string or number) or negative (string or number)',
    apply: (input, pick) => {
      const { line, at } = pickLine(input, pick);
      line.unitPrice = variant(['1.23456', 1.23456, '0.00001', 0.00001, '-1.5', -1.5, '-0', 1e-7], pick >> 3);
      return { pointer: `${at}/unitPrice`, rule: 'decimal' };
    },
  },
  {
    name: 'discount with 5 decimals (string or number) or negative',
    apply: (input, pick) => {
      const { line, at } = pickLine(input, pick);
      line.discount = variant(['0.00001', 0.00001, '-1', -1], pick >> 3);
      return { pointer: `${at}/discount`, rule: 'decimal' };
    },
  },
  {
    name: 'occurredAt without an offset',
    apply: (input) => {
      input.occurredAt = (input.occurredAt as string).replace(/(Z|[+-][0-9]{2}:[0-9]{2})$/, '');
      return { pointer: '/occurredAt', rule: 'pattern' };
    },
  },
  {
    name: 'occurredAt further in the future than the allowed skew',
    apply: (input, pick) => {
      input.occurredAt = new Date(NOW + SKEW_MS + 1 + pick * 1000).toISOString();
      return { pointer: '/occurredAt', rule: 'future-skew' };
    },
  },
  {
    name: 'occurredAt on a day the month does not have, or at hour 24',
    apply: (input, pick) => {
      input.occurredAt = variant(
        [
          '2025-02-29T10:00:00Z',
          '2024-02-30T10:00:00+01:00',
          '2025-04-31T00:00:00Z',
          '2025-06-31T23:59:59-05:00',
          '2025-01-01T24:00:00Z',
        ],
        pick,
      );
      return { pointer: '/occurredAt', rule: 'rfc3339' };
    },
  },
  {
    name: 'currency that is not an ISO 4217 code',
    apply: (input, pick) => {
      input.currency = variant(['XYZ', 'ABC', 'EUX'], pick);
      return { pointer: '/currency', rule: 'iso4217' };
    },
  },
  {
    name: 'currency in lower case',
    apply: (input) => {
      input.currency = (input.currency as string).toLowerCase();
      return { pointer: '/currency', rule: 'pattern' };
    },
  },
  {
    name: 'return without originalSaleId',
    apply: (input) => {
      input.kind = 'return';
      delete input.originalSaleId;
      return { pointer: '/originalSaleId', rule: 'return-needs-original' };
    },
  },
  {
    name: 'sale with an originalSaleId',
    apply: (input) => {
      input.kind = 'sale';
      input.originalSaleId = input.saleId === 'ORIG-1' ? 'ORIG-2' : 'ORIG-1';
      return { pointer: '/originalSaleId', rule: 'only-for-returns' };
    },
  },
  {
    name: 'return that names itself as the original',
    apply: (input) => {
      input.kind = 'return';
      input.originalSaleId = input.saleId;
      return { pointer: '/originalSaleId', rule: 'not-self' };
    },
  },
  {
    name: 'discount larger than quantity × unitPrice',
    apply: (input, pick) => {
      const { line, at } = pickLine(input, pick);
      const gross = unitsOf(String(line.unitPrice)) * BigInt(line.quantity as number);
      line.discount = canonical(gross + 1n + BigInt(pick % 10_000));
      // A stated amount no longer matches the new discount either.
      const implied = line.amount === undefined ? [] : [`${at}/amount amount-mismatch`];
      return { pointer: `${at}/discount`, rule: 'discount-exceeds-gross', implied };
    },
  },
  {
    name: 'empty lines',
    apply: (input) => {
      input.lines = [];
      return { pointer: '/lines', rule: 'minItems' };
    },
  },
  {
    name: 'kind outside sale|return',
    apply: (input, pick) => {
      input.kind = variant(['refund', 'Sale', 'RETURN', ''], pick);
      return { pointer: '/kind', rule: 'enum' };
    },
  },
];

describe('validateSale: single mutations of a valid sale', () => {
  it('rejects each mutation with an error at the mutated field naming the broken rule, and nowhere else', () => {
    fc.assert(
      fc.property(validSaleArb, fc.constantFrom(...mutations), fc.nat(), ({ input }, mutation, pick) => {
        const mutated = structuredClone(input);
        const { pointer, rule, implied = [] } = mutation.apply(mutated, pick);
        const errors = errorsOf(mutated);
        expect(rulesAt(errors)).toContainEqual({ pointer, rule });
        for (const e of errors) {
          expect([`${pointer} ${rule}`, ...implied]).toContain(`${e.pointer} ${e.rule}`);
          expect(e.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('covers every mutation kind (the list above is exercised, not just declared)', () => {
    // Each mutation once against a fixed sale, so a mutation that stops failing is caught
    // deterministically and not only when the random run happens to draw it.
    for (const mutation of mutations) {
      const input = sale({ kind: 'return', originalSaleId: 'S-0' }, { discount: '0.5', amount: '0.5' });
      const { pointer, rule } = mutation.apply(input, 0);
      expect(rulesAt(errorsOf(input)), mutation.name).toContainEqual({ pointer, rule });
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('validateSale: examples', () => {
  it('keeps quantities and the total of a return positive (netting by kind happens downstream)', () => {
    const result = validate(
      sale({ kind: 'return', originalSaleId: 'S-0' }, { quantity: 2, unitPrice: '5.00', discount: '1' }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.sale.kind).toBe('return');
    expect(result.sale.originalSaleId).toBe('S-0');
    expect(result.sale.lines[0]).toMatchObject({ quantity: 2, unitPrice: '5', discount: '1', amount: '9' });
    expect(result.sale.total).toBe('9');
  });

  it('uses an explicit amount given without a discount as the net amount', () => {
    const result = validate(sale({}, { quantity: 3, unitPrice: '10', amount: '27.50' }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.sale.lines[0]).toMatchObject({ unitPrice: '10', discount: '0', amount: '27.5' });
    expect(result.sale.total).toBe('27.5');
  });

  it('accepts an explicit amount that agrees with quantity × unitPrice − discount', () => {
    const result = validate(sale({}, { quantity: 3, unitPrice: 19.99, discount: '2.97', amount: 57 }));
    expect(result.ok && result.sale.lines[0]?.amount).toBe('57');
  });

  it('rejects an explicit amount that contradicts the discount with amount-mismatch', () => {
    const errors = errorsOf(sale({}, { quantity: 3, unitPrice: '10', discount: '1', amount: '30' }));
    expect(rulesAt(errors)).toEqual([{ pointer: '/lines/0/amount', rule: 'amount-mismatch' }]);
    expect(errors[0]?.message).toContain('29');
  });

  it('reads the JSON number 19.99 as exactly "19.99" and multiplies it exactly', () => {
    const input = JSON.parse(
      '{"saleId":"S-1","kind":"sale","branchId":"b1","occurredAt":"2026-06-01T00:00:00Z","currency":"EUR",' +
        '"lines":[{"productId":"P","category":"c","quantity":3,"unitPrice":19.99},' +
        '{"productId":"Q","category":"c","quantity":3,"unitPrice":1.1}]}',
    );
    const result = validate(input);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.sale.lines[0]?.unitPrice).toBe('19.99');
    expect(result.sale.lines[0]?.amount).toBe('59.97');
    expect(1.1 * 3).not.toBe(3.3); // floats drift here ...
    expect(result.sale.lines[1]?.amount).toBe('3.3'); // ... the contract does not
    expect(result.sale.total).toBe('63.27');
  });

  it('accepts 1000 lines and rejects 1001 with maxItems at /lines', () => {
    const line = { productId: 'P', category: 'c', quantity: 1, unitPrice: '0.01' };
    const ok = validate(sale({ lines: Array.from({ length: 1000 }, () => ({ ...line })) }));
    expect(ok.ok).toBe(true);
    if (ok.ok) {
      expect(ok.sale.total).toBe('10');
      expect(ok.sale.lines[999]?.lineNo).toBe(1000);
    }
    const errors = errorsOf(sale({ lines: Array.from({ length: 1001 }, () => ({ ...line })) }));
    expect(rulesAt(errors)).toEqual([{ pointer: '/lines', rule: 'maxItems' }]);
  });

  it('accepts occurredAt exactly at now + skew and rejects it 1 ms later with future-skew', () => {
    expect(validate(sale({ occurredAt: new Date(NOW + SKEW_MS).toISOString() })).ok).toBe(true);
    expect(rulesAt(errorsOf(sale({ occurredAt: new Date(NOW + SKEW_MS + 1).toISOString() })))).toEqual([
      { pointer: '/occurredAt', rule: 'future-skew' },
    ]);
  });

  it('accepts 29 February in a leap year and ±hh:mm offsets up to 23:59', () => {
    for (const occurredAt of [
      '2024-02-29T12:00:00Z',
      '2000-02-29T00:00:00+23:59',
      '2025-12-31T23:59:59.999999999-23:59',
    ]) {
      expect(validate(sale({ occurredAt })).ok, occurredAt).toBe(true);
    }
  });

  it('rejects a date Date.parse would roll over (30 February) with rfc3339 instead of storing 2 March', () => {
    expect(rulesAt(errorsOf(sale({ occurredAt: '2026-02-30T10:00:00Z' })))).toEqual([
      { pointer: '/occurredAt', rule: 'rfc3339' },
    ]);
    expect(rulesAt(errorsOf(sale({ occurredAt: '2026-01-01T25:00:00Z' })))).toEqual([
      { pointer: '/occurredAt', rule: 'rfc3339' },
    ]);
  });

  it('rejects quantity × unitPrice beyond 99,999,999,999.9999 with amount-too-large at the quantity', () => {
    const errors = errorsOf(sale({}, { quantity: 1_000_000, unitPrice: '99999999999' }));
    expect(rulesAt(errors)).toEqual([{ pointer: '/lines/0/quantity', rule: 'amount-too-large' }]);
  });

  it('sums a total past 2^53 units exactly (10 and 1000 lines at the money maximum)', () => {
    const line = { productId: 'P', category: 'c', quantity: 1, unitPrice: '99999999999.9999' };
    for (const count of [10, 1000]) {
      const result = validate(sale({ lines: Array.from({ length: count }, () => ({ ...line })) }));
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.sale.total).toBe(canonical(BigInt(count) * 999_999_999_999_999n));
    }
  });

  it('rejects money with more than 11 integer digits, as string or number, with decimal', () => {
    expect(rulesAt(errorsOf(sale({}, { unitPrice: '100000000000' })))).toEqual([
      { pointer: '/lines/0/unitPrice', rule: 'decimal' },
    ]);
    expect(rulesAt(errorsOf(sale({}, { unitPrice: 100_000_000_000 })))).toEqual([
      { pointer: '/lines/0/unitPrice', rule: 'decimal' },
    ]);
  });

  it('does not report a misleading discount or amount error when the unit price itself is not a decimal', () => {
    const errors = errorsOf(sale({}, { quantity: 2, unitPrice: 1.23456, discount: '1', amount: '1.4691' }));
    expect(rulesAt(errors)).toEqual([{ pointer: '/lines/0/unitPrice', rule: 'decimal' }]);
  });

  it('reports every broken field at once', () => {
    const input = sale({ saleId: '', currency: 'eur', extra: true }, { quantity: 0, unitPrice: '-1' });
    delete input.branchId;
    expect(rulesAt(errorsOf(input))).toEqual(
      expect.arrayContaining([
        { pointer: '/saleId', rule: 'pattern' },
        { pointer: '/currency', rule: 'pattern' },
        { pointer: '/extra', rule: 'unknown-field' },
        { pointer: '/branchId', rule: 'required' },
        { pointer: '/lines/0/quantity', rule: 'minimum' },
        { pointer: '/lines/0/unitPrice', rule: 'decimal' },
      ]),
    );
  });

  it('rejects input that is not an object with a type error at the root', () => {
    for (const input of [null, 'sale', 42, [], true]) {
      expect(rulesAt(errorsOf(input)), JSON.stringify(input)).toContainEqual({ pointer: '', rule: 'type' });
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('validateSale: lines completed from the catalog', () => {
  const catalog: Record<string, { name: string; category: string; brand?: string }> = {
    P001: { name: 'Whole milk 1L', category: 'dairy', brand: 'Farmhouse' },
    P002: { name: 'Sourdough bread', category: 'bakery' },
  };
  const products: ProductLookup = (productId) => catalog[productId];
  const withCatalog = (input: unknown, extra: object = {}) =>
    validateSale(input, { ...OPTIONS, products, ...extra });
  const bare = { productId: 'P001', quantity: 1, unitPrice: '1.15' };

  it('fills an omitted category, product name and brand from the catalog', () => {
    const result = withCatalog(sale({ lines: [bare, { productId: 'P002', quantity: 2, unitPrice: '3.4' }] }));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.sale.lines[0]).toEqual({
      lineNo: 1,
      productId: 'P001',
      productName: 'Whole milk 1L',
      category: 'dairy',
      brand: 'Farmhouse',
      quantity: 1,
      unitPrice: '1.15',
      discount: '0',
      amount: '1.15',
    });
    expect(result.sale.lines[1]).toMatchObject({ productName: 'Sourdough bread', category: 'bakery' });
    expect(result.sale.lines[1]).not.toHaveProperty('brand');
  });

  it('keeps what the line states over the catalog, and the saleId as sent', () => {
    const line = { ...bare, category: 'milk', productName: 'Milk (promo)', brand: 'Own' };
    const result = withCatalog(sale({ lines: [line] }));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.sale.saleId).toBe('S-1');
    expect(result.sale.lines[0]).toMatchObject({
      category: 'milk',
      productName: 'Milk (promo)',
      brand: 'Own',
    });
  });

  it('rejects a line without category whose product the catalog does not know, naming the product', () => {
    const errors = errorsOf(sale({ lines: [{ ...bare, productId: 'P404' }] }));
    expect(errors).toEqual([
      {
        pointer: '/lines/0/category',
        rule: 'required',
        message: 'is required (product P404 is not in the catalog)',
      },
    ]);
    const known = withCatalog(sale({ lines: [bare, { ...bare, productId: 'P404' }] }));
    expect(known.ok ? [] : rulesAt(known.errors)).toEqual([
      { pointer: '/lines/1/category', rule: 'required' },
    ]);
  });

  it('reports the missing category next to schema errors, as the schema did before', () => {
    const errors = errorsOf(sale({ currency: 'eur', lines: [{ ...bare, productId: 'P404' }] }));
    expect(rulesAt(errors)).toEqual([
      { pointer: '/currency', rule: 'pattern' },
      { pointer: '/lines/0/category', rule: 'required' },
    ]);
  });

  it("joins the caller's checks to the contract's errors and passes them the completed sale", () => {
    const seen: string[] = [];
    const result = withCatalog(sale({ currency: 'XXY', lines: [bare] }), {
      checks: [
        (s: { lines: readonly { category: string }[] }) => {
          seen.push(s.lines[0]!.category);
          return [{ pointer: '/lines/0/productId', rule: 'house-rule', message: 'no milk today' }];
        },
      ],
    });
    expect(seen).toEqual(['dairy']);
    expect(result.ok ? [] : rulesAt(result.errors)).toEqual([
      { pointer: '/currency', rule: 'iso4217' },
      { pointer: '/lines/0/productId', rule: 'house-rule' },
    ]);
  });
});
