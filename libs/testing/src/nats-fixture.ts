import { randomBytes } from 'node:crypto';
import { type JetStreamManager, jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { deadLetterStream, decodeEnvelope, type Sale, type StreamNames } from '@tally/contracts';
import { applyDefinitions, loadDefinitions, streamNameVariables } from '@tally/nats';

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

  async dispose(): Promise<void> {
    for (const stream of [this.names.stream, deadLetterStream(this.names)]) {
      await this.jsm.streams.delete(stream).catch(() => undefined);
    }
    await this.nc.close();
  }
}
