import { describe, expect, it } from 'vitest';
import { diffConfig, formatFieldDiff, updateConflicts } from './config-diff.js';

describe('diffConfig', () => {
  it('compares only the fields the definition sets, ignoring server defaults', () => {
    const server = { name: 'SALES', max_bytes: 10, max_consumers: -1, sealed: false, allow_direct: false };
    expect(diffConfig({ name: 'SALES', max_bytes: 10 }, server)).toEqual([]);
  });

  it('reports each differing field with both values', () => {
    expect(diffConfig({ max_bytes: 20, discard: 'new' }, { max_bytes: 10, discard: 'old' })).toEqual([
      { field: 'max_bytes', server: 10, wanted: 20 },
      { field: 'discard', server: 'old', wanted: 'new' },
    ]);
  });

  it('treats a field the server leaves out as its zero value (Go omitempty)', () => {
    expect(diffConfig({ deny_purge: false, description: '', num_replicas: 0, sources: [] }, {})).toEqual([]);
    expect(diffConfig({ deny_purge: true }, {})).toEqual([
      { field: 'deny_purge', server: undefined, wanted: true },
    ]);
  });

  it('compares arrays element by element, in order', () => {
    expect(diffConfig({ subjects: ['a.>'] }, { subjects: ['a.>'] })).toEqual([]);
    expect(diffConfig({ subjects: ['a.>'] }, { subjects: ['a.>', 'b.>'] })).toHaveLength(1);
    expect(diffConfig({ backoff: [1, 2] }, { backoff: [2, 1] })).toHaveLength(1);
  });

  it('compares nested objects by the keys the definition sets (the server may add its own)', () => {
    const server = { metadata: { owner: 'tally', '_nats.ver': '2.12.0' } };
    expect(diffConfig({ metadata: { owner: 'tally' } }, server)).toEqual([]);
    expect(diffConfig({ metadata: { owner: 'ops' } }, server)).toHaveLength(1);
  });
});

describe('updateConflicts', () => {
  it('names a stream field the server cannot update, with both values', () => {
    const [problem] = updateConflicts('stream', [{ field: 'storage', server: 'memory', wanted: 'file' }]);
    expect(problem).toMatch(
      /^storage cannot be changed on an existing stream \("memory" on the server, "file"/,
    );
  });

  it('flags retention and consumer policies too, but not limits', () => {
    expect(
      updateConflicts('stream', [{ field: 'retention', server: 'interest', wanted: 'limits' }]),
    ).toHaveLength(1);
    expect(
      updateConflicts('consumer', [{ field: 'ack_policy', server: 'none', wanted: 'explicit' }]),
    ).toHaveLength(1);
    expect(updateConflicts('consumer', [{ field: 'max_waiting', server: 1, wanted: 512 }])).toHaveLength(1);
    expect(updateConflicts('stream', [{ field: 'max_bytes', server: 1, wanted: 2 }])).toEqual([]);
    expect(updateConflicts('consumer', [{ field: 'max_ack_pending', server: 1, wanted: 2 }])).toEqual([]);
  });

  it('allows turning deny_delete on but not off', () => {
    expect(updateConflicts('stream', [{ field: 'deny_delete', server: undefined, wanted: true }])).toEqual(
      [],
    );
    expect(updateConflicts('stream', [{ field: 'deny_delete', server: true, wanted: false }])[0]).toMatch(
      /deny_delete cannot be turned off/,
    );
  });
});

describe('formatFieldDiff', () => {
  it('shows server -> definition, durations the way files write them', () => {
    expect(formatFieldDiff({ field: 'max_bytes', server: 5, wanted: 10 })).toBe('max_bytes: 5 -> 10');
    expect(formatFieldDiff({ field: 'max_age', server: 86_400e9, wanted: 604_800e9 })).toBe(
      'max_age: 1d -> 7d',
    );
    expect(formatFieldDiff({ field: 'backoff', server: undefined, wanted: [30e9, 60e9] })).toBe(
      'backoff: (unset) -> [30s, 1m]',
    );
  });
});
