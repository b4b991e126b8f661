import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConsumerConfig, StreamConfig } from '@nats-io/jetstream';
import { parseDuration } from '@tally/common';
import type { StreamNames } from '@tally/contracts';
import { expandPlaceholders, type Variables } from './placeholders.js';

/**
 * The versioned JetStream definitions under `nats/definitions/`:
 *   streams/<name>.stream.json      a StreamConfig exactly as the JetStream API takes it
 *   consumers/<name>.consumer.json  { "stream": "<stream name>", "config": ConsumerConfig }
 * Placeholders `${VAR:-default}` are expanded first; duration fields may be written "30s", "7d".
 */
export type StreamDefinitionConfig = Partial<StreamConfig> & { name: string };
export type ConsumerDefinitionConfig = Partial<ConsumerConfig> & { durable_name: string };

export interface StreamDefinition {
  readonly kind: 'stream';
  /** Path relative to the definitions folder, for messages. */
  readonly file: string;
  readonly config: StreamDefinitionConfig;
}

export interface ConsumerDefinition {
  readonly kind: 'consumer';
  readonly file: string;
  readonly stream: string;
  readonly config: ConsumerDefinitionConfig;
}

export interface NatsDefinitions {
  readonly streams: readonly StreamDefinition[];
  readonly consumers: readonly ConsumerDefinition[];
}

export interface LoadDefinitionsOptions {
  /** Folder holding `streams/` and `consumers/`; default: `nats/definitions` found from process.cwd(). */
  readonly dir?: string;
  /** Variables for `${VAR}` placeholders; default process.env. */
  readonly env?: Variables;
  /** Take precedence over `env`, e.g. `{ TALLY_STREAM: 'T_abc' }` in tests. */
  readonly overrides?: Variables;
}

/** Every field of the JetStream API's StreamConfig; anything else in a file is a typo. */
const STREAM_FIELDS = [
  'name',
  'description',
  'subjects',
  'retention',
  'storage',
  'discard',
  'discard_new_per_subject',
  'max_consumers',
  'max_msgs',
  'max_bytes',
  'max_age',
  'max_msgs_per_subject',
  'max_msg_size',
  'num_replicas',
  'no_ack',
  'duplicate_window',
  'placement',
  'mirror',
  'sources',
  'sealed',
  'deny_delete',
  'deny_purge',
  'allow_rollup_hdrs',
  'allow_direct',
  'mirror_direct',
  'republish',
  'metadata',
  'subject_transform',
  'compression',
  'first_seq',
  'consumer_limits',
  'subject_delete_marker_ttl',
  'allow_msg_ttl',
  'allow_msg_schedules',
  'allow_atomic',
  'allow_batched',
  'allow_msg_counter',
  'persist_mode',
] as const satisfies readonly (keyof StreamConfig)[];

const CONSUMER_FIELDS = [
  'durable_name',
  'name',
  'description',
  'ack_policy',
  'deliver_policy',
  'deliver_group',
  'deliver_subject',
  'opt_start_seq',
  'opt_start_time',
  'ack_wait',
  'max_deliver',
  'backoff',
  'filter_subject',
  'filter_subjects',
  'replay_policy',
  'rate_limit_bps',
  'sample_freq',
  'max_waiting',
  'max_ack_pending',
  'flow_control',
  'idle_heartbeat',
  'headers_only',
  'max_batch',
  'max_expires',
  'max_bytes',
  'inactive_threshold',
  'num_replicas',
  'mem_storage',
  'metadata',
  'pause_until',
  'priority_groups',
  'priority_policy',
  'priority_timeout',
] as const satisfies readonly (keyof ConsumerConfig)[];

/** Fields holding a duration in nanoseconds: files may write them as "30s", "2m", "7d". */
const STREAM_DURATIONS: readonly string[] = ['max_age', 'duplicate_window', 'subject_delete_marker_ttl'];
const CONSUMER_DURATIONS: readonly string[] = [
  'ack_wait',
  'inactive_threshold',
  'max_expires',
  'idle_heartbeat',
  'priority_timeout',
];

/** Every duration field of either kind (plus consumer `backoff`, a list of them), e.g. for display. */
export const DURATION_FIELDS: ReadonlySet<string> = new Set([
  ...STREAM_DURATIONS,
  ...CONSUMER_DURATIONS,
  'backoff',
]);

/** Stream and consumer names become subject tokens: no dots, wildcards, whitespace or slashes. */
const NAME = /^[^.*>\s/\\]+$/;

/** Placeholder values that make the definitions use the given names (see @tally/contracts). */
export function streamNameVariables(names: StreamNames): Record<string, string> {
  return { TALLY_STREAM: names.stream, TALLY_SUBJECT_PREFIX: names.subjectPrefix };
}

/** Finds `nats/definitions` in `from` or the nearest folder above it. */
export function findDefinitionsDir(from: string = process.cwd()): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'nats', 'definitions');
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    if (path.dirname(dir) === dir) {
      throw new Error(`cannot find nats/definitions in ${from} or any folder above it`);
    }
  }
}

