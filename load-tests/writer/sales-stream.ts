import { createHash, randomBytes } from 'node:crypto';
import {
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  deadLetterStream,
  encodeEnvelope,
  type Sale,
  type StreamedSale,
  type StreamNames,
  salesSubject,
} from '@tally/contracts';
import {
  applyDefinitions,
  connectNats,
  loadDefinitions,
  type NatsDefinitions,
  salesMessageHeaders,
  streamNameVariables,
} from '@tally/nats';
import { ENVELOPE_MAX_BYTES, ENVELOPE_MAX_SALES, type Packing } from './options.js';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/** The writer's durable consumer, as named in nats/definitions. */
export const WRITER_CONSUMER = 'writer-postgres';

/** One message to publish: an envelope of one branch's sales, with ingest's msg id and headers. */
interface Outbound {
  readonly subject: string;
  readonly msgId: string;
  readonly requestId: string;
  readonly sales: readonly Sale[];
  readonly payload: Uint8Array;
}

export interface Preloaded {
  /** Every sale with the stream sequence and request id it was stored with, in stream order. */
  readonly streamed: StreamedSale[];
  readonly messages: number;
  readonly payloadBytes: number;
  readonly seconds: number;
  readonly lastSeq: number;
}

/**
 * A sales stream of the benchmark's own, made from the real `nats/definitions` (the stream, its
 * dead-letter stream and the durable consumers) under unique names, like the tests' NatsFixture
 * but without depending on @tally/testing.
 */
export class SalesStream {
  private constructor(
    readonly names: StreamNames,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    private readonly definitions: NatsDefinitions,
  ) {}

  /**
   * `tag` marks the names (`BENCH_<tag>_<id>`, subjects `bench<tag><id>.>`), `client` names the
   * NATS connection: defaults are the writer benchmark's.
   */
  static async create(options: { tag?: string; client?: string } = {}): Promise<SalesStream> {
    const id = randomBytes(4).toString('hex');
    const tag = options.tag ?? 'W';
    const names: StreamNames = {
      stream: `BENCH_${tag.toUpperCase()}_${id.toUpperCase()}`,
      subjectPrefix: `bench${tag.toLowerCase()}${id}`,
    };
    // noAsyncTraces as in ingest: the preload publishes fast and is not what is measured.
    const nc = await connectNats({
      url: NATS_URL,
      name: options.client ?? 'bench-writer',
      noAsyncTraces: true,
      reconnect: false,
    });
    try {
      const jsm = await jetstreamManager(nc);
      const definitions = await loadDefinitions({ overrides: streamNameVariables(names) });
      await applyDefinitions(jsm, definitions);
      return new SalesStream(names, nc, jsm, definitions);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /**
   * Publishes the sales as ingest would: `single`, one message per sale with Nats-Msg-Id =
   * saleId (POST /v1/sales); `envelope`, each branch's sales packed in order into envelopes of
   * up to 500 sales / 512 KiB with a digest of their ids as msg id (POST /v1/sales/batch). Same
   * headers and expected stream as ingest; `inFlight` publishes await their PubAck at a time.
   */
  async preload(sales: readonly Sale[], packing: Packing, inFlight = 256): Promise<Preloaded> {
    const js = jetstream(this.nc);
    const outbound = packing === 'single' ? this.singles(sales) : this.envelopes(sales);
    const placed: Array<{ seq: number; message: Outbound }> = [];
    let payloadBytes = 0;
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < outbound.length) {
        const message = outbound[next++]!;
        const ack = await this.publish(js, message);
        if (ack.duplicate) throw new Error(`preload: message ${message.msgId} was a duplicate`);
        placed.push({ seq: ack.seq, message });
        payloadBytes += message.payload.length;
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, outbound.length) }, worker));
    const seconds = (performance.now() - started) / 1000;
    placed.sort((a, b) => a.seq - b.seq);
    const streamed: StreamedSale[] = [];
    for (const { seq, message } of placed) {
      for (const sale of message.sales) streamed.push({ sale, streamSeq: seq, requestId: message.requestId });
    }
    return { streamed, messages: placed.length, payloadBytes, seconds, lastSeq: placed.at(-1)?.seq ?? 0 };
  }

  private async publish(js: JetStreamClient, message: Outbound) {
    return js.publish(message.subject, message.payload, {
      msgID: message.msgId,
      headers: salesMessageHeaders(message.requestId, message.sales.length),
      timeout: 10_000,
      expect: { streamName: this.names.stream },
    });
  }

  private singles(sales: readonly Sale[]): Outbound[] {
    return sales.map((sale, i) => ({
      subject: salesSubject(this.names, sale.branchId),
      msgId: sale.saleId,
      requestId: `bench-req-${i.toString(36)}`,
      sales: [sale],
      payload: encodeEnvelope([sale]),
    }));
  }

  private envelopes(sales: readonly Sale[]): Outbound[] {
    const out: Outbound[] = [];
    const open = new Map<string, { sales: Sale[]; bytes: number }>();
    const flush = (branchId: string) => {
      const group = open.get(branchId);
      if (group === undefined || group.sales.length === 0) return;
      open.delete(branchId);
      const subject = salesSubject(this.names, branchId);
      const digest = createHash('sha256')
        .update(subject)
        .update('\n')
        .update(group.sales.map((s) => s.saleId).join('\n'))
        .digest('base64url');
      out.push({
        subject,
        msgId: `batch/${digest}`,
        requestId: `bench-req-${out.length.toString(36)}`,
        sales: group.sales,
        payload: encodeEnvelope(group.sales),
      });
    };
    for (const sale of sales) {
      const size = Buffer.byteLength(JSON.stringify(sale)) + 1;
      const group = open.get(sale.branchId);
      if (
        group !== undefined &&
        (group.sales.length >= ENVELOPE_MAX_SALES || group.bytes + size > ENVELOPE_MAX_BYTES)
      ) {
        flush(sale.branchId);
      }
      const current = open.get(sale.branchId) ?? { sales: [], bytes: 0 };
      current.sales.push(sale);
      current.bytes += size;
      open.set(sale.branchId, current);
    }
    for (const branchId of [...open.keys()]) flush(branchId);
    return out;
  }

  /** A durable consumer's state: by default the Postgres writer's. */
  async consumerInfo(consumer: string = WRITER_CONSUMER): Promise<ConsumerInfo> {
    return this.jsm.consumers.info(this.names.stream, consumer);
  }

  /** Messages in the dead-letter stream (what the writer refused). */
  async deadLetters(): Promise<number> {
    return (await this.jsm.streams.info(deadLetterStream(this.names))).state.messages;
  }

  /** A writer's consumer (by default the Postgres one) made anew from its definition: everything undelivered again, for a repeat. */
  async resetWriterConsumer(consumer: string = WRITER_CONSUMER): Promise<void> {
    await this.jsm.consumers.delete(this.names.stream, consumer);
    await applyDefinitions(this.jsm, this.definitions);
    const info = await this.consumerInfo(consumer);
    if (info.num_pending === 0) throw new Error(`consumer ${consumer} has nothing pending after a reset`);
  }

  async dispose(keep: boolean): Promise<void> {
    if (!keep) {
      for (const stream of [this.names.stream, deadLetterStream(this.names)]) {
        await this.jsm.streams.delete(stream).catch(() => undefined);
      }
    }
    await this.nc.close();
  }
}
