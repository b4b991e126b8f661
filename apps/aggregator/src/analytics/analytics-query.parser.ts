import { type BranchScope, type FieldProblem, ProblemException } from '@tally/common';
import { BRANCH_ID_PATTERN, ID_PATTERN } from '@tally/contracts';
import { isWindowName, WINDOW_NAMES, type WindowName } from '../windows/window-spec.js';

export type RawQuery = Readonly<Record<string, string | string[] | undefined>>;

export interface ViewParams {
  readonly window: WindowName;
  /** Undefined: all branches together. */
  readonly branchId: string | undefined;
}

export const MAX_TOP = 100;
const BRANCH_RE = new RegExp(BRANCH_ID_PATTERN);
const ID_RE = new RegExp(ID_PATTERN);

/**
 * Reads `window` and `branchId`; every problem names the parameter (`/query/<name>`) and the
 * rule. A key scoped to branches must name one of its branches (403 if it names another).
 */
export function parseViewQuery(raw: RawQuery, scope: BranchScope, defaultWindow: WindowName): ViewParams {
  const errors: FieldProblem[] = [];
  const window = single(raw, 'window', errors) ?? defaultWindow;
  if (!isWindowName(window)) {
    errors.push(problem('window', 'enum', `must be one of ${WINDOW_NAMES.join(', ')}`));
  }
  const branchId = single(raw, 'branchId', errors);
  if (branchId !== undefined && !BRANCH_RE.test(branchId)) {
    errors.push(problem('branchId', 'pattern', `must match ${BRANCH_ID_PATTERN}`));
  }
  if (branchId === undefined && scope !== '*') {
    errors.push(
      problem('branchId', 'required', 'is required for a key scoped to branches: name one of its branches'),
    );
  }
  if (errors.length > 0) throw invalid(errors);
  if (branchId !== undefined && scope !== '*' && !scope.has(branchId)) {
    throw ProblemException.forbiddenBranch(branchId);
  }
  return { window: window as WindowName, branchId };
}

export function parseLimit(raw: RawQuery, fallback: number): number {
  const errors: FieldProblem[] = [];
  const text = single(raw, 'limit', errors);
  if (errors.length > 0) throw invalid(errors);
  if (text === undefined) return fallback;
  const limit = Number(text);
  if (!/^[0-9]+$/.test(text) || limit < 1 || limit > MAX_TOP) {
    throw invalid([problem('limit', 'range', `must be an integer from 1 to ${MAX_TOP}`)]);
  }
  return limit;
}

export function parseProductId(productId: string): string {
  if (!ID_RE.test(productId)) {
    throw invalid([{ pointer: '/path/productId', rule: 'pattern', message: `must match ${ID_PATTERN}` }]);
  }
  return productId;
}

function single(raw: RawQuery, name: string, errors: FieldProblem[]): string | undefined {
  const value = raw[name];
  if (Array.isArray(value)) {
    errors.push(problem(name, 'single', 'may be given once'));
    return undefined;
  }
  return value === undefined || value === '' ? undefined : value;
}

function problem(name: string, rule: string, message: string): FieldProblem {
  return { pointer: `/query/${name}`, rule, message };
}

function invalid(errors: FieldProblem[]): ProblemException {
  return ProblemException.invalidParameters(errors);
}
