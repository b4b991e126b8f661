import { createHash } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { CatalogCache } from '@tally/catalog';
import {
  type BranchScope,
  type FieldProblem,
  ProblemException,
  problemType,
  scopeAllows,
} from '@tally/common';
import {
  encodeSerializedEnvelope,
  type FieldError,
  salesSubject,
  type ValidationOptions,
  validateSale,
} from '@tally/contracts';
import { catalogChecks } from '../catalog/catalog.rules.js';
import { INGEST_CONFIG, type IngestConfig } from '../config/ingest.config.js';
import { IngestMetrics } from '../metrics/ingest.metrics.js';
import { type OutboundMessage, type PublishOutcome, SalePublisher } from './sale-publisher.repository.js';

export type StoredStatus = 'accepted' | 'duplicate';

export interface SaleReceipt {
  readonly saleId: string;
  readonly status: StoredStatus;
  /** Stream sequence of the message holding the sale (the original's, for a duplicate). */
  readonly seq: number;
}

export type BatchItemResult =
  | { readonly index: number; readonly saleId: string; readonly status: StoredStatus; readonly seq: number }
  | {
      readonly index: number;
      readonly saleId?: string;
      readonly status: 'rejected';
      readonly errors: FieldError[];
    }
  | { readonly index: number; readonly saleId: string; readonly status: 'unavailable' };

export interface BatchReceipt {
  readonly accepted: number;
  readonly duplicate: number;
  readonly rejected: number;
  readonly unavailable: number;
  readonly results: BatchItemResult[];
}

/** An NDJSON line that is not JSON; it is rejected on its own without failing the batch. */
export class UnparsableItem {
  constructor(readonly message: string) {}
}

/** Who is calling: the branches its API key may write (`*` when auth is disabled). */
export interface Caller {
  readonly scope: BranchScope;
  readonly requestId: string;
}

/** A validated sale on its way into an envelope, serialized once. */
interface Packed {
  readonly index: number;
  readonly saleId: string;
  readonly json: string;
}

/**
 * Validates sales, checks the caller may write their branches, packs them into messages and
 * replies only with what JetStream acknowledged.
 *
 * Packing: a single sale is one message with `Nats-Msg-Id = saleId`, so JetStream itself
 * answers `duplicate` for a resend within the duplicate window. A batch packs the sales of
 * one branch into envelopes (bounded by count and bytes) whose msg id is a digest of their
 * sale ids: a client retrying the same batch gets every sale back as `duplicate`. A sale that
 * reaches the stream twice anyway (after the window, or in a differently composed batch) is
 * still stored once, because every sink keys rows by saleId.
 *
 * The catalog (kept in memory by CatalogCache) completes lines that omit their category, and
 * the catalog rules the configuration switches on (catalog.rules.ts) run inside validation:
 * a sale they reject is rejected like any contract breach, alone in its batch.
 */
