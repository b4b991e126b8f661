import { randomBytes } from 'node:crypto';
import { deadLetterStream, type StreamNames, salesSubject } from '@tally/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyDefinitionsError, applyDefinitions } from './apply-definitions.js';
import { loadDefinitions, type NatsDefinitions, streamNameVariables } from './definitions.js';
import { DEFAULT_NATS_URL, NatsClient } from './nats-connection.js';
import { assertStreamReady, isStreamReady } from './stream-readiness.js';

// Against the real NATS server; isolated by a stream name and subject prefix of its own.
const id = randomBytes(4).toString('hex');
const names: StreamNames = { stream: `T_${id}`, subjectPrefix: `t${id}` };
const dlq = deadLetterStream(names);
const GiB = 1024 ** 3;

let client: NatsClient;
let definitions: NatsDefinitions;

beforeAll(async () => {
  client = await NatsClient.connect({
    url: process.env.NATS_URL || DEFAULT_NATS_URL,
    name: 'tally-nats-int-test',
    reconnect: false,
  });
  // env {}: the defaults of the files, whatever TALLY_* the shell running the tests has.
  definitions = await loadDefinitions({ env: {}, overrides: streamNameVariables(names) });
});

afterAll(async () => {
  if (!client) return;
  for (const stream of [names.stream, dlq]) {
    await client.jsm.streams.delete(stream).catch(() => undefined);
  }
  await client.close();
});

function summary(changes: Awaited<ReturnType<typeof applyDefinitions>>) {
  return changes.map((c) => `${c.kind} ${c.stream ? `${c.stream}/` : ''}${c.name} ${c.action}`).sort();
}

function everything(action: string): string[] {
  return [
    `stream ${names.stream} ${action}`,
    `stream ${dlq} ${action}`,
    `consumer ${names.stream}/writer-postgres ${action}`,
    `consumer ${names.stream}/writer-spanner ${action}`,
    `consumer ${names.stream}/aggregator ${action}`,
  ].sort();
}

/** The same definitions with one stream's or consumer's config patched. */
function patched(
  which: { stream: string } | { consumer: string },
  patch: Record<string, unknown>,
): NatsDefinitions {
  return {
    streams: definitions.streams.map((s) =>
      'stream' in which && s.config.name === which.stream ? { ...s, config: { ...s.config, ...patch } } : s,
    ),
    consumers: definitions.consumers.map((c) =>
      'consumer' in which && c.config.durable_name === which.consumer
        ? { ...c, config: { ...c.config, ...patch } }
        : c,
    ),
  };
}

