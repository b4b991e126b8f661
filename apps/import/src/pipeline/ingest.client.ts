import { setTimeout as sleep } from 'node:timers/promises';
import type { FieldError, SaleInput } from '@tally/contracts';

/**
 * `POST /v1/sales/batch` for the import, with the retries a long import needs.
 *
 * - 202 (or 422 when every sale broke the contract): one result per sale, accepted, duplicate
 *   (ingest already held that sale id: JetStream's duplicate window, or repeated in the batch)
 *   or rejected with its errors.
 * - 503 / 429 / no answer: the same batch again after `Retry-After` (else an exponential
 *   back-off), for at most `retryForMs`. Resending is safe: the sale id is the idempotency key
 *   and ingest packs a batch deterministically, so parts stored by an earlier attempt come back
 *   as duplicates. Those are still counted as accepted, since this import stored them.
 * - 401, 403, 413 and anything else: the import cannot go on (a wrong key would reject every
 *   sale): ImportAborted with the reason.
 */

export type SaleOutcome =
  | { readonly status: 'accepted' | 'duplicate' }
  | { readonly status: 'rejected'; readonly errors: readonly FieldError[] };

export class ImportAborted extends Error {
  override readonly name = 'ImportAborted';
}

export interface IngestClientOptions {
  /** Base URL of ingest, e.g. http://127.0.0.1:3000. */
  readonly url: string;
  readonly apiKey?: string;
  readonly requestTimeoutMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** Give up on a batch after retrying this long. */
  readonly retryForMs: number;
  readonly onRetry?: (info: {
    readonly status: number | string;
    readonly waitMs: number;
    readonly attempt: number;
  }) => void;
  /**
   * Interrupts waiting between retries (Ctrl-C). A request already sent is let finish, so what
   * ingest stored is counted.
   */
  readonly signal?: AbortSignal;
}

export interface SaleBatchSender {
  send(sales: readonly SaleInput[], requestId: string): Promise<SaleOutcome[]>;
}

interface BatchReply {
  readonly results?: ReadonlyArray<{ index: number; status: string; errors?: FieldError[] }>;
  readonly title?: string;
  readonly detail?: string;
  readonly errors?: FieldError[];
}

export class IngestClient implements SaleBatchSender {
  private readonly endpoint: string;

  constructor(private readonly options: IngestClientOptions) {
    this.endpoint = new URL('/v1/sales/batch', options.url).toString();
  }

  async send(sales: readonly SaleInput[], requestId: string): Promise<SaleOutcome[]> {
    const body = JSON.stringify(sales);
    const storedEarlier = new Set<number>();
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let status: number | string;
      let reply: BatchReply | undefined;
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(this.endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-request-id': requestId,
            ...(this.options.apiKey !== undefined && { authorization: `Bearer ${this.options.apiKey}` }),
          },
          body,
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
        status = response.status;
        reply = (await response.json().catch(() => undefined)) as BatchReply | undefined;
        const header = response.headers.get('retry-after');
        if (header !== null && /^\d+$/.test(header)) retryAfterMs = Number(header) * 1000;
      } catch (error) {
        status = (error as Error).name === 'TimeoutError' ? 'timeout' : `unreachable (${causeOf(error)})`;
      }

      if ((status === 202 || status === 422) && reply?.results !== undefined) {
        return outcomes(sales.length, reply.results, storedEarlier);
      }
      if (status === 401)
        throw new ImportAborted(`ingest refused the API key (401): pass --api-key or set IMPORT_API_KEY`);
      if (status === 413)
        throw new ImportAborted(`the batch is larger than ingest accepts (413): lower --batch-size`);
      if (typeof status === 'number' && status !== 503 && status !== 429 && !(status >= 500)) {
        throw new ImportAborted(`ingest answered ${status}: ${problemText(reply)}`);
      }
      for (const result of reply?.results ?? [])
        if (result.status === 'accepted') storedEarlier.add(result.index);
      const backoff = Math.min(this.options.retryMaxMs, this.options.retryMinMs * 2 ** (attempt - 1));
      const waitMs = Math.max(retryAfterMs ?? 0, backoff);
      if (Date.now() + waitMs - started > this.options.retryForMs) {
        throw new ImportAborted(
          `ingest at ${this.options.url} stayed unavailable for ${Math.round((Date.now() - started) / 1000)} s (last: ${status}${reply ? `, ${problemText(reply)}` : ''})`,
        );
      }
      this.options.onRetry?.({ status, waitMs, attempt });
      try {
        await sleep(waitMs, undefined, { signal: this.options.signal });
      } catch {
        throw new ImportAborted('interrupted');
      }
    }
  }
}

function outcomes(
  count: number,
  results: NonNullable<BatchReply['results']>,
  storedEarlier: ReadonlySet<number>,
): SaleOutcome[] {
  const out: SaleOutcome[] = new Array(count);
  for (const result of results) {
    if (result.status === 'accepted' || result.status === 'duplicate') {
      out[result.index] = { status: storedEarlier.has(result.index) ? 'accepted' : result.status };
    } else {
      out[result.index] = {
        status: 'rejected',
        errors: result.errors ?? [
          { pointer: '', rule: result.status, message: `ingest answered ${result.status}` },
        ],
      };
    }
  }
  for (let i = 0; i < count; i++) {
    out[i] ??= {
      status: 'rejected',
      errors: [{ pointer: '', rule: 'no-result', message: 'ingest returned no result for this sale' }],
    };
  }
  return out;
}

function problemText(reply: BatchReply | undefined): string {
  if (reply === undefined) return 'no problem details';
  const errors = (reply.errors ?? []).map((e) => `${e.pointer || '/'} ${e.rule}: ${e.message}`).join('; ');
  return [reply.title, reply.detail, errors].filter((part) => part !== undefined && part !== '').join(': ');
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