@Injectable()
export class SaleIntakeService {
  /** The same for every sale but `now`: built once, not per request. */
  private readonly validation: ValidationOptions;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly publisher: SalePublisher,
    private readonly metrics: IngestMetrics,
    catalog: CatalogCache,
  ) {
    this.validation = {
      maxFutureSkewMs: config.maxFutureSkewMs,
      products: (productId) => catalog.product(productId),
      checks: catalogChecks(config, catalog),
    };
  }

  get batchMaxSales(): number {
    return this.config.batchMaxSales;
  }

  async acceptOne(input: unknown, caller: Caller): Promise<SaleReceipt> {
    const result = validateSale(input, this.validation);
    if (!result.ok) {
      this.countRejected('single', result.errors);
      throw ProblemException.validation(result.errors);
    }
    const { sale } = result;
    if (!scopeAllows(caller.scope, sale.branchId)) {
      this.countRejected('single', [forbidden(sale.branchId)]);
      throw new ProblemException({
        type: problemType('forbidden-branch'),
        title: 'This API key may not submit sales for that branch',
        status: HttpStatus.FORBIDDEN,
        detail: `branch ${sale.branchId} is not among the key's branches`,
        errors: [forbidden(sale.branchId)],
      });
    }
    const packed = { index: 0, saleId: sale.saleId, json: JSON.stringify(sale) };
    const [outcome] = await this.publisher.publishAll([this.message(sale.branchId, [packed], caller)]);
    if (!outcome!.ok) throw this.unavailable(outcome!);
    const status: StoredStatus = outcome!.duplicate ? 'duplicate' : 'accepted';
    this.metrics.sales.inc({ endpoint: 'single', status });
    return { saleId: sale.saleId, status, seq: outcome!.seq };
  }

  async acceptBatch(items: readonly unknown[], caller: Caller): Promise<BatchReceipt> {
    const results: BatchItemResult[] = new Array(items.length);
    const firstIndexOf = new Map<string, number>();
    const repeats: Array<{ index: number; saleId: string; of: number }> = [];
    const byBranch = new Map<string, Packed[]>();
    const options = { ...this.validation, now: Date.now() };

    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      if (item instanceof UnparsableItem) {
        results[index] = {
          index,
          status: 'rejected',
          errors: [{ pointer: '', rule: 'json', message: item.message }],
        };
        continue;
      }
      const result = validateSale(item, options);
      if (!result.ok) {
        results[index] = { index, ...saleIdOf(item), status: 'rejected', errors: result.errors };
        continue;
      }
      const { sale } = result;
      if (!scopeAllows(caller.scope, sale.branchId)) {
        results[index] = {
          index,
          saleId: sale.saleId,
          status: 'rejected',
          errors: [forbidden(sale.branchId)],
        };
        continue;
      }
      const first = firstIndexOf.get(sale.saleId);
      if (first !== undefined) {
        repeats.push({ index, saleId: sale.saleId, of: first });
        continue;
      }
      firstIndexOf.set(sale.saleId, index);
      let group = byBranch.get(sale.branchId);
      if (group === undefined) {
        group = [];
        byBranch.set(sale.branchId, group);
      }
      group.push({ index, saleId: sale.saleId, json: JSON.stringify(sale) });
    }

    const chunks: Packed[][] = [];
    const messages: OutboundMessage[] = [];
    for (const [branchId, group] of byBranch) {
      for (const chunk of this.chunk(group)) {
        chunks.push(chunk);
        messages.push(this.message(branchId, chunk, caller));
      }
    }

    const outcomes: PublishOutcome[] = messages.length > 0 ? await this.publisher.publishAll(messages) : [];
    outcomes.forEach((outcome, m) => {
      for (const { index, saleId } of chunks[m]!) {
        results[index] = outcome.ok
          ? { index, saleId, status: outcome.duplicate ? 'duplicate' : 'accepted', seq: outcome.seq }
          : { index, saleId, status: 'unavailable' };
      }
    });
    for (const { index, saleId, of } of repeats) {
      const original = results[of]!;
      results[index] =
        original.status === 'accepted' || original.status === 'duplicate'
          ? { index, saleId, status: 'duplicate', seq: original.seq }
          : { index, saleId, status: 'unavailable' };
    }

    const receipt = summarize(results);
    this.metrics.sales.inc({ endpoint: 'batch', status: 'accepted' }, receipt.accepted);
    this.metrics.sales.inc({ endpoint: 'batch', status: 'duplicate' }, receipt.duplicate);
    for (const r of results) if (r.status === 'rejected') this.countRejected('batch', r.errors);

    const failed = outcomes.find((o): o is Extract<PublishOutcome, { ok: false }> => !o.ok);
    if (failed !== undefined) throw this.unavailable(failed, receipt);
    if (receipt.rejected === items.length && items.length > 0) {
      throw new ProblemException({
        type: problemType('validation'),
        title: 'Every sale in the batch breaks the contract',
        status: HttpStatus.UNPROCESSABLE_ENTITY,
        detail: `${items.length} sale(s) rejected; see results`,
        ...receipt,
      });
    }
    return receipt;
  }

  /**
   * One envelope of one branch's sales. A lone sale keeps `Nats-Msg-Id = saleId` whichever
   * endpoint it came through, so JetStream answers `duplicate` for it exactly.
   */
  private message(branchId: string, sales: readonly Packed[], caller: Caller): OutboundMessage {
    const subject = salesSubject(this.config.names, branchId);
    const saleIds = sales.map((s) => s.saleId);
    return {
      subject,
      msgId: saleIds.length === 1 ? saleIds[0]! : batchMsgId(subject, saleIds),
      payload: encodeSerializedEnvelope(sales.map((s) => s.json)),
      saleCount: sales.length,
      requestId: caller.requestId,
    };
  }

  /** Splits one branch's sales into envelopes within the count and byte limits. */
  private *chunk(group: readonly Packed[]): Generator<Packed[]> {
    let current: Packed[] = [];
    let bytes = 0;
    for (const entry of group) {
      const size = Buffer.byteLength(entry.json) + 1;
      if (
        current.length > 0 &&
        (current.length >= this.config.envelopeMaxSales || bytes + size > this.config.envelopeMaxBytes)
      ) {
        yield current;
        current = [];
        bytes = 0;
      }
      current.push(entry);
      bytes += size;
    }
    if (current.length > 0) yield current;
  }

  private unavailable(
    outcome: Extract<PublishOutcome, { ok: false }>,
    receipt?: BatchReceipt,
  ): ProblemException {
    this.metrics.unavailable.inc({ cause: outcome.cause });
    return ProblemException.unavailable(outcome.detail, this.config.retryAfterSeconds, {
      cause: outcome.cause,
      ...(receipt !== undefined && receipt),
    });
  }

  private countRejected(endpoint: 'single' | 'batch', errors: readonly FieldProblem[]): void {
    this.metrics.sales.inc({ endpoint, status: 'rejected' });
    this.metrics.rejections.inc({ rule: errors[0]?.rule ?? 'unknown' });
  }
}

function forbidden(branchId: string): FieldError {
  return {
    pointer: '/branchId',
    rule: 'forbidden-branch',
    message: `this API key may not write branch ${branchId}`,
  };
}

function saleIdOf(item: unknown): { saleId?: string } {
  const saleId = (item as { saleId?: unknown } | null)?.saleId;
  return typeof saleId === 'string' ? { saleId } : {};
}

function batchMsgId(subject: string, saleIds: readonly string[]): string {
  // '/' never occurs in a saleId, so a batch id cannot collide with a single sale's id.
  return `batch/${createHash('sha256').update(subject).update('\n').update(saleIds.join('\n')).digest('base64url')}`;
}

function summarize(results: BatchItemResult[]): BatchReceipt {
  let accepted = 0;
  let duplicate = 0;
  let rejected = 0;
  let unavailable = 0;
  for (const r of results) {
    if (r.status === 'accepted') accepted++;
    else if (r.status === 'duplicate') duplicate++;
    else if (r.status === 'rejected') rejected++;
    else unavailable++;
  }
  return { accepted, duplicate, rejected, unavailable, results };
}
