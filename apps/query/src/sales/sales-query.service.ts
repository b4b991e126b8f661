import { HttpStatus, Injectable } from '@nestjs/common';
import { type BranchScope, ProblemException, problemType, scopeAllows } from '@tally/common';
import { type SaleDetail, type SaleSummary, SalesReadRepository, sqlState } from '@tally/postgres';
import type { FastifyBaseLogger } from 'fastify';
import type { ListParams } from './list-query.parser.js';
import { encodeCursor } from './sales-cursor.codec.js';

/** Who is calling: the branches its API key may read (`*` when auth is disabled), and its request's log. */
export interface Caller {
  readonly scope: BranchScope;
  readonly log: FastifyBaseLogger;
}

export interface SalesListReply {
  readonly items: readonly SaleSummary[];
  /** Present when there may be more: pass it back as `cursor` (with the same order) for the next page. */
  readonly nextCursor?: string;
}

/** Seconds a client should wait before retrying a read that failed because Postgres was unavailable. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Reads sales within the caller's branch scope. A sale of another branch is answered exactly as
 * an unknown one (404), so a key cannot probe which sale ids exist elsewhere; asking to list a
 * branch outside the scope is a plain 403, since the caller named the branch itself.
 */
@Injectable()
export class SalesQueryService {
  constructor(private readonly sales: SalesReadRepository) {}

  async get(saleId: string, caller: Caller): Promise<SaleDetail> {
    const sale = await this.read(caller, () => this.sales.findById(saleId));
    if (sale === undefined || !scopeAllows(caller.scope, sale.branchId)) {
      throw new ProblemException({
        type: problemType('not-found'),
        title: 'No such sale',
        status: HttpStatus.NOT_FOUND,
        detail: `no sale ${saleId} is stored that this API key may read`,
      });
    }
    return sale;
  }

  async list(params: ListParams, caller: Caller): Promise<SalesListReply> {
    if (params.branchId !== undefined && !scopeAllows(caller.scope, params.branchId)) {
      throw ProblemException.forbiddenBranch(params.branchId);
    }
    const page = await this.read(caller, () => this.sales.list(params));
    return {
      items: page.items,
      ...(page.next && { nextCursor: encodeCursor({ order: params.order, ...page.next }) }),
    };
  }

  /**
   * Which of `saleIds` are stored, among the branches the caller may read: what an importer asks
   * before sending a batch again, so a re-import long after ingest's duplicate window sends
   * nothing already stored. A sale of another branch is left out, as an unknown one.
   */
  async stored(saleIds: readonly string[], caller: Caller): Promise<string[]> {
    const branches = await this.read(caller, () => this.sales.storedBranches(saleIds));
    return saleIds.filter((id) => {
      const branchId = branches.get(id);
      return branchId !== undefined && scopeAllows(caller.scope, branchId);
    });
  }

  /** Runs a read; Postgres being away (down, cut off, too slow) is a 503 with Retry-After, not a 500. */
  private async read<T>(caller: Caller, query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      caller.log.warn({ err: error }, 'Postgres unavailable; answering 503');
      throw new ProblemException(
        {
          type: problemType('unavailable'),
          title: 'Sales cannot be read right now; retry later',
          status: HttpStatus.SERVICE_UNAVAILABLE,
          detail: 'the database is unreachable or did not answer in time',
        },
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    }
  }
}

const NETWORK_ERRNO =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/;
/** node-postgres's messages for a connection lost, refused or not obtained from the pool in time. */
const CONNECTION_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended)/i;

/**
 * Failures of the moment rather than of the query: SQLSTATE classes 08 (connection), 53
 * (insufficient resources), 57 (operator intervention, statement timeout) and 40 (serialization),
 * and the driver's own connection errors, which carry no SQLSTATE. drizzle wraps the driver's
 * error as its `cause`, so the chain is followed. Anything else is a bug and stays a logged 500.
 */
function isUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = sqlState(e);
    if (code !== undefined) return /^(08|40|53|57)/.test(code);
    const errno = (e as { code?: unknown }).code;
    if (typeof errno === 'string' && NETWORK_ERRNO.test(errno)) return true;
    if (CONNECTION_MESSAGE.test(e.message)) return true;
  }
  return false;
}
