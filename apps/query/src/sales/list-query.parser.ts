import { type BranchScope, type FieldProblem, ProblemException } from '@tally/common';
import { BRANCH_ID_PATTERN, ID_PATTERN } from '@tally/contracts';
import type { SalesCursor } from '@tally/postgres';
import { parseInstant } from './rfc3339.js';
import { decodeCursor, type SortOrder } from './sales-cursor.codec.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** GET /v1/sales after validation: what the repository is asked for. */
export interface ListParams {
  readonly branchId?: string;
  readonly customerId?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly limit: number;
  readonly order: SortOrder;
  readonly after?: SalesCursor;
}

/** Query parameters as Fastify parses them: a repeated name arrives as an array. */
export type RawQuery = Readonly<Record<string, unknown>>;

const LIST_PARAMS = ['branchId', 'customerId', 'from', 'to', 'limit', 'order', 'cursor'] as const;
type ListParamName = (typeof LIST_PARAMS)[number];

const branchIdPattern = new RegExp(BRANCH_ID_PATTERN);
const idPattern = new RegExp(ID_PATTERN);
const RFC3339_MESSAGE = 'must be an RFC 3339 date-time with offset, e.g. 2026-03-01T10:00:00Z';

/**
 * Validates the list's query parameters, reporting every broken rule at once, each by pointer
 * (`/query/<name>`) and rule, as ingest reports a sale's fields. A key scoped to branches must
 * name the branch it lists: omitting branchId would mean "every branch", which only `*` may read.
 * Whether the named branch is within the scope is the service's check (403, not 400).
 */
export function parseListQuery(raw: RawQuery, scope: BranchScope): ListParams {
  const errors: FieldProblem[] = unknownParams(raw, LIST_PARAMS);
  const text = (name: ListParamName): string | undefined => {
    const value = raw[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      errors.push(problem(name, 'repeated', 'must be given at most once'));
      return undefined;
    }
    return value;
  };
  const matching = (name: ListParamName, pattern: RegExp, source: string): string | undefined => {
    const value = text(name);
    if (value === undefined || pattern.test(value)) return value;
    errors.push(problem(name, 'pattern', `must match pattern "${source}"`));
    return undefined;
  };
  const instant = (name: ListParamName): Date | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = parseInstant(value);
    if (parsed === undefined) errors.push(problem(name, 'rfc3339', RFC3339_MESSAGE));
    return parsed;
  };

  const branchId = matching('branchId', branchIdPattern, BRANCH_ID_PATTERN);
  if (raw.branchId === undefined && scope !== '*') {
    errors.push(
      problem('branchId', 'required', 'is required for a key scoped to branches: name one of its branches'),
    );
  }
  const customerId = matching('customerId', idPattern, ID_PATTERN);
  const from = instant('from');
  const to = instant('to');
  if (from !== undefined && to !== undefined && to <= from) {
    errors.push(problem('to', 'after-from', 'must be later than from (from is inclusive, to exclusive)'));
  }
  const limit = parseLimit(text('limit'), errors);
  const order = text('order') ?? 'desc';
  if (order !== 'desc' && order !== 'asc') errors.push(problem('order', 'enum', 'must be one of desc, asc'));
  const token = text('cursor');
  const cursor = token === undefined ? undefined : decodeCursor(token);
  if (token !== undefined && cursor === undefined) {
    errors.push(
      problem('cursor', 'cursor', 'is not a cursor this API issued; pass nextCursor back unchanged'),
    );
  } else if (cursor !== undefined && cursor.order !== order) {
    errors.push(
      problem(
        'cursor',
        'cursor-order',
        `was issued for order=${cursor.order}; page on with the same order, or start over without a cursor`,
      ),
    );
  }

  if (errors.length > 0) throw invalidParameters(errors);
  return {
    ...(branchId !== undefined && { branchId }),
    ...(customerId !== undefined && { customerId }),
    ...(from !== undefined && { from }),
    ...(to !== undefined && { to }),
    limit,
    order: order as SortOrder,
    ...(cursor !== undefined && { after: { occurredAt: cursor.occurredAt, saleId: cursor.saleId } }),
  };
}

/** The saleId of GET /v1/sales/:saleId; that route takes no query parameters. */
export function parseSaleIdRequest(saleId: string, raw: RawQuery): string {
  const errors = unknownParams(raw, []);
  if (!idPattern.test(saleId)) {
    errors.push({ pointer: '/path/saleId', rule: 'pattern', message: `must match pattern "${ID_PATTERN}"` });
  }
  if (errors.length > 0) throw invalidParameters(errors);
  return saleId;
}

/** Most sale ids one POST /v1/sales/stored may ask about (ingest's batch limit). */
export const MAX_STORED_QUERY_IDS = 5000;

/** The body of POST /v1/sales/stored: `{ saleIds: [...] }`, 1–5,000 ids, each a valid sale id. */
export function parseStoredQuery(body: unknown): string[] {
  const ids = (body as { saleIds?: unknown } | null | undefined)?.saleIds;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_STORED_QUERY_IDS) {
    throw invalidParameters([
      {
        pointer: '/body/saleIds',
        rule: 'array',
        message: `must be an array of 1 to ${MAX_STORED_QUERY_IDS} sale ids`,
      },
    ]);
  }
  const errors: FieldProblem[] = [];
  ids.forEach((id, i) => {
    if (typeof id !== 'string' || !idPattern.test(id)) {
      errors.push({
        pointer: `/body/saleIds/${i}`,
        rule: 'pattern',
        message: `must match pattern "${ID_PATTERN}"`,
      });
    }
  });
  if (errors.length > 0) throw invalidParameters(errors.slice(0, 100));
  return ids as string[];
}

export function invalidParameters(errors: readonly FieldProblem[]): ProblemException {
  return ProblemException.invalidParameters(errors);
}

function parseLimit(value: string | undefined, errors: FieldProblem[]): number {
  if (value === undefined) return DEFAULT_LIMIT;
  if (!/^[0-9]{1,9}$/.test(value)) {
    errors.push(problem('limit', 'type', 'must be an integer'));
    return DEFAULT_LIMIT;
  }
  const limit = Number(value);
  if (limit < 1) errors.push(problem('limit', 'minimum', 'must be >= 1'));
  if (limit > MAX_LIMIT) errors.push(problem('limit', 'maximum', `must be <= ${MAX_LIMIT}`));
  return limit;
}

function unknownParams(raw: RawQuery, known: readonly string[]): FieldProblem[] {
  return Object.keys(raw)
    .filter((name) => !known.includes(name))
    .map((name) => ({
      pointer: `/query/${escapePointer(name)}`,
      rule: 'unknown-parameter',
      message:
        known.length > 0 ? `is not a parameter; use ${known.join(', ')}` : 'this route takes no parameters',
    }));
}

function problem(name: ListParamName, rule: string, message: string): FieldProblem {
  return { pointer: `/query/${name}`, rule, message };
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
