import type { SaleSubmission } from '@tally/contracts';

export type SubmitOutcome =
  /** Stored by this request (202 accepted). */
  | { readonly status: 'accepted'; readonly attempts: number }
  /** Stored before (202 duplicate: an earlier attempt got through though its answer was lost). */
  | { readonly status: 'duplicate'; readonly attempts: number }
  /** Refused for good (4xx): the problem's first error, and every rule the problem names. */
  | {
      readonly status: 'rejected';
      readonly attempts: number;
      readonly problem: string;
      /** Distinct rules of the problem's errors (`unknown-product`...), or `http-<status>` without any. */
      readonly rules: readonly string[];
    }
  /** Not acknowledged after every retry: it may or may not be stored. */
  | { readonly status: 'failed'; readonly attempts: number; readonly problem: string };

export interface IngestClientOptions {
  readonly baseUrl: string;
  /** The key of each branch: a till's key covers its own branch only. */
  readonly keyForBranch: (branchId: string) => string;
  /** Attempts per sale before giving up (default 8). */
  readonly maxAttempts?: number;
  readonly requestTimeoutMs?: number;
}

/**
 * A till's HTTP client for `POST /v1/sales`, as a well-behaved client writes one: the branch's
 * own API key, and on 503 (honouring Retry-After), a timeout or a lost connection it sends the
 * same sale again: the saleId is the idempotency key, so a resend is never stored twice (the
 * answer is then `duplicate`).
 */
export class IngestClient {
  constructor(private readonly options: IngestClientOptions) {}

  async submit(sale: SaleSubmission): Promise<SubmitOutcome> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    let problem = '';
    for (let attempt = 1; ; attempt++) {
      let retryAfterMs = Math.min(2_000, 100 * 2 ** (attempt - 1));
      try {
        const res = await fetch(`${this.options.baseUrl}/v1/sales`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${this.options.keyForBranch(sale.branchId)}`,
            'x-request-id': `${sale.saleId}.${attempt}`,
          },
          body: JSON.stringify(sale),
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
        });
        const body = (await res.json().catch(() => ({}))) as {
          status?: string;
          errors?: { pointer: string; rule: string; message: string }[];
          title?: string;
        };
        if (res.status === 202) {
          return { status: body.status === 'duplicate' ? 'duplicate' : 'accepted', attempts: attempt };
        }
        const first = body.errors?.[0];
        problem = `HTTP ${res.status}${first ? ` ${first.pointer} ${first.rule}: ${first.message}` : body.title ? ` ${body.title}` : ''}`;
        if (res.status !== 503 && res.status !== 429 && res.status < 500) {
          const rules = [...new Set((body.errors ?? []).map((e) => e.rule))];
          return {
            status: 'rejected',
            attempts: attempt,
            problem,
            rules: rules.length > 0 ? rules : [`http-${res.status}`],
          };
        }
        const retryAfter = Number(res.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000;
      } catch (error) {
        problem = (error as Error).message;
      }
      if (attempt >= maxAttempts) return { status: 'failed', attempts: attempt, problem };
      await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    }
  }
}
