import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settlerOf } from './inbound-message.js';
import { JetStreamBatchSource } from './jetstream-batch-source.js';
import { DEFAULT_NATS_URL } from './nats-connection.js';

// Against the real NATS server: a stream and a durable pull consumer of this test's own.
const id = randomBytes(4).toString('hex').toUpperCase();
const stream = `T_SETTLE_${id}`;
const subject = `tsettle${id}.x`;
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: process.env.NATS_URL ?? DEFAULT_NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [subject] });
  await jsm.consumers.add(stream, {
    durable_name: 'c',
    ack_policy: 'explicit' as never,
    ack_wait: nanos(1_000),
    max_deliver: 5,
  });
  const js = jetstream(nc);
  for (const n of [1, 2, 3, 4]) await js.publish(subject, `m${n}`);
});

afterAll(async () => {
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
  await nc.close();
});

describe('settlerOf against JetStream', () => {
  it('acks, naks and terminates pulled messages as their own ack methods would, holding only the reply subject', async () => {
    const js = jetstream(nc);
    const source = new JetStreamBatchSource(await js.consumers.get(stream, 'c'), {
      maxMessages: 4,
      maxBytes: 4 * 1024 * 1024,
      maxWaitMs: 1_000,
    });
    const first = await source.fetch();
    expect(first.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const [a, b, c, d] = first.map((m) => settlerOf(m, nc));
    d!.working();
    a!.ack();
    b!.nak();
    // Without a reason: nats-server before 2.10 does not read '+TERM <reason>' as a term.
    c!.term();
    d!.ack();
    await nc.flush();

    // Only the nak'd message comes back, and none is pending an ack once it is acked too.
    const again = await source.fetch();
    expect(again.map((m) => [m.seq, m.info.deliveryCount])).toEqual([[2, 2]]);
    settlerOf(again[0]!, nc).ack();
    await nc.flush();
    const info = await (await jetstreamManager(nc)).consumers.info(stream, 'c');
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(4);
  });
});
