import {
  type CanActivate,
  type ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
  type Provider,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemException, problemType } from '../http/problem.js';
import type { ApiKeys, BranchScope } from './api-keys.js';

/** Injection token of the app's `ApiKeys | undefined` (undefined: auth disabled explicitly). */
export const API_KEYS = Symbol('API_KEYS');

/** Provides the keys the guard checks; every module using ApiKeyGuard needs it. */
export function apiKeysProvider(keys: ApiKeys | undefined): Provider {
  return { provide: API_KEYS, useValue: keys };
}

export type AuthenticatedRequest = FastifyRequest & { branchScope?: BranchScope };

/**
 * `Authorization: Bearer <key>`: resolves the key to the branches it may use and leaves that
 * scope on the request; which branch a request touches is checked by the handler (per sale on
 * ingest, per query on reads).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(API_KEYS) private readonly keys: ApiKeys | undefined) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (this.keys === undefined) {
      request.branchScope = '*';
      return true;
    }
    const header = request.headers.authorization;
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const scope = key === undefined ? undefined : this.keys.get(key);
    if (scope === undefined) {
      throw new ProblemException(
        {
          type: problemType('unauthorized'),
          title: key === undefined ? 'An API key is required' : 'Unknown API key',
          status: HttpStatus.UNAUTHORIZED,
          detail: 'Send Authorization: Bearer <key>, with a key from TALLY_API_KEYS',
        },
        { 'www-authenticate': 'Bearer realm="tally"' },
      );
    }
    request.branchScope = scope;
    return true;
  }
}
