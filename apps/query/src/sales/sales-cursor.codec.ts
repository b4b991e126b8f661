import { ID_PATTERN } from '@tally/contracts';
import type { SalesCursor } from '@tally/postgres';
import { parseInstant } from './rfc3339.js';

export type SortOrder = 'desc' | 'asc';

/** Where the next page starts, and for which order: a cursor only means something in its own direction. */
export interface ListCursor extends SalesCursor {
  readonly order: SortOrder;
}

const VERSION = 1;
const TOKEN = /^[A-Za-z0-9_-]{1,400}$/;
/** The repository's exact position: UTC, microseconds. */
const POSITION = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$/;
const saleIdPattern = new RegExp(ID_PATTERN);

/**
 * The `cursor` of GET /v1/sales: an opaque base64url token of `[version, order, occurredAt,
 * saleId]`. Clients only pass it back; its content is not an interface, so it may change with
 * its version. It is not signed: a forged cursor can only start a page somewhere else within
 * what the caller's key may read anyway, since the branch scope is checked on every request.
 */
export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([VERSION, cursor.order, cursor.occurredAt, cursor.saleId])).toString(
    'base64url',
  );
}

/** The cursor a token holds, or undefined when the token is not one this codec wrote. */
export function decodeCursor(token: string): ListCursor | undefined {
  if (!TOKEN.test(token)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  const [version, order, occurredAt, saleId] = value as unknown[];
  if (version !== VERSION || (order !== 'desc' && order !== 'asc')) return undefined;
  if (
    typeof occurredAt !== 'string' ||
    !POSITION.test(occurredAt) ||
    parseInstant(occurredAt) === undefined
  ) {
    return undefined;
  }
  if (typeof saleId !== 'string' || !saleIdPattern.test(saleId)) return undefined;
  return { order, occurredAt, saleId };
}
