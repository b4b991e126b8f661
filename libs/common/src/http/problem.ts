import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Problem details (RFC 9457): every error Tally answers is `application/problem+json` with a
 * stable `type`, so clients branch on the type rather than on message text.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldProblem {
  readonly pointer: string;
  readonly rule: string;
  readonly message: string;
}

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly requestId?: string;
  readonly errors?: readonly FieldProblem[];
  readonly [extension: string]: unknown;
}

export const problemType = (name: string): string => `urn:tally:problem:${name}`;

/** An HttpException that already carries its problem document. */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: ProblemDetails,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem, problem.status);
  }

  static validation(errors: readonly FieldProblem[], detail?: string): ProblemException {
    return new ProblemException({
      type: problemType('validation'),
      title: 'The request breaks the sale contract',
      status: HttpStatus.UNPROCESSABLE_ENTITY,
      detail: detail ?? `${errors.length} field(s) break a rule; see errors`,
      errors,
    });
  }

  /** 400: query or path parameters that break a rule, each named with its rule. */
  static invalidParameters(errors: readonly FieldProblem[]): ProblemException {
    return new ProblemException({
      type: problemType('invalid-parameters'),
      title: 'The request parameters break a rule',
      status: HttpStatus.BAD_REQUEST,
      detail: `${errors.length} parameter(s) break a rule; see errors`,
      errors,
    });
  }

  /** 403: a branch-scoped key named a branch outside its scope. */
  static forbiddenBranch(branchId: string): ProblemException {
    return new ProblemException({
      type: problemType('forbidden-branch'),
      title: 'This API key may not read that branch',
      status: HttpStatus.FORBIDDEN,
      detail: `branch ${branchId} is not among the key's branches`,
      errors: [
        {
          pointer: '/query/branchId',
          rule: 'forbidden-branch',
          message: `this API key may not read branch ${branchId}`,
        },
      ],
    });
  }

  static unavailable(
    detail: string,
    retryAfterSeconds: number,
    extra: Record<string, unknown> = {},
  ): ProblemException {
    return new ProblemException(
      {
        type: problemType('unavailable'),
        title: 'Sales cannot be stored right now; retry later',
        status: HttpStatus.SERVICE_UNAVAILABLE,
        detail,
        ...extra,
      },
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}
