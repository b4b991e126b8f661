import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  deadLetterStream,
  deadLetterSubjects,
  defaultStreamNames,
  type StreamNames,
  salesSubjects,
} from '@tally/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { findDefinitionsDir, loadDefinitions, streamNameVariables } from './definitions.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const SECOND = 1e9;
const DAY = 86_400 * SECOND;

describe('the repository definitions (nats/definitions)', () => {
  it('use by default the names @tally/contracts gives the apps', async () => {
    const { streams, consumers } = await loadDefinitions({ env: {} });
    const names = defaultStreamNames;
    const sales = streams.find((s) => s.config.name === names.stream);
    const dlq = streams.find((s) => s.config.name === deadLetterStream(names));
    expect(sales?.config.subjects).toEqual([salesSubjects(names)]);
    expect(dlq?.config.subjects).toEqual([deadLetterSubjects(names)]);
    expect(consumers.map((c) => [c.stream, c.config.filter_subject])).toEqual(
      consumers.map(() => [names.stream, salesSubjects(names)]),
    );
  });

  it('follow other names given as overrides, so tests and environments can share a server', async () => {
    const names: StreamNames = { stream: 'T_abc', subjectPrefix: 'tabc' };
    const { streams, consumers } = await loadDefinitions({
      env: { TALLY_STREAM: 'IGNORED' },
      overrides: streamNameVariables(names),
    });
    expect(streams.map((s) => [s.config.name, s.config.subjects])).toEqual(
      expect.arrayContaining([
        [names.stream, [salesSubjects(names)]],
        [deadLetterStream(names), [deadLetterSubjects(names)]],
      ]),
    );
    expect(new Set(consumers.map((c) => c.stream))).toEqual(new Set([names.stream]));
  });

  it('define a sales stream that refuses new sales when full, with explicit limits in nanoseconds', async () => {
    const { streams } = await loadDefinitions({ env: {} });
    const sales = streams.find((s) => s.config.name === 'SALES')!;
    expect(sales.config).toMatchObject({
      storage: 'file',
      retention: 'limits',
      discard: 'new',
      max_age: 7 * DAY,
      max_bytes: 10 * GiB,
      max_msg_size: MiB,
      max_msgs: -1,
      duplicate_window: 120 * SECOND,
      num_replicas: 1,
      allow_rollup_hdrs: false,
      deny_delete: true,
      deny_purge: false,
    });
    expect(sales.config.description).toBeTruthy();
  });

  it('define a dead-letter stream that keeps 30 days and drops the oldest when full', async () => {
    const { streams } = await loadDefinitions({ env: {} });
    const dlq = streams.find((s) => s.config.name === 'SALES_DLQ')!;
    expect(dlq.config).toMatchObject({ storage: 'file', discard: 'old', max_age: 30 * DAY, max_bytes: GiB });
  });

  it('read the duplicate window from TALLY_DUPLICATE_WINDOW', async () => {
    const { streams } = await loadDefinitions({ env: { TALLY_DUPLICATE_WINDOW: '30s' } });
    expect(streams.find((s) => s.config.name === 'SALES')?.config.duplicate_window).toBe(30 * SECOND);
  });

  it('define the durable pull consumers of the later stages, all alike', async () => {
    const { consumers } = await loadDefinitions({ env: {} });
    expect(consumers.map((c) => c.config.durable_name).sort()).toEqual([
      'aggregator',
      'writer-postgres',
      'writer-spanner',
    ]);
    for (const { config } of consumers) {
      expect(config).toMatchObject({
        ack_policy: 'explicit',
        deliver_policy: 'all',
        ack_wait: 30 * SECOND,
        max_deliver: 10,
        max_ack_pending: 20_000,
        max_waiting: 512,
      });
      expect(config.deliver_subject).toBeUndefined();
      expect(config.backoff?.[0]).toBe(config.ack_wait);
      expect(config.backoff!.length).toBeLessThan(config.max_deliver!);
      expect(config.description).toBeTruthy();
    }
  });

  it('are found from a folder below the repository root', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    expect(findDefinitionsDir(here)).toBe(path.resolve(here, '../../../nats/definitions'));
  });
});

describe('loadDefinitions refuses a broken definition, naming the file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function folder(files: Record<string, unknown>): string {
    dir = mkdtempSync(path.join(tmpdir(), 'tally-nats-defs-'));
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
      writeFileSync(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
    }
    return dir;
  }
  const stream = { name: 'S', subjects: ['s.>'] };
  const consumer = (config: Record<string, unknown>, on = 'S') => ({
    stream: on,
    config: { durable_name: 'c', ack_policy: 'explicit', ...config },
  });

  it('with a misspelt field', async () => {
    const d = folder({ 'streams/s.stream.json': { ...stream, max_agee: '1d' } });
    await expect(loadDefinitions({ dir: d, env: {} })).rejects.toThrow(
      'streams/s.stream.json: unknown stream field(s) max_agee',
    );
  });

  it('with an unreadable duration', async () => {
    const d = folder({ 'streams/s.stream.json': { ...stream, max_age: '7 days' } });
    await expect(loadDefinitions({ dir: d, env: {} })).rejects.toThrow(
      /streams\/s\.stream\.json: "max_age": invalid duration "7 days"/,
    );
  });

  it('with invalid JSON', async () => {
    const d = folder({ 'streams/s.stream.json': '{"name": "S",' });
    await expect(loadDefinitions({ dir: d, env: {} })).rejects.toThrow(/^streams\/s\.stream\.json: /);
  });

  it('with a stream name that is not a valid name once expanded', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a definition placeholder, not a template.
    const d = folder({ 'streams/s.stream.json': { ...stream, name: '${TALLY_STREAM:-S}' } });
    await expect(loadDefinitions({ dir: d, env: { TALLY_STREAM: 'a.b' } })).rejects.toThrow(
      /streams\/s\.stream\.json: "name" must be a non-empty name without dots/,
    );
  });

  it('with a consumer on a stream that is not defined', async () => {
    const d = folder({ 'streams/s.stream.json': stream, 'consumers/c.consumer.json': consumer({}, 'OTHER') });
    await expect(loadDefinitions({ dir: d, env: {} })).rejects.toThrow(
      'consumers/c.consumer.json: stream OTHER is not defined in streams/ (defined: S)',
    );
  });

  it('with an ack_wait the server would silently replace by backoff[0]', async () => {
    const d = folder({
      'streams/s.stream.json': stream,
      'consumers/c.consumer.json': consumer({ ack_wait: '30s', backoff: ['1s', '1m'] }),
    });
    await expect(loadDefinitions({ dir: d, env: {} })).rejects.toThrow(
      /"ack_wait" must equal the first "backoff"/,
    );
  });

  it('with the same stream defined twice', async () => {
    const d = folder({ 'streams/a.stream.json': stream, 'streams/b.stream.json': stream });
    await expect(loadDefinitions({ dir: d, env: {} })).rejects.toThrow(
      'streams/b.stream.json: stream S is already defined in streams/a.stream.json',
    );
  });

  it('with a file whose name does not say what it holds', async () => {
    const d = folder({ 'streams/s.json': stream });
    await expect(loadDefinitions({ dir: d, env: {} })).rejects.toThrow(
      /streams\/s\.json: .*<name>\.stream\.json/,
    );
  });

  it('with unexpected top-level fields in a consumer file', async () => {
    const d = folder({
      'streams/s.stream.json': stream,
      'consumers/c.consumer.json': { ...consumer({}), x: 1 },
    });
    await expect(loadDefinitions({ dir: d, env: {} })).rejects.toThrow(/unknown top-level field\(s\) x/);
  });
});
