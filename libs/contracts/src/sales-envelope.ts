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
  env.sales.forEach(checkSaleShape);
  return env.sales as Sale[];
}

const SALE_STRINGS = ['saleId', 'kind', 'branchId', 'occurredAt', 'receivedAt', 'currency', 'total'] as const;
const LINE_STRINGS = ['productId', 'category', 'unitPrice', 'discount', 'amount'] as const;
const LINE_OPTIONAL_STRINGS = ['productName', 'brand'] as const;

function checkSaleShape(value: unknown, index: number): void {
  const at = `/sales/${index}`;
  const sale = value as Record<string, unknown> | null;
  if (sale === null || typeof sale !== 'object') throw shapeError(at, 'must be an object');
  for (const key of SALE_STRINGS)
    if (typeof sale[key] !== 'string') throw shapeError(`${at}/${key}`, 'must be a string');
  for (const key of SALE_OPTIONAL_TEXT_FIELDS) {
    if (sale[key] !== undefined && typeof sale[key] !== 'string')
      throw shapeError(`${at}/${key}`, 'must be a string');
  }
  const lines = sale.lines;
  if (!Array.isArray(lines) || lines.length === 0)
    throw shapeError(`${at}/lines`, 'must be a non-empty array');
  lines.forEach((raw, i) => {
    const line = raw as Record<string, unknown> | null;
    const lineAt = `${at}/lines/${i}`;
    if (line === null || typeof line !== 'object') throw shapeError(lineAt, 'must be an object');
    if (!Number.isInteger(line.lineNo)) throw shapeError(`${lineAt}/lineNo`, 'must be an integer');
    if (!Number.isInteger(line.quantity)) throw shapeError(`${lineAt}/quantity`, 'must be an integer');
    for (const key of LINE_STRINGS) {
      if (typeof line[key] !== 'string') throw shapeError(`${lineAt}/${key}`, 'must be a string');
    }
    for (const key of LINE_OPTIONAL_STRINGS) {
      if (line[key] !== undefined && typeof line[key] !== 'string')
        throw shapeError(`${lineAt}/${key}`, 'must be a string');
    }
  });
}

function shapeError(pointer: string, rule: string): EnvelopeDecodeError {
  return new EnvelopeDecodeError(`payload is not a ${SALES_SCHEMA} envelope: ${pointer} ${rule}`);
}