describe('applyDefinitions against a real NATS server', () => {
  it('a dry run on an empty server reports everything to create and creates nothing', async () => {
    const changes = await applyDefinitions(client.jsm, definitions, { dryRun: true });
    expect(summary(changes)).toEqual(everything('created'));
    expect(await isStreamReady(client.jsm, names.stream)).toBe(false);
  });

  it('the first apply creates both streams and the three consumers as defined', async () => {
    const changes = await applyDefinitions(client.jsm, definitions);
    expect(summary(changes)).toEqual(everything('created'));

    const sales = await client.jsm.streams.info(names.stream);
    expect(sales.config).toMatchObject({
      subjects: [`${names.subjectPrefix}.>`],
      discard: 'new',
      max_age: 7 * 86_400e9,
      duplicate_window: 120e9,
      deny_delete: true,
    });
    const consumer = await client.jsm.consumers.info(names.stream, 'writer-postgres');
    expect(consumer.config).toMatchObject({
      ack_policy: 'explicit',
      ack_wait: 30e9,
      max_ack_pending: 20_000,
    });
  });

  it('a second apply reports everything unchanged', async () => {
    expect(summary(await applyDefinitions(client.jsm, definitions))).toEqual(everything('unchanged'));
  });

  it('changing a stream limit updates that stream only, naming the field; a dry run shows it first', async () => {
    const smaller = patched({ stream: names.stream }, { max_bytes: 5 * GiB });

    const preview = await applyDefinitions(client.jsm, smaller, { dryRun: true });
    expect(preview.find((c) => c.name === names.stream)).toEqual({
      kind: 'stream',
      name: names.stream,
      action: 'updated',
      diff: [`max_bytes: ${10 * GiB} -> ${5 * GiB}`],
    });
    expect((await client.jsm.streams.info(names.stream)).config.max_bytes).toBe(10 * GiB);

    const changes = await applyDefinitions(client.jsm, smaller);
    expect(changes.filter((c) => c.action !== 'unchanged')).toEqual([
      preview.find((c) => c.name === names.stream),
    ]);
    expect((await client.jsm.streams.info(names.stream)).config.max_bytes).toBe(5 * GiB);

    // Back to the files' value.
    const back = await applyDefinitions(client.jsm, definitions);
    expect(back.find((c) => c.name === names.stream)?.diff).toEqual([`max_bytes: ${5 * GiB} -> ${10 * GiB}`]);
  });

  it('changing a consumer limit updates that consumer, naming the field', async () => {
    const changes = await applyDefinitions(
      client.jsm,
      patched({ consumer: 'aggregator' }, { max_ack_pending: 100 }),
    );
    expect(changes.filter((c) => c.action !== 'unchanged')).toEqual([
      {
        kind: 'consumer',
        name: 'aggregator',
        stream: names.stream,
        action: 'updated',
        diff: ['max_ack_pending: 20000 -> 100'],
      },
    ]);
    expect((await client.jsm.consumers.info(names.stream, 'aggregator')).config.max_ack_pending).toBe(100);
    await applyDefinitions(client.jsm, definitions);
  });

  it('a field the server cannot update fails the run naming it, and nothing is half-applied', async () => {
    const broken = patched({ stream: names.stream }, { storage: 'memory', max_bytes: 5 * GiB });
    const attempt = applyDefinitions(client.jsm, broken);
    await expect(attempt).rejects.toBeInstanceOf(ApplyDefinitionsError);
    await expect(attempt).rejects.toThrow(
      `stream ${names.stream}: storage cannot be changed on an existing stream`,
    );
    expect((await client.jsm.streams.info(names.stream)).config).toMatchObject({
      storage: 'file',
      max_bytes: 10 * GiB,
    });

    const consumer = patched({ consumer: 'writer-spanner' }, { ack_policy: 'none' });
    await expect(applyDefinitions(client.jsm, consumer, { dryRun: true })).rejects.toThrow(
      `consumer ${names.stream}/writer-spanner: ack_policy cannot be changed on an existing consumer`,
    );
  });
});

describe('stream readiness', () => {
  it('passes for an applied stream and its consumers', async () => {
    await expect(
      assertStreamReady(client.jsm, names.stream, { consumers: ['writer-postgres', 'aggregator'] }),
    ).resolves.toBeUndefined();
    expect(await isStreamReady(client.jsm, names.stream)).toBe(true);
  });

  it('a missing stream throws an error saying to run npm run nats:apply', async () => {
    const missing = `${names.stream}_MISSING`;
    await expect(assertStreamReady(client.jsm, missing)).rejects.toThrow(
      new RegExp(`stream ${missing} is missing: run \`npm run nats:apply\``),
    );
    expect(await isStreamReady(client.jsm, missing)).toBe(false);
  });

  it('a missing consumer throws the same advice', async () => {
    await expect(assertStreamReady(client.jsm, names.stream, { consumers: ['nobody'] })).rejects.toThrow(
      /consumer .*\/nobody is missing: run `npm run nats:apply`/,
    );
  });
});

describe('the applied sales stream', () => {
  it('drops a re-published sale with the same Nats-Msg-Id within the duplicate window', async () => {
    const subject = salesSubject(names, 'B1');
    const first = await client.js.publish(subject, '{"saleId":"s-1"}', { msgID: `${id}-s-1` });
    const second = await client.js.publish(subject, '{"saleId":"s-1"}', { msgID: `${id}-s-1` });
    expect(first.duplicate).toBe(false);
    expect(second).toMatchObject({ duplicate: true, seq: first.seq });
    expect((await client.jsm.streams.info(names.stream)).state.messages).toBe(1);
  });

  it('once full, refuses new sales and keeps the unconsumed ones (discard new)', async () => {
    await applyDefinitions(client.jsm, patched({ stream: names.stream }, { max_msgs: 2 }));
    const subject = salesSubject(names, 'B1');
    await client.js.publish(subject, '{"saleId":"s-2"}', { msgID: `${id}-s-2` });
    await expect(client.js.publish(subject, '{"saleId":"s-3"}', { msgID: `${id}-s-3` })).rejects.toThrow(
      /maximum messages exceeded/,
    );
    const info = await client.jsm.streams.info(names.stream);
    expect(info.state).toMatchObject({ messages: 2, first_seq: 1 });
  });
});
