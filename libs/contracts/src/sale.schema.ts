import { type Static, Type } from '@sinclair/typebox';
import { MONEY_PATTERN } from './decimal.js';

/**
 * The sale contract: one receipt, as a client sends it. This TypeBox schema is the single
 * source: the TypeScript types (`SaleInput`, `SaleSubmission`), the runtime validator
 * (sale.validator.ts) and the OpenAPI document all derive from it. Rules JSON Schema cannot
 * state (a return needs its original sale, the clock skew, net amounts, a line's category
 * supplied by the catalog) live in sale.validator.ts, next to the others.
 *
 * Two shapes of the same contract: `SaleSubmission` is what ingest accepts (a line may omit
 * the category of a product the catalog knows); `SaleInput` is the complete sale, every line
 * categorised. The validator turns the first into a `Sale` that always has every category.
 */

/** Client-chosen identifiers: 1–64 of [A-Za-z0-9._:-]. The saleId is the idempotency key. */
export const ID_PATTERN = '^[A-Za-z0-9._:-]{1,64}$';
/** Branch ids become a NATS subject token, so no dots or wildcards: 1–64 of [A-Za-z0-9_-]. */
export const BRANCH_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
/** RFC 3339 date-time with an explicit offset (Z or ±hh:mm). */
export const RFC3339_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$';

export const MAX_LINES = 1000;
export const MAX_QUANTITY = 1_000_000;

const Id = (description: string) => Type.String({ pattern: ID_PATTERN, description });

export const Money = (description: string) =>
  Type.Union(
    [Type.String({ pattern: MONEY_PATTERN }), Type.Number({ minimum: 0, maximum: 99_999_999_999.9999 })],
    {
      description: `${description}. Exact decimal ≥ 0 with at most 4 fractional digits, as a string or a JSON number.`,
      examples: ['19.99'],
      'x-rule': 'decimal',
    },
  );

const lineProperties = {
  productId: Id('Product identifier'),
  productName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  category: Type.String({ minLength: 1, maxLength: 64, description: 'Product category' }),
  brand: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  quantity: Type.Integer({
    minimum: 1,
    maximum: MAX_QUANTITY,
    description: 'Units; positive, also in returns',
  }),
  unitPrice: Money('Price of one unit before discount'),
  discount: Type.Optional(Money('Total discount on this line')),
  amount: Type.Optional(Money('Net line total after discounts, when the source system gives it')),
};

/** A complete line: what every streamed line carries (category included). */
export const SaleLineInputSchema = Type.Object(lineProperties, {
  additionalProperties: false,
  title: 'SaleLine',
});

/**
 * A line as ingest accepts it: like SaleLineInputSchema, but `category` may be omitted when the
 * product is in the catalog, which then supplies it (and an omitted productName or brand). The
 * validator fills it or rejects the line, so a streamed line always has its category.
 */
export const SaleLineSubmissionSchema = Type.Object(
  {
    ...lineProperties,
    category: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description:
          'Product category; may be omitted for a product in the catalog, which then supplies it (and an omitted productName and brand)',
      }),
    ),
  },
  { additionalProperties: false, title: 'SaleLine' },
);

const saleProperties = {
  saleId: Id('Client-chosen idempotency key: resending the same saleId never stores the sale twice'),
  kind: Type.Unsafe<'sale' | 'return'>({
    type: 'string',
    enum: ['sale', 'return'],
    description: 'A return reverses (part of) an earlier sale and is netted negatively',
  }),
  originalSaleId: Type.Optional(Id('The sale a return refers to; required for returns')),
  branchId: Type.String({ pattern: BRANCH_ID_PATTERN, description: 'Branch (store) identifier' }),
  registerId: Type.Optional(Id('Till / register')),
  cashierId: Type.Optional(Id('Cashier')),
  customerId: Type.Optional(Id('Customer (loyalty) identifier')),
  occurredAt: Type.String({
    pattern: RFC3339_PATTERN,
    description: 'When the sale happened: RFC 3339 with offset, e.g. 2026-11-21T10:15:00+01:00',
  }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code' }),
  buyerCountry: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{1,8}$', description: 'Country code' })),
  sellerCountry: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{1,8}$', description: 'Country code' })),
  paymentMethod: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'e.g. cash, card' }),
  ),
};

/** The sale's optional text fields (every optional property of saleProperties), in schema order. */
export const SALE_OPTIONAL_TEXT_FIELDS = [
  'originalSaleId',
  'registerId',
  'cashierId',
  'customerId',
  'buyerCountry',
  'sellerCountry',
  'paymentMethod',
] as const satisfies readonly (keyof typeof saleProperties)[];

/** A complete sale as a client sends it, every line with its category. */
export const SaleInputSchema = Type.Object(
  { ...saleProperties, lines: Type.Array(SaleLineInputSchema, { minItems: 1, maxItems: MAX_LINES }) },
  { additionalProperties: false, title: 'Sale' },
);

/**
 * What `POST /v1/sales` accepts and validateSale checks: a SaleInput whose lines may omit the
 * category of a catalog product (SaleLineSubmissionSchema). The OpenAPI document shows this one.
 */
export const SaleSubmissionSchema = Type.Object(
  {
    ...saleProperties,
    lines: Type.Array(SaleLineSubmissionSchema, { minItems: 1, maxItems: MAX_LINES }),
  },
  { additionalProperties: false, title: 'Sale' },
);

export type SaleInput = Static<typeof SaleInputSchema>;
export type SaleLineInput = Static<typeof SaleLineInputSchema>;
export type SaleSubmission = Static<typeof SaleSubmissionSchema>;
export type SaleLineSubmission = Static<typeof SaleLineSubmissionSchema>;
export type SaleKind = SaleInput['kind'];

/** A sale line as stored and streamed: every money field canonical and the net amount known. */
export interface SaleLine {
  /** 1-based position in the receipt; with saleId, the line's key in every store. */
  readonly lineNo: number;
  readonly productId: string;
  readonly productName?: string;
  readonly category: string;
  readonly brand?: string;
  readonly quantity: number;
  readonly unitPrice: string;
  readonly discount: string;
  /** Net amount (quantity × unitPrice − discount, or the source's explicit amount), ≥ 0. */
  readonly amount: string;
}

/**
 * A validated sale as published on the stream. Amounts are magnitudes: a return's lines and
 * total are positive and are netted negatively by `kind` downstream.
 */
export interface Sale extends Omit<SaleInput, 'lines'> {
  readonly lines: readonly SaleLine[];
  /** Sum of the lines' net amounts. */
  readonly total: string;
  /** When ingest accepted it (RFC 3339, UTC). */
  readonly receivedAt: string;
}
