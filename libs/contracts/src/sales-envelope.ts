import type { Sale } from './sale.schema.js';

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

/** Decodes a message payload; throws EnvelopeDecodeError (a permanent failure) if it is not an envelope. */
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
  return env.sales as Sale[];
}
