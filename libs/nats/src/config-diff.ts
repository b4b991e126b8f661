import { formatDuration } from '@tally/common';
import { DURATION_FIELDS } from './definitions.js';

/**
 * Comparing a definition with what the server has. Only the fields the definition sets count:
 * the server fills in many defaults, and those are not ours to fight over.
 */
export interface FieldDiff {
  readonly field: string;
  /** What the server has now (undefined when it does not report the field). */
  readonly server: unknown;
  /** What the definition file says. */
  readonly wanted: unknown;
}

export type DefinitionKind = 'stream' | 'consumer';

/**
 * Fields the server refuses to change on an existing stream or consumer (checked on nats-server
 * 2.9.10; later servers relax a few, e.g. consumer filter subjects). Changing them means deleting
 * and re-creating, which loses messages or acknowledgement state: a human decision, never ours.
 */
const IMMUTABLE: Readonly<Record<DefinitionKind, readonly string[]>> = {
  stream: [
    'name',
    'storage',
    'retention',
    'max_consumers',
    'first_seq',
    'mirror',
    'allow_msg_counter',
    'persist_mode',
  ],
  consumer: [
    'durable_name',
    'name',
    'deliver_policy',
    'ack_policy',
    'replay_policy',
    'max_waiting',
    'opt_start_seq',
    'opt_start_time',
    'deliver_group',
    'flow_control',
    'idle_heartbeat',
  ],
};

/** Flags the server lets you set but never clear again. */
const ONE_WAY: Readonly<Record<DefinitionKind, readonly string[]>> = {
  stream: ['sealed', 'deny_delete', 'deny_purge'],
  consumer: [],
};

/** Fields of `wanted` whose value differs from `server`; nested objects compare only the keys set. */
export function diffConfig(wanted: object, server: object): FieldDiff[] {
  const have = server as Record<string, unknown>;
  return Object.entries(wanted)
    .filter(([field, value]) => value !== undefined && !sameValue(value, have[field]))
    .map(([field, value]) => ({ field, server: have[field], wanted: value }));
}

/** Why these differences cannot be applied by an update: one message per field, empty when they can. */
export function updateConflicts(kind: DefinitionKind, diffs: readonly FieldDiff[]): string[] {
  const remedy =
    kind === 'stream'
      ? 'to change it, back up and delete the stream (its messages go with it), then apply again'
      : 'to change it, delete the consumer (it restarts per its deliver_policy), then apply again';
  return diffs.flatMap((diff) => {
    const what = `${formatValue(diff.field, diff.server)} on the server, ${formatValue(diff.field, diff.wanted)} in the definition`;
    if (IMMUTABLE[kind].includes(diff.field)) {
      return [`${diff.field} cannot be changed on an existing ${kind} (${what}); ${remedy}`];
    }
    if (ONE_WAY[kind].includes(diff.field) && diff.server === true) {
      return [`${diff.field} cannot be turned off once set (${what}); ${remedy}`];
    }
    return [];
  });
}

/** `max_bytes: 5368709120 -> 10737418240`, `max_age: 1d -> 7d` (server -> definition). */
export function formatFieldDiff(diff: FieldDiff): string {
  return `${diff.field}: ${formatValue(diff.field, diff.server)} -> ${formatValue(diff.field, diff.wanted)}`;
}

function formatValue(field: string, value: unknown): string {
  if (value === undefined) return '(unset)';
  if (DURATION_FIELDS.has(field)) {
    if (typeof value === 'number') return formatDuration(value);
    if (Array.isArray(value)) {
      return `[${value.map((v) => (typeof v === 'number' ? formatDuration(v) : String(v))).join(', ')}]`;
    }
  }
  return JSON.stringify(value);
}

function sameValue(wanted: unknown, server: unknown): boolean {
  // The server leaves out fields at their zero value (Go's omitempty): absent == false/0/""/[].
  if (server === undefined || server === null) return isZero(wanted);
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(server) &&
      wanted.length === server.length &&
      wanted.every((item, i) => sameValue(item, server[i]))
    );
  }
  if (isPlainObject(wanted)) {
    if (!isPlainObject(server)) return false;
    return Object.entries(wanted).every(([key, value]) => sameValue(value, server[key]));
  }
  return wanted === server;
}

function isZero(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.values(value).every(isZero);
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
