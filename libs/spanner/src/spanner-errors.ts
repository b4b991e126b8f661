/**
 * Which Spanner failures are the data's fault and which are the moment's, by gRPC status code.
 *
 * Permanent (retrying the same rows can never succeed; the writer isolates the offending sale and
 * dead-letters it):
 * - INVALID_ARGUMENT (3): a malformed value, or a commit too large (too many mutations or bytes:
 *   the writer halves the batch until the offending sale stands alone);
 * - FAILED_PRECONDITION (9): what Spanner (and the emulator) answer for a value too long for its
 *   column, a NULL in a NOT NULL column, a value that does not parse as the column's type;
 * - OUT_OF_RANGE (11): a number or timestamp out of its type's range, a CHECK constraint.
 * Except when the message says the schema is at fault (a table, column or index not found, a
 * column not set up for commit timestamps): that is a deployment problem, like a NOT_FOUND, and
 * dead-lettering every sale while someone fixes the schema would be worse than waiting.
 *
 * ALREADY_EXISTS (6) is neither: it says the row is stored already. The writer only upserts, so
 * it never sees one; an insert that gets it (dead letters) has nothing left to do.
 *
 * Everything else is retryable: ABORTED (10, the transaction lost a conflict), UNAVAILABLE (14),
 * DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8), INTERNAL (13), UNKNOWN (2, often a reset
 * stream), CANCELLED (1), errors without a code (lost connections, timeouts of our own), and also
 * NOT_FOUND (5: missing database, table, column or session), PERMISSION_DENIED (7),
 * UNAUTHENTICATED (16) and UNIMPLEMENTED (12): someone must fix the deployment, and the sink
 * waits for them, as the Postgres sink does for SQLSTATE class 42.
 */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const CODE_NAMES = Object.fromEntries(Object.entries(GrpcCode).map(([name, code]) => [code, name])) as Record<
  number,
  string
>;

const PERMANENT_CODES: ReadonlySet<number> = new Set([
  GrpcCode.INVALID_ARGUMENT,
  GrpcCode.FAILED_PRECONDITION,
  GrpcCode.OUT_OF_RANGE,
]);

/** Messages of permanent codes that blame the schema, not the data. */
const SCHEMA_PROBLEMS = [
  /\b(table|column|index) not found\b/i,
  /\bunrecognized name\b/i,
  /\ballow_commit_timestamp\b/i,
];

export type SpannerErrorClass = 'permanent' | 'retryable' | 'already-exists';

export function classifySpannerError(error: unknown): SpannerErrorClass {
  const code = grpcCode(error);
  if (code === GrpcCode.ALREADY_EXISTS) return 'already-exists';
  if (code === undefined || !PERMANENT_CODES.has(code)) return 'retryable';
  const message = error instanceof Error ? error.message : String(error);
  return SCHEMA_PROBLEMS.some((pattern) => pattern.test(message)) ? 'retryable' : 'permanent';
}

/** True if retrying the same rows can never succeed: dead-letter them. */
export function isPermanentSpannerError(error: unknown): boolean {
  return classifySpannerError(error) === 'permanent';
}

/** True if the same write may succeed later (outage, conflict, deployment being fixed). */
export function isRetryableSpannerError(error: unknown): boolean {
  return classifySpannerError(error) === 'retryable';
}

/** The gRPC status code of a client error, if it has one. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16 ? code : undefined;
}

/**
 * One line for logs and dead letters: the status name and code, then the server's message (SQL
 * errors come with a caret diagram over several lines; they are joined).
 */
export function describeSpannerError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = grpcCode(error);
  // The client prefixes messages with "<code> <NAME>: "; say it once, in our own words.
  const message = error.message
    .replace(/^\d+ [A-Z_]+: /, '')
    .replace(/\s*\n\s*/g, ' | ')
    .trim();
  const text =
    code === undefined
      ? `${error.name === 'Error' ? '' : `${error.name}: `}${message}`
      : `Spanner ${CODE_NAMES[code]} (${code}): ${message}`;
  return text.length > 1_000 ? `${text.slice(0, 997)}...` : text;
}
