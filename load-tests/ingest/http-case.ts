import autocannon from 'autocannon';
import { LatencyRecorder } from './latency.js';

/** What a 202 body says was done with the request's sales. */
export interface Receipt {
  accepted: number;
  duplicate: number;
  rejected: number;
  unavailable: number;
}

export interface HttpLoad {
  readonly url: string;
  readonly path: string;
  readonly contentType: string;
  readonly headers?: Record<string, string>;
  readonly connections: number;
  readonly durationS: number;
  /** A fresh body with sales never sent before; called once per request. */
  readonly body: () => string;
  /** Reads a 202 body; null when it cannot be read as a receipt. */
  readonly receipt: (body: string) => Receipt | null;
}

export interface HttpLoadResult {
  readonly durationS: number;
  /** Responses received (any status). */
  readonly responses: number;
  readonly status202: number;
  readonly non2xx: number;
  /** Connection errors and timeouts, as autocannon counts them. */
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  /** Sums over every 202 receipt. */
  readonly receipts: Receipt;
  /** 202 responses whose body was not a receipt. */
  readonly unreadable202: number;
  /** A few responses other than 202 and a few connection errors, to show what went wrong. */
  readonly samples: string[];
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

const MAX_SAMPLES = 5;

/**
 * One closed-loop autocannon run: `connections` keep-alive connections, each sending its next
 * request as soon as the previous one is answered, for `durationS` seconds. Latency is measured
 * per response (every status) by autocannon, from writing the request to its last byte.
 */
export async function runHttpLoad(
  load: HttpLoad,
  onStart: (stop: () => void) => void = () => undefined,
): Promise<HttpLoadResult> {
  const latency = new LatencyRecorder();
  const receipts: Receipt = { accepted: 0, duplicate: 0, rejected: 0, unavailable: 0 };
  const samples: string[] = [];
  let status202 = 0;
  let unreadable202 = 0;

  const instance = autocannon({
    url: load.url,
    connections: load.connections,
    duration: load.durationS,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: load.path,
        headers: { 'content-type': load.contentType, ...load.headers },
        setupRequest: (request) => {
          request.body = load.body();
          return request;
        },
        onResponse: (status, body) => {
          if (status !== 202) {
            if (samples.length < MAX_SAMPLES) samples.push(`HTTP ${status}: ${body.slice(0, 500)}`);
            return;
          }
          status202++;
          const receipt = load.receipt(body);
          if (receipt === null) {
            unreadable202++;
            if (samples.length < MAX_SAMPLES) samples.push(`HTTP 202, not a receipt: ${body.slice(0, 500)}`);
            return;
          }
          receipts.accepted += receipt.accepted;
          receipts.duplicate += receipt.duplicate;
          receipts.rejected += receipt.rejected;
          receipts.unavailable += receipt.unavailable;
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latency.add(ms));
  instance.on('reqError', (error: Error) => {
    if (samples.length < MAX_SAMPLES) samples.push(`connection error: ${error.message}`);
  });
  onStart(() => instance.stop());
  const result = await instance;

  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count;
  const { p50, p99 } = latency.percentiles();
  return {
    durationS: result.duration,
    responses: result.requests.total,
    status202,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    receipts,
    unreadable202,
    samples,
    p50Ms: p50,
    p99Ms: p99,
  };
}

/** POST /v1/sales: `{ saleId, status: "accepted" | "duplicate", seq }`. */
export function singleReceipt(body: string): Receipt | null {
  if (body.includes('"status":"accepted"')) return { accepted: 1, duplicate: 0, rejected: 0, unavailable: 0 };
  if (body.includes('"status":"duplicate"'))
    return { accepted: 0, duplicate: 1, rejected: 0, unavailable: 0 };
  return null;
}

const BATCH_HEAD = /^\{"accepted":(\d+),"duplicate":(\d+),"rejected":(\d+),"unavailable":(\d+)/;

/** POST /v1/sales/batch: `{ accepted, duplicate, rejected, unavailable, results }`; reads only the head. */
export function batchReceipt(body: string): Receipt | null {
  const head = BATCH_HEAD.exec(body);
  if (head !== null) {
    return { accepted: +head[1]!, duplicate: +head[2]!, rejected: +head[3]!, unavailable: +head[4]! };
  }
  try {
    const parsed = JSON.parse(body) as Partial<Receipt>;
    if (typeof parsed.accepted !== 'number') return null;
    return {
      accepted: parsed.accepted,
      duplicate: parsed.duplicate ?? 0,
      rejected: parsed.rejected ?? 0,
      unavailable: parsed.unavailable ?? 0,
    };
  } catch {
    return null;
  }
}
