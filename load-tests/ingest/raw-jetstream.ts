import { jetstream } from '@nats-io/jetstream';
import { encodeSerializedEnvelope, salesSubject } from '@tally/contracts';
import { connectNats, salesMessageHeaders } from '@tally/nats';
import { type NatsFixture, TEST_NATS_URL } from '@tally/testing';
import { LatencyRecorder } from './latency.js';
import type { SaleBodies } from './sale-bodies.js';

export interface RawPublishResult {
  readonly durationS: number;
  readonly acked: number;
  readonly duplicates: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/**
 * The floor under ingest's single-sale path, without HTTP: one JetStream message per sale,
 * exactly as ingest publishes it (the same envelope, headers, msgID = saleId and expected
 * stream), with at most `inFlight` publishes awaiting their PubAck. Stops issuing new publishes
 * after `durationS` and waits for the ones in flight, so every publish is counted.
 */
export async function runRawPublish(
  fixture: NatsFixture,
  bodies: SaleBodies,
  options: { durationS: number; inFlight: number },
  onStart: (stop: () => void) => void = () => undefined,
): Promise<RawPublishResult> {
  // Same client options as ingest (no per-publish async-trace Errors), so the ratio compares
  // like with like.
  const nc = await connectNats({ url: TEST_NATS_URL, name: 'bench-raw', noAsyncTraces: true });
  const js = jetstream(nc);
  const latency = new LatencyRecorder();
  let acked = 0;
  let duplicates = 0;
  let errors = 0;
  let firstError: string | undefined;
  let stopped = false;
  const timer = setTimeout(() => {
    stopped = true;
  }, options.durationS * 1000);
  onStart(() => {
    stopped = true;
  });

  const worker = async (w: number) => {
    while (!stopped) {
      const sale = bodies.sale();
      const payload = encodeSerializedEnvelope([sale.json]);
      const started = performance.now();
      try {
        const ack = await js.publish(salesSubject(fixture.names, sale.branchId), payload, {
          msgID: sale.saleId,
          headers: salesMessageHeaders(`raw-${w}`, 1),
          timeout: 5_000,
          expect: { streamName: fixture.names.stream },
        });
        latency.add(performance.now() - started);
        if (ack.duplicate) duplicates++;
        else acked++;
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: options.inFlight }, (_, w) => worker(w)));
  clearTimeout(timer);
  await nc.close();
  const { p50, p99 } = latency.percentiles();
  return {
    durationS: (performance.now() - started) / 1000,
    acked,
    duplicates,
    errors,
    firstError,
    p50Ms: p50,
    p99Ms: p99,
  };
}
