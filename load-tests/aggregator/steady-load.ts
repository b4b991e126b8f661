import { batchReceipt } from '../ingest/http-case.js';
import { LatencyRecorder } from '../ingest/latency.js';

export interface SteadyLoad {
  readonly url: string;
  readonly headers: Record<string, string>;
  /** Sales per second to send. */
  readonly rate: number;
  /** Sales per request. */
  readonly batchSize: number;
  readonly durationS: number;
  /** A JSON array of `n` sales never sent before. */
  readonly body: (n: number) => string;
  /** Requests allowed to await their answer; past it, the schedule is missed (and counted). */
  readonly maxInFlight?: number;
}

export interface SteadyLoadResult {
  readonly durationS: number;
  readonly requests: number;
  readonly salesSent: number;
  readonly accepted: number;
  readonly status202: number;
  readonly non202: number;
  readonly errors: number;
  /** Requests not sent on time because `maxInFlight` were awaiting their answer. */
  readonly skipped: number;
  /** The furthest the sender fell behind its schedule, ms (its own event loop, or in-flight limit). */
  readonly maxBehindMs: number;
  readonly samples: string[];
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/**
 * Open-loop load: request k (k = 0, 1, …) is due at k × batchSize / rate seconds, whether or
 * not earlier ones were answered, so the offered rate does not bend to the server's speed
 * (unlike autocannon's closed loop). Ends after `durationS`, once every request is answered.
 */
export async function runSteadyLoad(
  load: SteadyLoad,
  stopped: () => boolean = () => false,
): Promise<SteadyLoadResult> {
  const intervalMs = (load.batchSize / load.rate) * 1000;
  const maxInFlight = load.maxInFlight ?? 512;
  const latency = new LatencyRecorder();
  const samples: string[] = [];
  const pending = new Set<Promise<void>>();
  let requests = 0;
  let salesSent = 0;
  let accepted = 0;
  let status202 = 0;
  let non202 = 0;
  let errors = 0;
  let skipped = 0;
  let maxBehindMs = 0;

  const send = (): void => {
    const body = load.body(load.batchSize);
    const sent = performance.now();
    requests++;
    salesSent += load.batchSize;
    const request = fetch(`${load.url}/v1/sales/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...load.headers },
      body,
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (response) => {
        const text = await response.text();
        latency.add(performance.now() - sent);
        if (response.status !== 202) {
          non202++;
          if (samples.length < 5) samples.push(`HTTP ${response.status}: ${text.slice(0, 300)}`);
          return;
        }
        status202++;
        accepted += batchReceipt(text)?.accepted ?? 0;
      })
      .catch((error: Error) => {
        errors++;
        if (samples.length < 5) samples.push(`request error: ${error.message}`);
      })
      .finally(() => pending.delete(request));
    pending.add(request);
  };

  const started = performance.now();
  const endMs = load.durationS * 1000;
  let due = 0; // requests due so far
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= endMs || stopped()) break;
    const shouldHave = Math.floor(elapsed / intervalMs) + 1;
    // Request `due` was due at due × interval: how late this wake-up is.
    maxBehindMs = Math.max(maxBehindMs, elapsed - due * intervalMs);
    while (due < shouldHave) {
      due++;
      if (pending.size >= maxInFlight) skipped++;
      else send();
    }
    const wait = due * intervalMs - (performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
  const durationS = (performance.now() - started) / 1000;
  await Promise.all([...pending]);
  const { p50, p99 } = latency.percentiles();
  return {
    durationS,
    requests,
    salesSent,
    accepted,
    status202,
    non202,
    errors,
    skipped,
    maxBehindMs: Math.round(maxBehindMs),
    samples,
    p50Ms: p50,
    p99Ms: p99,
  };
}
