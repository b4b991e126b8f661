import { describe, expect, it } from 'vitest';
import { loadAggregatorConfig } from './aggregator.config.js';

const base = { TALLY_API_KEYS: 'k=*' };

describe('loadAggregatorConfig', () => {
  it('has working defaults: port 3001, the aggregator consumer on every branch, 60 buckets, 5 min lateness', () => {
    const config = loadAggregatorConfig(base);
    expect(config).toMatchObject({
      port: 3001,
      consumer: 'aggregator',
      filterSubject: 'sales.>',
      checkpoint: { bucket: 'SALES_aggregator', intervalMs: 10_000 },
    });
    expect(config.layout.allowedLatenessMs).toBe(300_000);
    expect(config.layout.windows.map((w) => [w.name, w.bucketMs])).toEqual([
      ['1m', 1000],
      ['5m', 5000],
      ['15m', 15_000],
      ['1h', 60_000],
      ['24h', 1_440_000],
    ]);
  });

  it('flushes to embedded chdb in ./data/clickhouse unless CLICKHOUSE_URL names a server, or ClickHouse is off', () => {
    expect(loadAggregatorConfig(base).clickhouse).toMatchObject({
      mode: 'embedded',
      dataPath: expect.stringMatching(/data\/clickhouse$/),
    });
    expect(
      loadAggregatorConfig({ ...base, CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_PASSWORD: 'pw' })
        .clickhouse,
    ).toEqual({
      mode: 'server',
      url: 'http://ch:8123',
      username: 'default',
      password: 'pw',
      database: 'tally',
      requestTimeoutMs: 30_000,
    });
    expect(loadAggregatorConfig({ ...base, AGGREGATOR_CLICKHOUSE: 'off' }).clickhouse).toBeUndefined();
    expect(loadAggregatorConfig({ ...base, AGGREGATOR_FAULT_KILL: 'with-buffer:2' }).flush.fault).toEqual({
      point: 'with-buffer',
      blocks: 2,
    });
  });

  it('derives the filter and the checkpoint bucket from the stream names', () => {
    const config = loadAggregatorConfig({ ...base, TALLY_STREAM: 'S2', TALLY_SUBJECT_PREFIX: 'shop' });
    expect(config.filterSubject).toBe('shop.>');
    expect(config.checkpoint.bucket).toBe('S2_aggregator');
  });

  it.each([
    [{ AGGREGATOR_BUCKETS_PER_WINDOW: '7' }, /AGGREGATOR_BUCKETS_PER_WINDOW=7.*whole milliseconds/],
    [{ AGGREGATOR_ALLOWED_LATENESS: '25h' }, /must not exceed the longest window/],
    [{ AGGREGATOR_CONSUMER: 'a.b' }, /AGGREGATOR_CONSUMER=a.b: must be 1-64 of/],
    [{ AGGREGATOR_PULL_MAX_WAIT: '500ms' }, /AGGREGATOR_PULL_MAX_WAIT: must be at least 1s/],
    [{ AGGREGATOR_LEASE_TTL: '1s' }, /AGGREGATOR_LEASE_TTL: must be at least 3s/],
    [{ AGGREGATOR_PORT: 'x' }, /AGGREGATOR_PORT=x: must be an integer/],
    [{ AGGREGATOR_CLICKHOUSE: 'maybe' }, /AGGREGATOR_CLICKHOUSE=maybe: must be one of on, off/],
    [{ CLICKHOUSE_URL: 'tcp://x:9000' }, /CLICKHOUSE_URL: must be an http\(s\) URL/],
    [
      { AGGREGATOR_FAULT_KILL: 'sometimes' },
      /AGGREGATOR_FAULT_KILL=sometimes: must be after-insert:<blocks>/,
    ],
  ])('refuses %j naming the variable and the rule', (env, message) => {
    expect(() => loadAggregatorConfig({ ...base, ...env })).toThrow(message);
  });
});
