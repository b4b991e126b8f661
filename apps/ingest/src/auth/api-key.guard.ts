import { type CanActivate, type ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ProblemException, problemType } from '@tally/common';
import type { FastifyRequest } from 'fastify';
import { INGEST_CONFIG, type IngestConfig } from '../config/ingest.config.js';
import type { BranchScope } from './api-keys.js';

export type AuthenticatedRequest = FastifyRequest & { branchScope?: BranchScope };

/**
 * `Authorization: Bearer <key>`: resolves the key to the branches it may write and leaves
 * that scope on the request; which branch a sale is for is checked per sale by the intake.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(INGEST_CONFIG) private readonly config: IngestConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const keys = this.config.apiKeys;
    if (keys === undefined) {
      request.branchScope = '*';
      return true;
    }
    const header = request.headers.authorization;
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const scope = key === undefined ? undefined : keys.get(key);
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
