import { DeliverPolicy, type JetStreamManager, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Headers } from '@tally/contracts';

export interface StreamPosition {
  readonly messages: number;
  readonly lastSeq: number;
}

/**
 * The stream's position once nothing has been appended for `quietMs`: requests that were in flight
 * when a load run stopped (autocannon closes its sockets, but the server still finishes them)
 * land before the position is taken, so they are not counted in the next run.
 */
export async function settledPosition(
  jsm: JetStreamManager,
  stream: string,
  quietMs = 1_000,
  maxMs = 20_000,
): Promise<StreamPosition> {
  const deadline = Date.now() + maxMs;
  let last = await position(jsm, stream);
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = await position(jsm, stream);
    if (now.lastSeq !== last.lastSeq) {
      last = now;
      quietSince = Date.now();
    }
  }
  return last;
}

async function position(jsm: JetStreamManager, stream: string): Promise<StreamPosition> {
  const { state } = await jsm.streams.info(stream);
  return { messages: state.messages, lastSeq: state.last_seq };
}

export interface SaleCount {
  readonly messages: number;
  readonly sales: number;
  /** Messages without a readable Tally-Sale-Count header. */
  readonly withoutCount: number;
}

/**
 * Reads the headers (not the payloads) of the messages with sequence `fromSeq..toSeq` through an
 * ordered, headers-only consumer and adds up their Tally-Sale-Count.
 */
export async function countSales(
  nc: NatsConnection,
  stream: string,
  fromSeq: number,
  toSeq: number,
): Promise<SaleCount> {
  if (toSeq < fromSeq) return { messages: 0, sales: 0, withoutCount: 0 };
  const consumer = await jetstream(nc).consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSeq,
    headers_only: true,
  });
  const iterator = await consumer.consume({ max_messages: 10_000 });
  let messages = 0;
  let sales = 0;
  let withoutCount = 0;
  const watchdog = setTimeout(() => void iterator.close(), 120_000);
  try {
    for await (const message of iterator) {
      messages++;
      const count = Number(message.headers?.get(Headers.saleCount));
      if (Number.isInteger(count) && count > 0) sales += count;
      else withoutCount++;
      if (message.seq >= toSeq) break;
    }
  } finally {
    clearTimeout(watchdog);
    await iterator.close();
  }
  return { messages, sales, withoutCount };
}
