import { type Static, Type } from '@sinclair/typebox';

/**
 * A mapping file: how one CSV export becomes sales of the contract. Presets in
 * apps/import/presets/ are mapping files; `--mapping <name | path>` picks one. The schema is
 * TypeBox (like the sale contract), so the loader validates a file with Ajv and names each
 * broken field by JSON pointer.
 *
 * A field of the contract is taken from a `column` (or several, joined by one space, e.g. a
 * date and a time column), or is a fixed `value`; `default` fills an empty cell, and `map`
 * translates source codes (e.g. `{"R": "return"}`); a value missing from `map` is a row error;
 * `slug` turns a name into an id (for sources whose products have names but no ids).
 */

const ColumnRef = Type.Union(
  [Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })],
  {
    description: 'A column name, or several joined by one space',
  },
);

export const FieldSpecSchema = Type.Object(
  {
    column: Type.Optional(ColumnRef),
    value: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    default: Type.Optional(Type.String()),
    map: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** Make an id of a name: lower case, runs of other characters as '-' ("Green Tea 500ml" → green-tea-500ml). */
    slug: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const DateSpecSchema = Type.Object(
  {
    column: ColumnRef,
    /** `iso`, or a pattern of yyyy MM M dd d HH H mm ss S… XXX and literal text ('quoted' for letters). */
    format: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

const Field = Type.Optional(FieldSpecSchema);

export const ProductSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    productId: Type.String({ minLength: 1 }),
    category: Type.Optional(Type.String({ minLength: 1 })),
    brand: Type.Optional(Type.String({ minLength: 1 })),
    unitPrice: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const MappingSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    csv: Type.Optional(
      Type.Object(
        {
          delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
          quote: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
          escape: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
          encoding: Type.Optional(
            Type.Union([Type.Literal('utf8'), Type.Literal('latin1'), Type.Literal('utf16le')]),
          ),
          /** false: the file has no header row; `columns` names its columns in order. */
          header: Type.Optional(Type.Boolean()),
          columns: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    receipt: Type.Object(
      {
        /** The source's order id: the column(s) naming a receipt, joined by ':'. */
        key: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
        /** consecutive: rows with the same key next to each other are the lines of one receipt; none: one row is one sale. */
        grouping: Type.Union([Type.Literal('consecutive'), Type.Literal('none')]),
        /** Sale ids are `<prefix>:<key>`. */
        saleIdPrefix: Type.String({ pattern: '^[A-Za-z0-9._-]{1,24}$' }),
      },
      { additionalProperties: false },
    ),
    /** IANA zone (Europe/Berlin) or fixed offset (+01:00, Z) of dates written without one. */
    timezone: Type.Optional(Type.String({ minLength: 1 })),
    money: Type.Optional(
      Type.Object(
        {
          decimalSeparator: Type.Optional(Type.Union([Type.Literal('.'), Type.Literal(',')])),
          thousandsSeparator: Type.Optional(
            Type.Union([
              Type.Literal(''),
              Type.Literal('.'),
              Type.Literal(','),
              Type.Literal(' '),
              Type.Literal("'"),
            ]),
          ),
          /** Round amounts with more than 4 fractional digits (half away from zero), e.g. a FLOAT64 export's 57.270000000000003. */
          round: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    sale: Type.Object(
      {
        branchId: FieldSpecSchema,
        occurredAt: DateSpecSchema,
        currency: FieldSpecSchema,
        kind: Field,
        originalSaleId: Field,
        registerId: Field,
        cashierId: Field,
        customerId: Field,
        buyerCountry: Field,
        sellerCountry: Field,
        paymentMethod: Field,
      },
      { additionalProperties: false },
    ),
    line: Type.Object(
      {
        /** Looked up in `products` by name (case and surrounding spaces ignored). */
        product: Field,
        productId: Field,
        productName: Field,
        category: Field,
        brand: Field,
        quantity: Field,
        unitPrice: Field,
        discount: Field,
        amount: Field,
      },
      { additionalProperties: false },
    ),
    products: Type.Optional(Type.Array(ProductSchema)),
  },
  { additionalProperties: false, title: 'ImportMapping' },
);

export type Mapping = Static<typeof MappingSchema>;
export type FieldSpec = Static<typeof FieldSpecSchema>;
export type DateSpec = Static<typeof DateSpecSchema>;
export type ProductEntry = Static<typeof ProductSchema>;
export type SaleFieldName = keyof Mapping['sale'];
export type LineFieldName = keyof Mapping['line'];
