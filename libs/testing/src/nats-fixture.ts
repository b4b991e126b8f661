import { randomBytes } from 'node:crypto';
import {
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import {
  deadLetterStream,
  decodeEnvelope,
  encodeEnvelope,
  type Sale,
  type StreamNames,
  salesSubject,
} from '@tally/contracts';
import { applyDefinitions, loadDefinitions, salesMessageHeaders, streamNameVariables } from '@tally/nats';

export const TEST_NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * A sales stream of its own on the real NATS server, made from the real `nats/` definitions
 * under unique names, so integration tests never see each other's messages.
 */
export class NatsFixture {
  private constructor(
    readonly names: StreamNames,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
  ) {}

  static async create(options: { apply?: boolean } = {}): Promise<NatsFixture> {
    const id = randomBytes(4).toString('hex');
    const names: StreamNames = { stream: `T_${id.toUpperCase()}`, subjectPrefix: `t${id}` };
    const nc = await connect({ servers: TEST_NATS_URL });
    const jsm = await jetstreamManager(nc);
    if (options.apply !== false) {
      await applyDefinitions(jsm, await loadDefinitions({ overrides: streamNameVariables(names) }));
    }
    return new NatsFixture(names, nc, jsm);
  }

  js(): JetStreamClient {
    return jetstream(this.nc);
  }

  async messageCount(): Promise<number> {
    return (await this.jsm.streams.info(this.names.stream)).state.messages;
  }

  async message(seq: number): Promise<StoredMsg> {
    const message = await this.jsm.streams.getMessage(this.names.stream, { seq });
    if (message === null) throw new Error(`no message ${seq} in ${this.names.stream}`);
    return message;
  }

  /** Every sale in the stream, in stream order. */
  async sales(): Promise<Sale[]> {
    const { state } = await this.jsm.streams.info(this.names.stream);
    const sales: Sale[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      sales.push(...decodeEnvelope((await this.message(seq)).data));
    }
    return sales;
  }

  /**
   * Publishes sales straight to the stream (bypassing ingest), `perMessage` to an envelope,
   * without a Nats-Msg-Id: every call adds messages, as a resend after the duplicate window would.
   * Returns the stream sequences used.
   */
  async publishSales(
    sales: readonly Sale[],
    options: { perMessage?: number; requestId?: string } = {},
  ): Promise<number[]> {
    const js = this.js();
    const per = options.perMessage ?? 1;
    const seqs: number[] = [];
    for (let i = 0; i < sales.length; i += per) {
      const chunk = sales.slice(i, i + per);
      const ack = await js.publish(salesSubject(this.names, chunk[0]!.branchId), encodeEnvelope(chunk), {
        headers: salesMessageHeaders(options.requestId ?? `test-${i}`, chunk.length),
      });
      seqs.push(ack.seq);
    }
    return seqs;
  }

  /** Publishes raw bytes to a branch's sales subject (poison messages). */
  async publishRaw(branchId: string, data: Uint8Array | string): Promise<number> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return (await this.js().publish(salesSubject(this.names, branchId), bytes)).seq;
  }

  /**
   * A copy of one of the defined consumers under another name, with overrides in plain units
   * (ack wait in ms): e.g. a short ack_wait, so a test sees redeliveries after a crash in
   * seconds instead of the production 30 s.
   */
  async copyConsumer(
    from: string,
    name: string,
    overrides: { ackWaitMs?: number; maxDeliver?: number } = {},
  ): Promise<ConsumerInfo> {
    const { config } = await this.jsm.consumers.info(this.names.stream, from);
    const copy: Partial<ConsumerConfig> = { ...config, durable_name: name, name };
    if (overrides.ackWaitMs !== undefined) {
      copy.ack_wait = nanos(overrides.ackWaitMs);
      delete copy.backoff;
    }
    if (overrides.maxDeliver !== undefined) copy.max_deliver = overrides.maxDeliver;
    return this.jsm.consumers.add(this.names.stream, copy);
  }

  async consumerInfo(name: string): Promise<ConsumerInfo> {
    return this.jsm.consumers.info(this.names.stream, name);
  }

  /** Every message of the dead-letter stream, with its headers. */
  async deadLetters(): Promise<StoredMsg[]> {
    const stream = deadLetterStream(this.names);
    const { state } = await this.jsm.streams.info(stream);
    const out: StoredMsg[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const message = await this.jsm.streams.getMessage(stream, { seq });
      if (message) out.push(message);
    }
    return out;
  }

  async dispose(): Promise<void> {
    // The sales and dead-letter streams, and the KV and object-store streams named after them
    // (the aggregator's checkpoints).
    const mine: string[] = [];
    for await (const name of this.jsm.streams.names()) if (name.includes(this.names.stream)) mine.push(name);
    for (const stream of new Set([this.names.stream, deadLetterStream(this.names), ...mine])) {
      await this.jsm.streams.delete(stream).catch(() => undefined);
    }
    await this.nc.close();
  }
}
