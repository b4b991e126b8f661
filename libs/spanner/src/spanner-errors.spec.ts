import { describe, expect, it } from 'vitest';
import {
  classifySpannerError,
  describeSpannerError,
  isPermanentSpannerError,
  isRetryableSpannerError,
} from './spanner-errors.js';

const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code });

describe('Spanner error classification', () => {
  it.each([
    [3, '3 INVALID_ARGUMENT: The transaction contains too many mutations.'],
    [9, '9 FAILED_PRECONDITION: New value exceeds the maximum size limit for this column: Sales.SaleId'],
    [9, '9 FAILED_PRECONDITION: Cannot specify a null value for column: Sales.BranchId'],
    [11, '11 OUT_OF_RANGE: Check constraint `Sales`.`X` is violated'],
  ])('code %i is permanent: %s', (code, message) => {
    const error = grpcError(code, message);
    expect(isPermanentSpannerError(error)).toBe(true);
    expect(isRetryableSpannerError(error)).toBe(false);
  });

  it.each([
    [10, '10 ABORTED: Transaction was aborted.'],
    [14, '14 UNAVAILABLE: No connection established'],
    [4, '4 DEADLINE_EXCEEDED: Deadline exceeded'],
    [8, '8 RESOURCE_EXHAUSTED: too many requests'],
    [13, '13 INTERNAL: Received RST_STREAM'],
    [2, '2 UNKNOWN: Stream removed'],
    [5, '5 NOT_FOUND: Table not found: Sales'],
    [5, '5 NOT_FOUND: Database not found: projects/p/instances/i/databases/d'],
    [7, '7 PERMISSION_DENIED: caller lacks spanner.databases.write'],
    [16, '16 UNAUTHENTICATED: bad credentials'],
    [3, '3 INVALID_ARGUMENT: Table not found: Sales [at 1:15]'],
    [
      9,
      '9 FAILED_PRECONDITION: Cannot write commit timestamp because the allow_commit_timestamp column option is not set',
    ],
  ])('code %i is retryable (the moment or the deployment): %s', (code, message) => {
    const error = grpcError(code, message);
    expect(isRetryableSpannerError(error)).toBe(true);
    expect(isPermanentSpannerError(error)).toBe(false);
  });

  it('treats errors without a gRPC code (lost connection, timeout) as retryable', () => {
    expect(
      isRetryableSpannerError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isRetryableSpannerError(new Error('socket hang up'))).toBe(true);
    expect(isRetryableSpannerError('weird')).toBe(true);
  });

  it('says ALREADY_EXISTS is neither: the row is stored already', () => {
    const error = grpcError(6, '6 ALREADY_EXISTS: Row {Int64(1)} already exists.');
    expect(classifySpannerError(error)).toBe('already-exists');
    expect(isPermanentSpannerError(error)).toBe(false);
    expect(isRetryableSpannerError(error)).toBe(false);
  });

  it('describes an error on one line with the status name', () => {
    expect(
      describeSpannerError(
        grpcError(3, '3 INVALID_ARGUMENT: Table not found: X [at 1:15]\nSELECT * FROM X\n   ^'),
      ),
    ).toBe('Spanner INVALID_ARGUMENT (3): Table not found: X [at 1:15] | SELECT * FROM X | ^');
    expect(describeSpannerError(new Error('socket hang up'))).toBe('socket hang up');
    expect(describeSpannerError(grpcError(9, 'x'.repeat(2_000)))).toHaveLength(1_000);
  });
});
