import type { SaleInput } from '@tally/contracts';
import type { SaleBatchSender, SaleOutcome } from './ingest.client.js';

/** Where the query API is, and what to do when it cannot answer. */
export interface StoredSalesFilterOptions {
  /** Base URL of the query API, e.g. http://127.0.0.1:3003. */
  readonly url: string;
  readonly apiKey?: string;
  readonly requestTimeoutMs: number;
  readonly onUnavailable?: (reason: string) => void;
}

/**
 * Before each batch goes to ingest, asks the query API (`POST /v1/sales/stored`) which of its
 * sale ids Postgres already holds, and sends only the others; the stored ones count as
 * "already stored".
 *
 * Why: ingest recognises a repeated sale only within JetStream's duplicate window (2 min). A file
 * imported again later would otherwise reach the stream again: the stores keep each sale once
 * (keyed by sale id), but the aggregator, which deduplicates by stream position, would count
 * the repeated sales again. With this filter a re-import sends nothing Postgres holds.
 *
 * The check is as fresh as the Postgres writer: a sale sent moments ago and not yet stored is
 * sent again, and then caught by the duplicate window as before. If the query API cannot answer,
 * the batch is sent whole (the stores stay exact) and `onUnavailable` says so.
 */
export class StoredSalesFilter implements SaleBatchSender {
  private readonly endpoint: string;

  constructor(
    private readonly inner: SaleBatchSender,
    private readonly options: StoredSalesFilterOptions,
  ) {
    this.endpoint = new URL('/v1/sales/stored', options.url).toString();
  }

  async send(sales: readonly SaleInput[], requestId: string): Promise<SaleOutcome[]> {
    const stored = await this.storedIds(sales.map((s) => s.saleId));
    if (stored.size === 0) return this.inner.send(sales, requestId);
    const fresh = sales.filter((s) => !stored.has(s.saleId));
    const sent = fresh.length > 0 ? await this.inner.send(fresh, requestId) : [];
    let next = 0;
    return sales.map((s) => (stored.has(s.saleId) ? { status: 'duplicate' } : sent[next++]!));
  }

  private async storedIds(saleIds: readonly string[]): Promise<Set<string>> {
    try {
      const response = await fetch(this.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.options.apiKey !== undefined && { authorization: `Bearer ${this.options.apiKey}` }),
        },
        body: JSON.stringify({ saleIds }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      if (response.status !== 200) {
        this.options.onUnavailable?.(`query API answered ${response.status}`);
        return new Set();
      }
      const reply = (await response.json()) as { stored?: unknown };
      return new Set(Array.isArray(reply.stored) ? reply.stored.filter((id) => typeof id === 'string') : []);
    } catch (error) {
      this.options.onUnavailable?.(`query API unreachable (${(error as Error).message})`);
      return new Set();
    }
  }
}
