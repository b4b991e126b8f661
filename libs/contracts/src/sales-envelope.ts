import { SALE_OPTIONAL_TEXT_FIELDS, type Sale } from './sale.schema.js';

/**
 * The payload of one message on the sales stream: one or more sales of one branch.
 *
 * One JetStream message per sale caps a Node process near 20k messages/s, so the batch
 * endpoint packs many sales into one message. Idempotency stays per sale: every store keys
 * rows by saleId, and a one-sale message carries `Nats-Msg-Id = saleId` so JetStream itself
 * drops a resend within its duplicate window.
 */
export const SALES_SCHEMA = 'tally.sales.v1';

export interface SalesEnvelope {
  readonly v: 1;
  readonly sales: readonly Sale[];
}

/** A sale as a consumer received it: the sale, the stream message it came in, and its request id. */
export interface StreamedSale {
  readonly sale: Sale;
  readonly streamSeq: number;
  readonly requestId?: string | undefined;
}

export class EnvelopeDecodeError extends Error {
  override readonly name = 'EnvelopeDecodeError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEnvelope(sales: readonly Sale[]): Uint8Array {
  return encodeSerializedEnvelope(sales.map((sale) => JSON.stringify(sale)));
}

/**
 * The same bytes from sales already serialized one by one: a publisher that sizes its
 * envelopes by each sale's JSON length serializes every sale once, not twice.
 */
export function encodeSerializedEnvelope(saleJsons: readonly string[]): Uint8Array {
  return encoder.encode(`{"v":1,"sales":[${saleJsons.join(',')}]}`);
}

/**
 * Decodes a message payload; throws EnvelopeDecodeError (a permanent failure: redelivering the
 * same bytes cannot help) if it is not an envelope of well-formed sales. Only ingest publishes
 * to the stream and it validates every sale, so this is a structural check of what consumers
 * rely on (types of the fields they read), not a second validation of business rules: a store's
 * own constraints catch the rest.
 */
export function decodeEnvelope(data: Uint8Array): Sale[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (e) {
    throw new EnvelopeDecodeError(`payload is not JSON: ${(e as Error).message}`);
  }
  const env = parsed as Partial<SalesEnvelope> | null;
  if (env === null || typeof env !== 'object' || env.v !== 1 || !Array.isArray(env.sales)) {
    throw new EnvelopeDecodeError(`payload is not a ${SALES_SCHEMA} envelope`);
  }
  const sales = env.sales;
  for (let i = 0; i < sales.length; i++) checkSaleShape(sales[i], i);
  return env.sales as Sale[];
}

const SALE_STRINGS = ['saleId', 'kind', 'branchId', 'occurredAt', 'receivedAt', 'currency', 'total'] as const;
const LINE_STRINGS = ['productId', 'category', 'unitPrice', 'discount', 'amount'] as const;
const LINE_OPTIONAL_STRINGS = ['productName', 'brand'] as const;

/**
 * Every consumer runs this on every sale it reads, so the good path reads each field by its
 * name (no keyed loads over lists of names, no strings built) and only a failure looks again,
 * field by field, to name the first one that is wrong.
 */
function checkSaleShape(value: unknown, index: number): void {
  const sale = value as Sale | null;
  if (
    sale === null ||
    typeof sale !== 'object' ||
    typeof sale.saleId !== 'string' ||
    typeof sale.kind !== 'string' ||
    typeof sale.branchId !== 'string' ||
    typeof sale.occurredAt !== 'string' ||
    typeof sale.receivedAt !== 'string' ||
    typeof sale.currency !== 'string' ||
    typeof sale.total !== 'string' ||
    !optionalString(sale.originalSaleId) ||
    !optionalString(sale.registerId) ||
    !optionalString(sale.cashierId) ||
    !optionalString(sale.customerId) ||
    !optionalString(sale.buyerCountry) ||
    !optionalString(sale.sellerCountry) ||
    !optionalString(sale.paymentMethod) ||
    !Array.isArray(sale.lines) ||
    sale.lines.length === 0
  ) {
    throw saleShapeError(value, index);
  }
  const lines = sale.lines;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (
      line === null ||
      typeof line !== 'object' ||
      !Number.isInteger(line.lineNo) ||
      !Number.isInteger(line.quantity) ||
      typeof line.productId !== 'string' ||
      typeof line.category !== 'string' ||
      typeof line.unitPrice !== 'string' ||
      typeof line.discount !== 'string' ||
      typeof line.amount !== 'string' ||
      !optionalString(line.productName) ||
      !optionalString(line.brand)
    ) {
      throw lineShapeError(line, `/sales/${index}/lines/${i}`);
    }
  }
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

/** The error naming the first wrong field of a sale that failed checkSaleShape. */
function saleShapeError(value: unknown, index: number): EnvelopeDecodeError {
  const at = `/sales/${index}`;
  const sale = value as Record<string, unknown> | null;
  if (sale === null || typeof sale !== 'object') return shapeError(at, 'must be an object');
  for (const key of SALE_STRINGS)
    if (typeof sale[key] !== 'string') return shapeError(`${at}/${key}`, 'must be a string');
  for (const key of SALE_OPTIONAL_TEXT_FIELDS) {
    if (!optionalString(sale[key])) return shapeError(`${at}/${key}`, 'must be a string');
  }
  return shapeError(`${at}/lines`, 'must be a non-empty array');
}

function lineShapeError(value: unknown, lineAt: string): EnvelopeDecodeError {
  const line = value as Record<string, unknown> | null;
  if (line === null || typeof line !== 'object') return shapeError(lineAt, 'must be an object');
  if (!Number.isInteger(line.lineNo)) return shapeError(`${lineAt}/lineNo`, 'must be an integer');
  if (!Number.isInteger(line.quantity)) return shapeError(`${lineAt}/quantity`, 'must be an integer');
  for (const key of LINE_STRINGS) {
    if (typeof line[key] !== 'string') return shapeError(`${lineAt}/${key}`, 'must be a string');
  }
  for (const key of LINE_OPTIONAL_STRINGS) {
    if (!optionalString(line[key])) return shapeError(`${lineAt}/${key}`, 'must be a string');
  }
  return shapeError(lineAt, 'is not a sale line');
}

function shapeError(pointer: string, rule: string): EnvelopeDecodeError {
  return new EnvelopeDecodeError(`payload is not a ${SALES_SCHEMA} envelope: ${pointer} ${rule}`);
}