/** Loads, expands, parses and cross-checks every definition file; throws naming the file at fault. */
export async function loadDefinitions(options: LoadDefinitionsOptions = {}): Promise<NatsDefinitions> {
  const dir = options.dir ?? findDefinitionsDir();
  const env = options.env ?? process.env;
  const overrides = options.overrides ?? {};
  const read = async (sub: string, suffix: string) => {
    const files = await listJson(dir, sub, suffix);
    return Promise.all(
      files.map(async (file) => ({ file, text: await readFile(path.join(dir, file), 'utf8') })),
    );
  };
  const streams = (await read('streams', '.stream.json')).map(({ file, text }) =>
    parseStreamDefinition(text, file, env, overrides),
  );
  const consumers = (await read('consumers', '.consumer.json')).map(({ file, text }) =>
    parseConsumerDefinition(text, file, env, overrides),
  );
  const definitions = { streams, consumers };
  checkDefinitions(definitions);
  return definitions;
}

export function parseStreamDefinition(
  text: string,
  file: string,
  env: Variables,
  overrides: Variables = {},
): StreamDefinition {
  return inFile(file, () => {
    const raw = parseObject(expandPlaceholders(text, env, overrides), 'the file');
    checkFields(raw, STREAM_FIELDS, 'stream');
    const config = convertDurations(raw, STREAM_DURATIONS);
    checkName(config.name, 'name');
    if (config.subjects !== undefined && !isStringArray(config.subjects)) {
      throw new Error('"subjects" must be an array of strings');
    }
    return { kind: 'stream', file, config: config as StreamDefinitionConfig };
  });
}

export function parseConsumerDefinition(
  text: string,
  file: string,
  env: Variables,
  overrides: Variables = {},
): ConsumerDefinition {
  return inFile(file, () => {
    const raw = parseObject(expandPlaceholders(text, env, overrides), 'the file');
    const extra = Object.keys(raw).filter((key) => key !== 'stream' && key !== 'config');
    if (extra.length > 0) {
      throw new Error(`unknown top-level field(s) ${extra.join(', ')}: expected only "stream" and "config"`);
    }
    checkName(raw.stream, 'stream');
    const rawConfig = parseObject(raw.config, '"config"');
    checkFields(rawConfig, CONSUMER_FIELDS, 'consumer');
    const config = convertDurations(rawConfig, CONSUMER_DURATIONS);
    if (config.backoff !== undefined) {
      if (!Array.isArray(config.backoff)) throw new Error('"backoff" must be an array of durations');
      config.backoff = config.backoff.map(parseDuration);
    }
    checkName(config.durable_name, 'config.durable_name');
    if (config.name !== undefined && config.name !== config.durable_name) {
      throw new Error('"name" and "durable_name" differ; set only durable_name');
    }
    // The server replaces ack_wait with backoff[0]; a different ack_wait would never converge.
    const backoff = config.backoff as number[] | undefined;
    if (backoff?.length && config.ack_wait !== undefined && backoff[0] !== config.ack_wait) {
      throw new Error(
        '"ack_wait" must equal the first "backoff" step (the server uses backoff[0] as ack_wait)',
      );
    }
    return {
      kind: 'consumer',
      file,
      stream: raw.stream as string,
      config: config as ConsumerDefinitionConfig,
    };
  });
}

/** Cross-file rules: unique names, and every consumer's stream is defined. */
function checkDefinitions({ streams, consumers }: NatsDefinitions): void {
  const streamFiles = new Map<string, string>();
  for (const { file, config } of streams) {
    const other = streamFiles.get(config.name);
    if (other) throw new Error(`${file}: stream ${config.name} is already defined in ${other}`);
    streamFiles.set(config.name, file);
  }
  const consumerFiles = new Map<string, string>();
  for (const { file, stream, config } of consumers) {
    if (!streamFiles.has(stream)) {
      throw new Error(
        `${file}: stream ${stream} is not defined in streams/ (defined: ${[...streamFiles.keys()].join(', ')})`,
      );
    }
    const key = `${stream}/${config.durable_name}`;
    const other = consumerFiles.get(key);
    if (other) throw new Error(`${file}: consumer ${key} is already defined in ${other}`);
    consumerFiles.set(key, file);
  }
}

async function listJson(dir: string, sub: string, suffix: string): Promise<string[]> {
  const folder = path.join(dir, sub);
  if (!existsSync(folder)) return [];
  const names = (await readdir(folder)).filter((name) => name.endsWith('.json')).sort();
  const wrong = names.filter((name) => !name.endsWith(suffix));
  if (wrong.length > 0) {
    throw new Error(`${sub}/${wrong[0]}: files in ${sub}/ must be named <name>${suffix}`);
  }
  return names.map((name) => `${sub}/${name}`);
}

function inFile<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

function parseObject(value: unknown, what: string): Record<string, unknown> {
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${what} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function checkFields(config: Record<string, unknown>, known: readonly string[], kind: string): void {
  const unknown = Object.keys(config).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `unknown ${kind} field(s) ${unknown.join(', ')} (see the JetStream API's ${kind} config)`,
    );
  }
}

function convertDurations(
  config: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  const out = { ...config };
  for (const field of fields) {
    if (out[field] === undefined) continue;
    try {
      out[field] = parseDuration(out[field]);
    } catch (err) {
      throw new Error(`"${field}": ${(err as Error).message}`);
    }
  }
  return out;
}

function checkName(value: unknown, field: string): void {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new Error(`"${field}" must be a non-empty name without dots, wildcards, spaces or slashes`);
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
